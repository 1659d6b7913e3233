/**
 * Starts a Temporal dev server (with the Web UI) from the provisioned CLI. Used by `lanes dev` with a persisted
 * SQLite database and by the test suite's global setup with an in-memory one, so both run the same server.
 */
import { createServer } from 'node:net';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { cacheRoot, provisionTemporalCli } from './provision-temporal';

export interface DevServerOptions {
  /** Persist to this SQLite file (WAL); in-memory when absent. */
  dbFilename?: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  log?: (msg: string) => void;
  /**
   * Discard the server's stdout (its own banner: versions, ports, metrics URL), for `lanes dev`, whose banner is
   * the one a person needs. Errors still reach stderr. Only for a provisioned CLI binary (the SDK's download is run
   * as it is).
   */
  quietStdout?: boolean;
}

/**
 * The SDK starts the server with our own stdout and offers no way to redirect it, so a quiet server is the CLI run
 * through a wrapper that discards its stdout (exec: the wrapper's process is the server, and stops as one).
 */
function quietWrapper(cliPath: string): string {
  const path = join(cacheRoot(), `temporal-quiet-${createHash('sha256').update(cliPath).digest('hex').slice(0, 12)}.sh`);
  const script = `#!/bin/sh\n# Written by Gated Lanes (src/server/dev-server.ts): the Temporal CLI with its stdout discarded.\nexec '${cliPath.replace(/'/g, `'\\''`)}' "$@" >/dev/null\n`;
  if (!existsSync(path) || readFileSync(path, 'utf8') !== script) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, script, { mode: 0o755 });
    renameSync(`${path}.tmp`, path);
  }
  return path;
}

/**
 * The dev server runs one history shard, and a shard reads its transfer queue (every workflow and activity task on
 * its way to a worker) at most `history.transferProcessorMaxPollRPS` times a second: 20 by default. Once its burst
 * is spent, under steady work, every dispatch waited ~40 ms (measured: 1–2 ms per dispatch for the first half
 * second, then 40 ms each until the server idles again; a real cluster with PostgreSQL showed 2–3 ms throughout).
 * A lane dispatches some 30 tasks, so on `npm start` it paid over a second for nothing. Raised, not removed: the
 * limit still bounds a runaway.
 */
export const DEV_SERVER_DYNAMIC_CONFIG = ['history.transferProcessorMaxPollRPS=1000', 'history.visibilityProcessorMaxPollRPS=1000'];

export async function startDevServer(opts: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const cli = await provisionTemporalCli({ log: opts.log });
  for (const port of [opts.port, opts.uiPort]) if (port !== undefined) await assertPortFree(port);
  const executable =
    cli.kind === 'existing-path'
      ? ({ type: 'existing-path', path: opts.quietStdout && process.platform !== 'win32' ? quietWrapper(cli.path) : cli.path } as const)
      : ({ type: 'cached-download', downloadDir: join(cacheRoot(), 'sdk-download') } as const);
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      ip: '127.0.0.1',
      namespace: opts.namespace ?? 'default',
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.uiPort !== undefined ? { ui: true, uiPort: opts.uiPort } : { ui: false }),
      ...(opts.dbFilename ? { dbFilename: opts.dbFilename } : {}),
      // WAL keeps the UI's reads from blocking the server's writes; NORMAL is durable against process crashes.
      extraArgs: ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL', ...DEV_SERVER_DYNAMIC_CONFIG.flatMap((v) => ['--dynamic-config-value', v])],
      log: { format: 'pretty', level: 'error' },
    },
  });
}

/** A port the OS says is free on 127.0.0.1 right now (for servers started on ports of their own). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** A clear message beats the server's own bind error buried in its log. */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${port} is already in use — is another \`npm start\` running? Stop it, or set TEMPORAL_ADDRESS to use the server that is already up.`
            : `cannot use port ${port}: ${err.message}`,
        ),
      ),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}
