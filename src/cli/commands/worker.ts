/** `lanes worker`: a lane worker against an existing Temporal (TEMPORAL_ADDRESS), for deployments and Docker. */
import { NativeConnection } from '@temporalio/worker';
import { createLaneWorkers } from '../../worker/lane-worker';
import { configFromEnv } from '../../worker/config';
import { connectionOptions, securityFromEnv } from '../../worker/connection-options';
import { UserError } from '../user-error';
import { installLanesLogger } from '../../worker/runtime-logger';
import { evidenceUrlProblem } from '../../evidence/open-store';
import { loadAttester } from '../../evidence/attestation';
import { redactUrl } from '../../activities/targets/pg-tools';
import type { Command } from './types';

export const worker: Command = {
  summary: 'run a lane worker against TEMPORAL_ADDRESS (needs LANES_TRUST_ROOT)',
  help: `lanes worker

Runs the lane worker and the production worker (queue <LANES_TASK_QUEUE>-production). Environment: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default),
LANES_TASK_QUEUE (gated-lanes), LANES_TRUST_ROOT (required), LANES_HOME (.lanes: evidence, decision packets, PGlite targets),
LANES_EVIDENCE_URL (unset: one machine; postgres://… : the shared evidence store of a cluster of workers on several hosts —
every packet is published there, attested, before its activity completes, and PGlite targets are refused),
LANES_WORKER_KEY (cluster mode: this host's worker key, \`lanes keys new --role worker\`, listed under the trust root's "workers").`,
  options: {},
  async run() {
    const cfg = configFromEnv();
    if (!cfg.trustRootPath) throw new UserError('LANES_TRUST_ROOT is not set: a worker must know which owner keys to trust');
    const evidenceProblem = cfg.evidenceUrl ? evidenceUrlProblem(cfg.evidenceUrl) : undefined;
    if (evidenceProblem) throw new UserError(evidenceProblem);
    if (cfg.evidenceUrl) {
      try {
        await loadAttester(cfg);
      } catch (err) {
        throw new UserError(`this worker cannot run in cluster mode (LANES_EVIDENCE_URL is set): ${(err as Error).message}`);
      }
    }
    installLanesLogger();
    const connection = await NativeConnection.connect(connectionOptions(cfg.address, securityFromEnv()));
    const w = await createLaneWorkers({
      connection,
      namespace: cfg.namespace,
      taskQueue: cfg.taskQueue,
      activities: { trustRootPath: cfg.trustRootPath, lanesHome: cfg.lanesHome, ...(cfg.evidenceUrl ? { evidenceUrl: cfg.evidenceUrl } : {}), ...(cfg.workerKeyPath ? { workerKeyPath: cfg.workerKeyPath } : {}) },
    });
    const evidence = cfg.evidenceUrl ? `shared evidence store ${redactUrl(cfg.evidenceUrl)} (cluster mode, attesting as worker key ${cfg.workerKeyPath})` : `evidence in ${cfg.lanesHome} only (one machine)`;
    process.stderr.write(`[lanes worker] polling ${cfg.taskQueue} and ${w.production.options.taskQueue} on ${cfg.address} (${cfg.namespace}); ${evidence}\n`);
    const stop = (): void => w.shutdown();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await w.run();
    } finally {
      await connection.close();
    }
    return 0;
  },
};
