/**
 * A real Temporal cluster on this machine, provisioned the way the dev server is (DESIGN.md §Server; issue 15):
 * the Temporal server and its SQL tool at the version docker-compose.yml runs (built once into the cache by
 * provision-temporal.js), its persistence and SQL visibility in PostgreSQL, the namespace registered, the lane search
 * attributes added, and the shared evidence store's database created. Everything listens on 127.0.0.1 only.
 *
 * Used by `lanes cluster` (people without Docker) and by the cluster test, which runs workers on it as separate
 * hosts would. Several clusters can share one PostgreSQL server: each keeps its databases under its own prefix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { freePort } from './dev-server';
import { ensureSearchAttributes } from './namespace-setup';
import { provisionTemporalServer, provisionTemporalUi } from './provision-temporal';
import { LANE_SEARCH_ATTRIBUTES } from '../domain/search-attributes';

type Log = (m: string) => void;

export interface ClusterOptions {
  /** A superuser URL of the PostgreSQL server that keeps the cluster's state (roles and databases are made here). */
  postgresAdminUrl: string;
  /** Config, credentials and the server's log. Reused across starts: the same databases, the same passwords. */
  stateDir: string;
  /** Prefix of the cluster's roles and databases (letters, digits, '_'): several clusters may share one server. */
  prefix?: string;
  /** The frontend's gRPC port on 127.0.0.1 (a free one when absent). */
  port?: number;
  namespace?: string;
  /** Run the Temporal Web UI server on this 127.0.0.1 port too (none when absent). */
  uiPort?: number;
  log?: Log;
}

export interface RunningCluster {
  /** host:port of the frontend, for TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  /** The shared evidence store every worker and the CLI use (LANES_EVIDENCE_URL). */
  evidenceUrl: string;
  version: string;
  /** The Web UI, when `uiPort` was given. */
  uiUrl?: string;
  logFile: string;
  /** The server process (the cluster test kills and restarts nothing here: workers are what it kills). */
  pid: number;
  /** Settles when the server exits, with how it exited. */
  exited: Promise<string>;
  teardown(): Promise<void>;
}

const NAMESPACE_RETENTION_DAYS = 90;
/** Temporal's SQL plugin for PostgreSQL ≥ 12; docker-compose.yml's `DB` says the same (its test checks). */
export const SQL_PLUGIN = 'postgres12';
const READY_TIMEOUT_MS = 120_000;

interface Credentials {
  temporal: string;
  evidence: string;
}

export async function startCluster(opts: ClusterOptions): Promise<RunningCluster> {
  const log: Log = opts.log ?? ((m) => process.stderr.write(`[cluster] ${m}\n`));
  const prefix = opts.prefix ?? 'lanes_';
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(prefix)) throw new Error(`cluster prefix ${JSON.stringify(prefix)} must be 1–31 lowercase letters, digits or "_", starting with a letter`);
  const namespace = opts.namespace ?? 'default';
  const bin = await provisionTemporalServer({ log });
  fs.mkdirSync(join(opts.stateDir, 'config'), { recursive: true, mode: 0o700 });
  const credentials = loadCredentials(join(opts.stateDir, 'credentials.json'));

  const admin = new URL(opts.postgresAdminUrl);
  const pgHost = admin.hostname;
  const pgPort = Number(admin.port || 5432);
  const names = { temporal: `${prefix}temporal`, visibility: `${prefix}temporal_visibility`, evidence: `${prefix}evidence`, evidenceRole: `${prefix}evidence` };
  await ensureDatabases(opts.postgresAdminUrl, names, credentials, log);
  for (const [db, schema] of [
    [names.temporal, 'temporal'],
    [names.visibility, 'visibility'],
  ] as const) {
    await ensureSchema(bin.sqlTool, join(bin.schemaDir, schema, 'versioned'), { host: pgHost, port: pgPort, user: names.temporal, password: credentials.temporal, db }, log);
  }

  const port = opts.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const config = serverConfig({ port, pgHost, pgPort, user: names.temporal, password: credentials.temporal, databases: names, ports: (await freePorts(8)) as [number, number, number, number, number, number, number, number] });
  const configFile = join(opts.stateDir, 'config', 'development.yaml');
  fs.writeFileSync(configFile, stringify(config), { mode: 0o600 });
  const logFile = join(opts.stateDir, 'temporal-server.log');
  const server = spawnServer(bin.server, opts.stateDir, logFile);
  log(`Temporal server ${bin.version} (pid ${server.pid}) starting on ${address}; log ${logFile}`);
  let exited: string | null = null;
  const exitedPromise = new Promise<string>((resolve) =>
    server.once('exit', (code, signal) => resolve((exited = signal ? `signal ${signal}` : `code ${code}`))),
  );

  let ui: ChildProcess | undefined;
  const teardown = async () => {
    ui?.kill('SIGTERM');
    if (exited === null) {
      server.kill('SIGTERM');
      const gone = await waitFor(() => exited !== null, 15_000);
      if (!gone) server.kill('SIGKILL');
    }
  };
  let uiUrl: string | undefined;
  try {
    await ready(address, namespace, () => exited, logFile, log);
    if (opts.uiPort !== undefined) {
      const uiServer = await provisionTemporalUi({ log });
      const uiRoot = join(opts.stateDir, 'ui');
      fs.mkdirSync(join(uiRoot, 'config'), { recursive: true });
      // Same-origin only: the UI's API is served by this process, and no other site's page may call it.
      const uiConfig = { temporalGrpcAddress: address, host: '127.0.0.1', port: opts.uiPort, enableUi: true, defaultNamespace: namespace, cors: { allowOrigins: [] } };
      fs.writeFileSync(join(uiRoot, 'config', 'development.yaml'), stringify(uiConfig));
      ui = spawnLogged(uiServer.path, ['--root', uiRoot, '--config', 'config', '--env', 'development', 'start'], uiRoot, join(opts.stateDir, 'temporal-ui.log'));
      uiUrl = `http://127.0.0.1:${opts.uiPort}`;
      await waitForHttp(uiUrl, 30_000, join(opts.stateDir, 'temporal-ui.log'));
    }
  } catch (err) {
    await teardown();
    throw err;
  }
  const evidenceUrl = pgUrl(pgHost, pgPort, names.evidenceRole, credentials.evidence, names.evidence);
  return { address, namespace, evidenceUrl, version: bin.version, ...(uiUrl ? { uiUrl } : {}), logFile, pid: server.pid!, exited: exitedPromise, teardown };
}

function loadCredentials(file: string): Credentials {
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Credentials>;
    if (c.temporal && c.evidence) return { temporal: c.temporal, evidence: c.evidence };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
  }
  // base64url: nothing to escape in a URL, a YAML string or an SQL literal. Applied to the roles at every start.
  const c: Credentials = { temporal: randomBytes(24).toString('base64url'), evidence: randomBytes(24).toString('base64url') };
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(c)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
  return c;
}

function pgUrl(host: string, port: number, user: string, password: string, db: string): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(db)}`;
}

/**
 * The cluster's roles and databases, idempotently: Temporal's role owns its two databases; the evidence store has a
 * role of its own that can reach nothing of Temporal's (workers and the CLI hold its URL, not Temporal's).
 */
async function ensureDatabases(
  adminUrl: string,
  names: { temporal: string; visibility: string; evidence: string; evidenceRole: string },
  credentials: Credentials,
  log: Log,
): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    for (const [role, password] of [
      [names.temporal, credentials.temporal],
      [names.evidenceRole, credentials.evidence],
    ] as const) {
      const exists = (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount;
      await c.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${c.escapeIdentifier(role)} LOGIN NOSUPERUSER PASSWORD ${c.escapeLiteral(password)}`);
    }
    for (const [db, owner] of [
      [names.temporal, names.temporal],
      [names.visibility, names.temporal],
      [names.evidence, names.evidenceRole],
    ] as const) {
      if ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db])).rowCount) continue;
      log(`creating database ${db}`);
      await c.query(`CREATE DATABASE ${c.escapeIdentifier(db)} OWNER ${c.escapeIdentifier(owner)}`);
      await c.query(`REVOKE ALL ON DATABASE ${c.escapeIdentifier(db)} FROM PUBLIC`);
    }
  } finally {
    await c.end();
  }
}

/** Temporal's schema through its own SQL tool: set up once (version 0.0), then brought to the binary's version. */
async function ensureSchema(sqlTool: string, versionedDir: string, db: { host: string; port: number; user: string; password: string; db: string }, log: Log): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl(db.host, db.port, db.user, db.password, db.db) });
  await c.connect();
  const versioned = await c
    .query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'`)
    .then((r) => (r.rowCount ?? 0) > 0)
    .finally(() => c.end());
  // The password goes through the environment, never the command line (`ps` shows arguments to every user).
  const env = { ...process.env, SQL_PASSWORD: db.password };
  const common = ['--plugin', SQL_PLUGIN, '--ep', db.host, '-p', String(db.port), '-u', db.user, '--db', db.db];
  if (!versioned) await runTool(sqlTool, [...common, 'setup-schema', '-v', '0.0'], env, `set up the schema of ${db.db}`);
  await runTool(sqlTool, [...common, 'update-schema', '-d', versionedDir], env, `update the schema of ${db.db}`);
  log(`schema of ${db.db} is current`);
}

function runTool(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out = (out + d).slice(-4000)));
    child.stderr.on('data', (d) => (out = (out + d).slice(-4000)));
    child.once('error', (err) => reject(new Error(`cannot ${what}: ${err.message}`)));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`temporal-sql-tool could not ${what} (exit ${code}):\n${out}`))));
  });
}

/**
 * `n` distinct ports free on 127.0.0.1, below 32768: the server records its membership ports in a smallint column,
 * and the kernel's ephemeral ports (what `freePort` gets) lie above it.
 */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    if (!ports.has(candidate) && (await portFree(candidate))) ports.add(candidate);
  }
  return [...ports];
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * The server's configuration: every service on 127.0.0.1 (`bindOnLocalHost`), SQL persistence and SQL visibility
 * on PostgreSQL, no archival, no metrics or pprof listener (one less port open).
 */
function serverConfig(o: {
  port: number;
  pgHost: string;
  pgPort: number;
  user: string;
  password: string;
  databases: { temporal: string; visibility: string };
  ports: [number, number, number, number, number, number, number, number];
}): unknown {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: SQL_PLUGIN,
      databaseName,
      connectAddr: `${o.pgHost}:${o.pgPort}`,
      connectProtocol: 'tcp',
      user: o.user,
      password: o.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const [http, history, matching, worker, mFrontend, mHistory, mMatching, mWorker] = o.ports;
  const service = (grpcPort: number, membershipPort: number, extra: object = {}) => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra } });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: 4,
      datastores: { default: store(o.databases.temporal, 20), visibility: store(o.databases.visibility, 4) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: service(o.port, mFrontend, { httpPort: http }),
      history: service(history, mHistory),
      matching: service(matching, mMatching),
      worker: service(worker, mWorker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${o.port}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
  };
}

function spawnServer(server: string, root: string, logFile: string): ChildProcess {
  // --allow-no-auth: like the dev server, this cluster trusts whoever reaches 127.0.0.1; the product's authority
  // is in the owners' signatures, not in Temporal's authorizer (README: "Secured clusters" for TLS).
  return spawnLogged(server, ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], root, logFile);
}

/** A server process writing to `logFile`, unref'd: whoever started it stops it (teardown), not its exit. */
function spawnLogged(cmd: string, args: string[], cwd: string, logFile: string): ChildProcess {
  const fd = fs.openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', fd, fd] });
    child.unref();
    return child;
  } finally {
    fs.closeSync(fd);
  }
}

async function waitForHttp(url: string, ms: number, logFile: string): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(300)) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
  }
  throw new Error(`the Temporal Web UI did not answer on ${url} within ${ms / 1000} s; its log (${logFile}) ends:\n${tailOf(logFile)}`);
}

/**
 * Waits until the frontend answers, then registers the namespace and the search attributes, and waits until a
 * visibility query naming them is accepted: the frontend learns both from caches that refresh every few seconds, and
 * a lane started before then would be refused.
 */
async function ready(address: string, namespace: string, exited: () => string | null, logFile: string, log: Log): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const fail = (why: string) => new Error(`the Temporal server ${why}; its log (${logFile}) ends:\n${tailOf(logFile)}`);
  let connection: Connection | undefined;
  while (!connection) {
    if (exited()) throw fail(`exited (${exited()})`);
    if (Date.now() > deadline) throw fail(`did not answer on ${address} within ${READY_TIMEOUT_MS / 1000} s`);
    connection = await Connection.connect({ address, connectTimeout: 2_000 }).catch(() => undefined);
    if (!connection) await sleep(500);
  }
  try {
    const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      for (let last = ''; ; await sleep(1_000)) {
        if (exited()) throw fail(`exited (${exited()})`);
        if (Date.now() > deadline) throw fail(`did not ${what} within ${READY_TIMEOUT_MS / 1000} s (last error: ${last})`);
        try {
          return await fn();
        } catch (err) {
          last = (err as Error).message;
        }
      }
    };
    await attempt('register the namespace', async () => {
      try {
        await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION_DAYS * 24 * 3600 * 1000) });
        log(`registered namespace ${namespace}`);
      } catch (err) {
        if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
      }
    });
    await attempt('add the search attributes', async () => {
      const added = await ensureSearchAttributes(connection, namespace);
      if (added.length) log(`added search attributes ${added.join(', ')}`);
    });
    const probe = LANE_SEARCH_ATTRIBUTES.map((a) => `${a.name} IS NULL`).join(' AND ');
    await attempt('accept queries on the search attributes', () => connection.workflowService.countWorkflowExecutions({ namespace, query: probe }));
  } finally {
    await connection.close();
  }
}

/** The log's last lines, JSON lines cut down to their level, message and error (the stack traces run to pages). */
function tailOf(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return '(no log)';
  }
  return text
    .split('\n')
    .filter(Boolean)
    .slice(-8)
    .map((line) => {
      try {
        const j = JSON.parse(line) as { level?: string; msg?: string; error?: string };
        return `  ${j.level}: ${j.msg}${j.error ? ` (${j.error})` : ''}`;
      } catch {
        return `  ${line}`;
      }
    })
    .join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (cond()) return true;
  return cond();
}
