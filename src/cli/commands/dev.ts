/**
 * `lanes dev` (what `npm start` runs): the embedded stack on one machine. Starts a persisted Temporal dev server
 * with the Web UI (unless TEMPORAL_ADDRESS points at one), prepares the namespace, makes a development trust root
 * if none is configured, runs the lane worker, and stops everything on Ctrl-C.
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { installLanesLogger } from '../../worker/runtime-logger';
import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../../server/dev-server';
import { ensureDevTrustRoot } from '../../server/dev-trust-root';
import { ensureRetention, ensureSearchAttributes } from '../../server/namespace-setup';
import { createLaneWorkers } from '../../worker/lane-worker';
import { configFromEnv, usesNamedCluster } from '../../worker/config';
import { UserError } from '../user-error';
import { connectionOptions, securityFromEnv } from '../../worker/connection-options';
import { bold } from '../output';
import type { Command } from './types';

const help = `lanes dev

Runs Gated Lanes on its embedded defaults: a Temporal dev server persisted to .lanes/temporal.db, the Web UI on
http://localhost:8233, and the lane worker. Set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE to use an existing
cluster instead, LANES_TRUST_ROOT to use your own trust root, LANES_DEV_PORT / LANES_DEV_UI_PORT for other ports
than 7233 / 8233. Ctrl-C stops everything.`;

const log = (m: string): void => void process.stderr.write(`[lanes dev] ${m}\n`);

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UserError(`${name} must be a port number (got "${raw}")`, 2);
  return n;
}

export const dev: Command = {
  summary: 'run the embedded stack: dev server, Web UI, worker (npm start)',
  help,
  options: {},
  async run() {
    const cfg = configFromEnv();
    // Checked before anything starts or is written: a server of one's own never gets development keys.
    if (!cfg.trustRootPath && usesNamedCluster()) {
      throw new UserError(`TEMPORAL_ADDRESS (${cfg.address}) names a Temporal server of your own, so no development trust root is made or used: set LANES_TRUST_ROOT to the trust root file listing your owners and operators (README: "Trust root")`, 2);
    }
    mkdirSync(cfg.lanesHome, { recursive: true });
    // The banner below is what a person needs; the SDK's INFO lines (bundler output) would bury it.
    installLanesLogger();
    let server: TestWorkflowEnvironment | undefined;
    let address = cfg.address;
    let uiUrl = cfg.uiUrl;
    if (!process.env.TEMPORAL_ADDRESS) {
      const port = portFromEnv('LANES_DEV_PORT', 7233);
      const uiPort = portFromEnv('LANES_DEV_UI_PORT', 8233);
      log('starting the Temporal dev server…');
      server = await startDevServer({ dbFilename: join(cfg.lanesHome, 'temporal.db'), port, uiPort, namespace: cfg.namespace, log, quietStdout: true });
      address = server.address;
      if (!process.env.LANES_UI_URL) uiUrl = `http://localhost:${uiPort}`;
    }
    // Stopped in reverse order of starting: worker, its connection, the client connection, then the server.
    const stops: (() => Promise<void>)[] = [];
    const stopAll = async (): Promise<void> => {
      for (const stop of stops.reverse()) await stop().catch((e) => log(`while stopping: ${(e as Error).message}`));
    };
    if (server) stops.push(() => server!.teardown());
    try {
      // Our own dev server speaks plain gRPC; a cluster named by TEMPORAL_ADDRESS gets the TLS/API-key options.
      const secure = server ? { address } : connectionOptions(address, securityFromEnv());
      const connection = await Connection.connect(secure);
      stops.push(() => connection.close());
      const added = await ensureSearchAttributes(connection, cfg.namespace);
      if (added.length > 0) log(`registered search attributes: ${added.join(', ')}`);
      await ensureRetention(connection, cfg.namespace);

      let trustRootPath = cfg.trustRootPath;
      let keys: { owner: string; operator: string } | undefined;
      if (!trustRootPath) {
        const devRoot = ensureDevTrustRoot(cfg.lanesHome);
        trustRootPath = devRoot.trustRootPath;
        keys = { owner: relative(process.cwd(), devRoot.ownerKeyPath), operator: relative(process.cwd(), devRoot.operatorKeyPath) };
        log(`${devRoot.created ? 'created' : 'using'} the DEVELOPMENT trust root ${relative(process.cwd(), trustRootPath)} — its keys are for trying things out, never for production`);
      }

      log('starting the worker…');
      const nativeConnection = await NativeConnection.connect(secure);
      stops.push(() => nativeConnection.close());
      const worker = await createLaneWorkers({
        connection: nativeConnection,
        namespace: cfg.namespace,
        taskQueue: cfg.taskQueue,
        activities: { trustRootPath, lanesHome: cfg.lanesHome },
      });
      const running = worker.run();
      stops.push(async () => {
        // The SDK already shuts workers down on SIGINT/SIGTERM; shutdown() only asks those still running.
        worker.shutdown();
        await running;
      });

      const example = 'examples/demo/change.json';
      process.stdout.write(
        [
          '',
          bold('Gated Lanes is running.'),
          `  Temporal Web UI:  ${uiUrl}`,
          `  Temporal server:  ${address} (namespace ${cfg.namespace})`,
          `  Task queue:       ${cfg.taskQueue}`,
          '',
          'Try it (in another terminal):',
          `  npx lanes start rehearsal --change ${example} --key ${keys?.operator ?? '<operator key>'}`,
          '  npx lanes status <workflowId>',
          `  npx lanes grant <workflowId> AUTHORIZE_REHEARSAL --key ${keys?.owner ?? '<owner key>'}`,
          '',
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve, reject) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
        running.catch(reject);
      });
      log('stopping…');
    } finally {
      await stopAll();
    }
    return 0;
  },
};
