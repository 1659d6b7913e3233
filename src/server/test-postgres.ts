/**
 * A real PostgreSQL server for the test suite, from the distribution's packages (Debian: `postgresql`), run from our
 * own data directory — not Debian's pg_ctlcluster/systemd cluster — so tests never depend on, or disturb, a server
 * someone else manages.
 *
 * - `GL_TEST_PG_URL` set: that server is used as is (nothing started, nothing stopped).
 * - Otherwise the newest /usr/lib/postgresql/<major>/bin (or `postgres` + `initdb` on PATH) is used; when there is
 *   none and we are root with apt-get, `apt-get install -y --no-install-recommends postgresql` installs it.
 * - PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (created by the Debian
 *   package), else as a system user `gatedlanes` created here. As any other user it runs as that user.
 * - One data directory per major version is initialised once and reused; each run starts the server on a free
 *   127.0.0.1 port with fsync off. TCP logins need a password (scram-sha-256), so tests can check passwords never leak;
 *   the Unix socket (in a directory only the run user and root can enter) is `trust`, and is how roles are set up.
 * - The passwords are generated once and kept in `credentials.json` (mode 600) next to the data directory.
 * - A server still running on the data directory (from a run that crashed, or a run going on right now) is reused.
 *   Runs register while they use the server; the last one to finish stops it, so concurrent runs do not pull the
 *   server from under each other and no server outlives the runs that used it. A lock file serialises start and stop.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { freePort } from './dev-server';
import os from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';
import { cacheRoot } from './provision-temporal';

export interface TestPostgres {
  /** `lanes_test` (LOGIN, CREATEDB, not a superuser) over TCP with its password. */
  url: string;
  /** The superuser over TCP with its password (the same URL as `url` with GL_TEST_PG_URL). */
  adminUrl: string;
  /** `SHOW server_version`. */
  version: string;
  teardown(): Promise<void>;
}

const ADMIN_ROLE = 'lanes_admin';
const TEST_ROLE = 'lanes_test';
const FALLBACK_RUN_USER = 'gatedlanes';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
const LOCK_TIMEOUT_MS = 180_000;

type Log = (m: string) => void;

interface Binaries {
  dir: string;
  major: string;
}

interface RunUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** Whether processes must switch to this user (we are root). */
  switchTo: boolean;
}

interface Layout {
  base: string;
  data: string;
  sock: string;
  log: string;
  credentials: string;
  lock: string;
  users: string;
}

interface Credentials {
  admin: string;
  test: string;
}

export interface StartOptions {
  log?: Log;
  /**
   * A server of its own with its own data directory (`postgres-<major>-<instance>`), e.g. `cluster` for the one
   * `lanes cluster` keeps Temporal's state in, so it never shares data, credentials or lifetime with the tests'.
   */
  instance?: string;
}

export async function startTestPostgres(opts: StartOptions = {}): Promise<TestPostgres> {
  const log: Log = opts.log ?? ((m) => process.stderr.write(`[postgres] ${m}\n`));
  const external = process.env.GL_TEST_PG_URL;
  if (external && !opts.instance) return useExternal(external, log);

  let bin = findBinaries();
  if (!bin) {
    await installPostgres(log);
    bin = findBinaries();
    if (!bin)
      throw new Error(
        'apt-get installed "postgresql" but no server binaries turned up in /usr/lib/postgresql/*/bin; install a PostgreSQL server package by hand, or set GL_TEST_PG_URL',
      );
  }
  const user = runUser(log);
  const layout = prepareLayout(opts.instance ? `${bin.major}-${opts.instance}` : bin.major, user, log);
  const credentials = loadCredentials(layout.credentials);
  const lease = join(layout.users, `${process.pid}.${randomBytes(4).toString('hex')}`);

  const server = await withLock(layout.lock, log, async () => {
    let running = await reuseRunning(layout, log);
    const reused = running !== null;
    if (!running) {
      if (!fs.existsSync(join(layout.data, 'PG_VERSION'))) await initdb(bin, user, layout, log);
      else ensureOwner(layout.data, user);
      running = await startServer(bin, user, layout, log);
    }
    try {
      await setUpRoles(layout.sock, running.port, credentials);
      const url = tcpUrl(TEST_ROLE, credentials.test, running.port);
      const version = await serverVersion(url);
      fs.writeFileSync(lease, '');
      return { ...running, url, version, reused };
    } catch (err) {
      if (liveLeases(layout.users).length === 0) await stopServer(layout, log).catch(() => {});
      throw err;
    }
  });
  log(
    `PostgreSQL ${server.version} ${server.reused ? 'already running' : 'started'} on 127.0.0.1:${server.port} (data ${layout.data}, log ${layout.log})`,
  );

  let tornDown = false;
  return {
    url: server.url,
    adminUrl: tcpUrl(ADMIN_ROLE, credentials.admin, server.port),
    version: server.version,
    async teardown() {
      if (tornDown) return;
      tornDown = true;
      await withLock(layout.lock, log, async () => {
        fs.rmSync(lease, { force: true });
        const others = liveLeases(layout.users);
        if (others.length > 0) log(`leaving PostgreSQL running for ${others.length} other test run(s) using it`);
        else await stopServer(layout, log);
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// External server

async function useExternal(url: string, log: Log): Promise<TestPostgres> {
  let version: string;
  try {
    version = await serverVersion(url);
  } catch (err) {
    throw new Error(`GL_TEST_PG_URL is set (${redact(url)}) but connecting to it failed: ${message(err)}. Fix the URL or unset GL_TEST_PG_URL to let the tests start their own server.`);
  }
  log(`using PostgreSQL ${version} at ${redact(url)} (GL_TEST_PG_URL)`);
  return { url, adminUrl: url, version, teardown: async () => {} };
}

// ---------------------------------------------------------------------------------------------------------------
// Binaries and installation

function findBinaries(): Binaries | null {
  const root = '/usr/lib/postgresql';
  const versions = safeReaddir(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = join(root, v, 'bin');
    if (isExecutable(join(dir, 'postgres')) && isExecutable(join(dir, 'initdb'))) return { dir, major: v };
  }
  // Not Debian's layout (or only symlinks such as /usr/local/bin/postgres): take `postgres` from PATH.
  const onPath = which('postgres');
  if (!onPath) return null;
  const dir = dirname(fs.realpathSync(onPath));
  if (!isExecutable(join(dir, 'initdb'))) return null;
  const out = spawnSync(join(dir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const major = /\b(\d+)(?:\.\d+)?/.exec(out)?.[1];
  return major ? { dir, major } : null;
}

async function installPostgres(log: Log): Promise<void> {
  const notPossible =
    process.platform !== 'linux'
      ? `this is ${process.platform}, not Linux`
      : process.getuid?.() !== 0
        ? 'not running as root'
        : !which('apt-get')
          ? 'apt-get is not available'
          : null;
  if (notPossible)
    throw new Error(
      `no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and for postgres + initdb on PATH), and they cannot be installed automatically: ${notPossible}. ` +
        'Install a PostgreSQL server (Debian/Ubuntu: `sudo apt-get install postgresql`), or set GL_TEST_PG_URL to a server you run.',
    );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => run('apt-get', args, { env, onLine: (l) => log(`apt-get: ${l}`) });
  // Wait for a dpkg lock held by someone else (another test run installing at the same time) instead of failing.
  const install = ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', 'postgresql'];
  log('no PostgreSQL server binaries found; installing the Debian package "postgresql" (once per machine)');
  let r = await apt(install);
  if (r.code !== 0 && /Unable to locate package|has no installation candidate|Failed to fetch|404\s+Not Found/.test(r.output)) {
    log('the package lists look empty or stale; running apt-get update and trying again');
    const u = await apt(['-o', 'DPkg::Lock::Timeout=300', 'update']);
    if (u.code !== 0) throw new Error(`apt-get update failed (${exitText(u)}):\n${tail(u.output)}\nFix the APT sources or network, or install PostgreSQL yourself / set GL_TEST_PG_URL.`);
    r = await apt(install);
  }
  if (r.code !== 0)
    throw new Error(
      `apt-get install postgresql failed (${exitText(r)}):\n${tail(r.output)}\nFix the cause above (network, APT sources, dpkg lock), or install PostgreSQL yourself / set GL_TEST_PG_URL.`,
    );
  log('installed the Debian package "postgresql"');
}

// ---------------------------------------------------------------------------------------------------------------
// Run user and directories

function runUser(log: Log): RunUser {
  if (process.getuid?.() !== 0) {
    const me = os.userInfo();
    return { name: me.username, uid: me.uid, gid: me.gid, home: me.homedir, switchTo: false };
  }
  for (const name of ['postgres', FALLBACK_RUN_USER]) {
    const u = lookupUser(name);
    if (u && u.uid !== 0) return u;
  }
  if (!which('useradd'))
    throw new Error(
      `PostgreSQL refuses to run as root, and there is neither a "postgres" user nor useradd to create "${FALLBACK_RUN_USER}". Create a non-root system user named postgres or ${FALLBACK_RUN_USER}, or run the tests as a non-root user.`,
    );
  log(`creating system user "${FALLBACK_RUN_USER}" to run PostgreSQL (it refuses to run as root)`);
  const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', FALLBACK_RUN_USER], {
    encoding: 'utf8',
  });
  const u = lookupUser(FALLBACK_RUN_USER);
  if (!u)
    throw new Error(
      `useradd --system ${FALLBACK_RUN_USER} failed (${exitText({ code: r.status, output: r.error?.message ?? '' })}): ${(r.stderr ?? '').trim()}. Create a non-root system user named postgres or ${FALLBACK_RUN_USER} yourself.`,
    );
  return u;
}

function lookupUser(name: string): RunUser | null {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  const f = r.status === 0 ? (r.stdout ?? '').trim().split(':') : [];
  if (f.length < 7) return null;
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/', switchTo: true };
}

/**
 * Where the data lives: `<cache>/postgres-<major>` (`~/.cache/gated-lanes` unless GATED_LANES_CACHE/XDG_CACHE_HOME
 * say otherwise), when the run user can reach it. As root, $HOME is usually /root with mode 700, which the run user
 * cannot traverse; rather than loosen the permissions of root's home (or of its cache, which holds other things),
 * the data then goes to /var/tmp/gated-lanes-postgres-<major>: /var/tmp is meant for files kept across reboots, and
 * the directory is created and checked to belong to root, so another local user cannot plant it.
 */
function prepareLayout(major: string, user: RunUser, log: Log): Layout {
  if (!/^[0-9A-Za-z.-]+$/.test(major)) throw new Error(`PostgreSQL instance name ${JSON.stringify(major)} must be letters, digits, "." or "-"`);
  const preferred = join(cacheRoot(), `postgres-${major}`);
  let base = preferred;
  if (user.switchTo && !reachable(preferred, user)) {
    base = `/var/tmp/gated-lanes-postgres-${major}`;
    const st = lstatOrNull(base);
    if (st && (!st.isDirectory() || st.uid !== process.getuid?.()))
      throw new Error(`${base} exists but is not a directory owned by root; remove it (it is where the test PostgreSQL keeps its data when ${preferred} is out of reach of user ${user.name})`);
  }
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  if (base === preferred && user.switchTo) fs.chmodSync(base, 0o755);
  if (user.switchTo && !reachable(base, user))
    throw new Error(`user ${user.name} cannot reach ${base} (a parent directory is not searchable by it); make the path searchable, or set GATED_LANES_CACHE to a directory it can reach`);

  const layout: Layout = {
    base,
    data: join(base, 'data'),
    sock: join(base, 'run'),
    log: join(base, 'server.log'),
    credentials: join(base, 'credentials.json'),
    lock: join(base, 'lock'),
    users: join(base, 'users'),
  };
  // sun_path holds 107 bytes; the socket is <sock>/.s.PGSQL.<port>.
  if (Buffer.byteLength(layout.sock) > 90)
    throw new Error(`the socket directory ${layout.sock} is too long for a Unix socket path; set GATED_LANES_CACHE to a shorter directory`);
  fs.mkdirSync(layout.users, { recursive: true });
  fs.mkdirSync(layout.sock, { recursive: true, mode: 0o700 });
  if (user.switchTo) fs.chownSync(layout.sock, user.uid, user.gid);
  fs.chmodSync(layout.sock, 0o700);
  if (base !== preferred && !fs.existsSync(layout.data)) log(`keeping the data under ${base}: user ${user.name} cannot reach ${preferred}`);
  return layout;
}

/** Whether `user` can search every existing directory on the way to `path` (primary group only: conservative). */
function reachable(path: string, user: RunUser): boolean {
  for (let p = path; ; p = dirname(p)) {
    const st = statOrNull(p);
    if (st) {
      const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
      if (!(st.mode & bit)) return false;
    }
    if (p === dirname(p)) return true;
  }
}

/** A data directory made by an earlier run as another user (e.g. `gatedlanes` before apt-get created `postgres`). */
function ensureOwner(dir: string, user: RunUser): void {
  if (!user.switchTo || fs.statSync(dir).uid === user.uid) return;
  const r = spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chown -R ${user.name} ${dir} failed: ${(r.stderr ?? '').trim()}; delete ${dir} to start afresh`);
}

function loadCredentials(file: string): Credentials {
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Credentials>;
    if (typeof c.admin === 'string' && c.admin && typeof c.test === 'string' && c.test) return { admin: c.admin, test: c.test };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
  }
  // base64url: nothing to escape in a URL or an SQL literal. The roles get these passwords on every start, so a
  // lost or regenerated file simply takes effect.
  const c: Credentials = { admin: randomBytes(24).toString('base64url'), test: randomBytes(24).toString('base64url') };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(c)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// Server lifecycle

async function initdb(bin: Binaries, user: RunUser, layout: Layout, log: Log): Promise<void> {
  // Into a scratch directory renamed at the end, so an interrupted initdb never leaves a half-made `data`.
  const tmp = `${layout.data}.initdb`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(layout.data, { recursive: true, force: true });
  fs.mkdirSync(tmp, { mode: 0o700 });
  if (user.switchTo) fs.chownSync(tmp, user.uid, user.gid);
  log(`initialising a PostgreSQL ${bin.major} data directory in ${layout.data} (once)`);
  const r = await run(
    join(bin.dir, 'initdb'),
    ['-D', tmp, '-U', ADMIN_ROLE, '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--no-locale', '--no-sync'],
    { user, cwd: layout.base },
  );
  if (r.code !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`initdb failed (${exitText(r)}) running as ${user.name}:\n${tail(r.output)}`);
  }
  fs.renameSync(tmp, layout.data);
}

interface Running {
  port: number;
  child?: ChildProcess;
}

async function startServer(bin: Binaries, user: RunUser, layout: Layout, log: Log): Promise<Running> {
  let lastError = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const logFd = fs.openSync(layout.log, 'w');
    let child: ChildProcess;
    try {
      child = spawn(
        join(bin.dir, 'postgres'),
        ['-D', layout.data, '-p', String(port), '-k', layout.sock, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
        { ...asUser(user), cwd: layout.base, stdio: ['ignore', logFd, logFd] },
      );
    } finally {
      fs.closeSync(logFd);
    }
    // Not detached: a Ctrl-C to the test run reaches the server too (SIGINT = fast shutdown).
    child.unref();
    let exited: string | null = null;
    child.once('error', (err) => (exited ??= `could not be started: ${err.message}`));
    child.once('exit', (code, signal) => (exited ??= `exited with ${signal ? `signal ${signal}` : `code ${code}`}`));

    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (exited === null && Date.now() < deadline) {
      try {
        const c = await socketClient(layout.sock, port);
        await c.end();
        return { port, child };
      } catch {
        await sleep(100);
      }
    }
    const serverLog = readTail(layout.log);
    if (exited === null) {
      child.kill('SIGQUIT');
      throw new Error(`PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s (port ${port}); server log ${layout.log}:\n${serverLog}`);
    }
    lastError = `postgres ${exited}; server log ${layout.log}:\n${serverLog}`;
    if (!/could not bind|could not create any TCP\/IP sockets|Address already in use/i.test(serverLog)) break;
    log(`port ${port} was taken before the server could bind it; trying another`);
  }
  throw new Error(`${lastError}\nIf the data directory is damaged, delete ${layout.data} and it will be created afresh.`);
}

/** A live server on our data directory (postmaster.pid: pid, data dir, start time, port, socket dir, …). */
async function reuseRunning(layout: Layout, log: Log): Promise<Running | null> {
  const info = readPidFile(layout.data);
  if (!info) return null;
  if (!isOurPostmaster(info.pid, layout.data)) {
    // The pid is gone or now belongs to another process: postgres would refuse to start on a file naming a live pid.
    fs.rmSync(join(layout.data, 'postmaster.pid'), { force: true });
    return null;
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const c = await socketClient(info.sockDir || layout.sock, info.port);
      await c.end();
      if (info.sockDir !== layout.sock) break; // started by hand with another socket dir: restart it our way
      return { port: info.port };
    } catch {
      if (Date.now() > deadline) break;
      await sleep(200);
    }
  }
  log(`a PostgreSQL server (pid ${info.pid}) holds ${layout.data} but cannot be used; stopping it`);
  await stopServer(layout, log);
  return null;
}

async function stopServer(layout: Layout, log: Log): Promise<void> {
  const pidFile = join(layout.data, 'postmaster.pid');
  const info = readPidFile(layout.data);
  if (!info || !isOurPostmaster(info.pid, layout.data)) return;
  const gone = () => !fs.existsSync(pidFile) || !isOurPostmaster(info.pid, layout.data);
  const waitGone = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (gone()) return true;
    return gone();
  };
  process.kill(info.pid, 'SIGINT'); // fast shutdown: roll back open transactions, disconnect clients
  if (await waitGone(STOP_TIMEOUT_MS)) return;
  log(`PostgreSQL (pid ${info.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; sending SIGQUIT`);
  process.kill(info.pid, 'SIGQUIT'); // immediate shutdown: crash recovery on next start
  if (!(await waitGone(5_000))) throw new Error(`PostgreSQL (pid ${info.pid}) on ${layout.data} does not stop; kill it by hand`);
}

function readPidFile(data: string): { pid: number; port: number; sockDir: string } | null {
  let lines: string[];
  try {
    lines = fs.readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  return { pid, port, sockDir: (lines[4] ?? '').trim() };
}

/**
 * `pid` is a live postmaster on `data`: its working directory is the data directory (postgres chdirs there) or its
 * argv names it. Not a zombie, nor an unrelated process that inherited the pid of a server gone long ago.
 */
function isOurPostmaster(pid: number, data: string): boolean {
  if (!fs.existsSync('/proc/self')) return pidAlive(pid); // no procfs: trust the pid
  try {
    if (fs.readlinkSync(`/proc/${pid}/cwd`) === fs.realpathSync(data)) return true;
  } catch {
    // gone, a zombie, or not ours to inspect
  }
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(data);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Roles and connections

async function setUpRoles(sock: string, port: number, credentials: Credentials): Promise<void> {
  const c = await socketClient(sock, port);
  try {
    // ALTER/CREATE ROLE take no bind parameters; the passwords are base64url and quoted by escapeLiteral anyway.
    await c.query(`ALTER ROLE ${ADMIN_ROLE} PASSWORD ${c.escapeLiteral(credentials.admin)}`);
    const exists = (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [TEST_ROLE])).rowCount;
    await c.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${TEST_ROLE} LOGIN CREATEDB NOSUPERUSER PASSWORD ${c.escapeLiteral(credentials.test)}`);
  } finally {
    await c.end();
  }
}

async function socketClient(sock: string, port: number): Promise<pg.Client> {
  const c = new pg.Client({ host: sock, port, user: ADMIN_ROLE, database: 'postgres', connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
    return c;
  } catch (err) {
    void c.end().catch(() => {});
    throw err;
  }
}

async function serverVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await c.connect();
    const r = await c.query<{ server_version: string }>('SHOW server_version');
    return r.rows[0]?.server_version ?? 'unknown';
  } finally {
    await c.end().catch(() => {});
  }
}

function tcpUrl(role: string, password: string, port: number): string {
  return `postgres://${role}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Lock and leases

async function withLock<T>(file: string, log: Log, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readOrEmpty(file));
    const age = Date.now() - (statOrNull(file)?.mtimeMs ?? Date.now());
    // An empty file is one being written right now — unless it has stayed empty for long.
    if ((holder > 0 && !pidAlive(holder)) || (!holder && age > 10_000)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`gave up waiting for ${file}, held by pid ${holder}; if that is no test run, delete the file`);
    if (!told) log(`waiting for another test run (pid ${holder || '?'}) to finish starting or stopping PostgreSQL`);
    told = true;
    await sleep(200);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Lease files `<pid>.<random>` of runs still alive; those of dead runs are removed. */
function liveLeases(dir: string): string[] {
  return safeReaddir(dir).filter((name) => {
    if (pidAlive(Number(name.split('.')[0]))) return true;
    fs.rmSync(join(dir, name), { force: true });
    return false;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/**
 * Node sets uid/gid (and drops supplementary groups) in the child itself, so the child is postgres — no runuser/su
 * in between that would, on a signal, SIGKILL the server after a grace period.
 */
function asUser(user: RunUser): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    LANG: 'C',
  };
  return user.switchTo ? { uid: user.uid, gid: user.gid, env } : { env };
}

function run(
  cmd: string,
  args: string[],
  o: { user?: RunUser; cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (l: string) => void } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    let partial = '';
    const child = spawn(cmd, args, { ...(o.user ? asUser(o.user) : { env: o.env }), cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (b: Buffer) => {
      const s = b.toString();
      output = (output + s).slice(-20_000);
      if (!o.onLine) return;
      const lines = (partial + s).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) o.onLine(l);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => resolve({ code: null, output: `${output}${err.message}` }));
    child.once('close', (code) => {
      if (partial.trim()) o.onLine?.(partial);
      resolve({ code, output });
    });
  });
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

function readOrEmpty(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

function readTail(p: string, lines = 20): string {
  const s = readOrEmpty(p);
  return s ? tail(s, lines) : '(empty)';
}

function tail(s: string, lines = 15): string {
  return s.trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n');
}

function exitText(r: { code: number | null; output: string }): string {
  return r.code === null ? 'could not run it' : `exit code ${r.code}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
