/**
 * `lanes cluster` (`npm run cluster`): a real Temporal cluster on this machine for people without Docker — the
 * Temporal server at docker-compose.yml's version on PostgreSQL (Debian's, installed when missing as root), the
 * namespace, the lane search attributes and the shared evidence store — and the lines each worker host and the CLI
 * need. Runs until Ctrl-C. Workers are started separately (`lanes worker`), one per host, as in a deployment.
 */
import { join } from 'node:path';
import { startCluster } from '../../server/cluster';
import { startTestPostgres } from '../../server/test-postgres';
import { configFromEnv } from '../../worker/config';
import { bold } from '../output';
import { UserError } from '../user-error';
import type { Command } from './types';

const help = `lanes cluster [--port <n>] [--ui-port <n>] [--postgres-url <superuser url>]

Starts a real Temporal cluster on 127.0.0.1: the Temporal server (built once with Go into ~/.cache/gated-lanes)
with its persistence and visibility in PostgreSQL, the namespace (TEMPORAL_NAMESPACE, default "default"), the lane
search attributes, the Temporal Web UI, and the shared evidence store every worker and the CLI use (LANES_EVIDENCE_URL). Its state
(config, passwords, server log) is kept in $LANES_HOME/cluster and reused by the next start.

  --port           the frontend's gRPC port (default 7233)
  --ui-port        the Temporal Web UI's port (default 8233; the UI server is built with Go too, once)
  --postgres-url   a superuser URL of a PostgreSQL server of yours; without it, Debian's PostgreSQL runs from a
                   data directory of our own (installed with apt-get when missing and run as root)

Ctrl-C stops the server (and the PostgreSQL server this command started).`;

const log = (m: string): void => void process.stderr.write(`[lanes cluster] ${m}\n`);

export const cluster: Command = {
  summary: 'run a real Temporal cluster on PostgreSQL here, with the shared evidence store',
  help,
  options: { port: { type: 'string' }, 'ui-port': { type: 'string' }, 'postgres-url': { type: 'string' } },
  async run(flags) {
    const cfg = configFromEnv();
    const portFlag = (name: string, fallback: number) => {
      const n = flags[name] === undefined ? fallback : Number(flags[name]);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UserError(`--${name} must be a port number (got "${String(flags[name])}")`, 2);
      return n;
    };
    const port = portFlag('port', 7233);
    const uiPort = portFlag('ui-port', 8233);
    const ownUrl = flags['postgres-url'] as string | undefined;
    if (ownUrl !== undefined && !/^postgres(ql)?:\/\//.test(ownUrl)) throw new UserError('--postgres-url must be a postgres:// URL of a superuser (it creates the cluster\'s roles and databases)', 2);
    const postgres = ownUrl ? undefined : await startTestPostgres({ instance: 'cluster', log });
    try {
      const running = await startCluster({
        postgresAdminUrl: ownUrl ?? postgres!.adminUrl,
        stateDir: join(cfg.lanesHome, 'cluster'),
        port,
        uiPort,
        namespace: cfg.namespace,
        log,
      }).catch((err: Error) => {
        if (/address already in use|bind/i.test(err.message)) throw new UserError(`port ${port} is in use (another \`npm start\` or cluster?): pass --port\n${err.message}`);
        throw err;
      });
      process.stdout.write(
        [
          '',
          bold(`Temporal ${running.version} cluster is running on PostgreSQL.`),
          `  Temporal Web UI:  ${running.uiUrl}`,
          `  Temporal server:  ${running.address} (namespace ${running.namespace}), log ${running.logFile}`,
          '',
          'On each worker host (its own LANES_HOME), and for the CLI:',
          `  export TEMPORAL_ADDRESS=${running.address}`,
          `  export TEMPORAL_NAMESPACE=${running.namespace} LANES_UI_URL=${running.uiUrl}`,
          `  export LANES_EVIDENCE_URL='${running.evidenceUrl}'`,
          '  export LANES_TRUST_ROOT=<your trust root>     # README: "Trust root"',
          '  # on each worker host: its own worker key, listed under the trust root\'s "workers" (README: trust root, "Worker keys")',
          '  npx lanes keys new --role worker --name <host> --out <dir>',
          '  export LANES_WORKER_KEY=<dir>/<host>.key',
          '  npx lanes worker                             # on each worker host',
          '',
          'Production and clone targets must be postgres:// servers every worker reaches (README: "Run on a cluster").',
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      // `on`, not `once`: a terminal's Ctrl-C reaches npm, its script and us, and the script forwards it again; a
      // second SIGINT must not kill us halfway through stopping the server.
      // The interval keeps Node running: signal listeners alone do not, and the server's process is unref'd.
      const alive = setInterval(() => {}, 1 << 30);
      const how = await new Promise<string | undefined>((resolve) => {
        process.on('SIGINT', () => resolve(undefined));
        process.on('SIGTERM', () => resolve(undefined));
        void running.exited.then(resolve);
      });
      clearInterval(alive);
      if (how) {
        log(`the Temporal server exited by itself (${how}); see ${running.logFile}`);
        return 1;
      }
      log('stopping…');
      await running.teardown();
    } finally {
      await postgres?.teardown();
    }
    return 0;
  },
};
