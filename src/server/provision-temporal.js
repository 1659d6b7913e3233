#!/usr/bin/env node
/**
 * Finds or builds the Temporal CLI (dev server + Web UI), per DESIGN.md §Server.
 *
 * Plain CommonJS with no npm dependencies on purpose: `npm start` and `npm test` run it before `npm ci`.
 * Order: TEMPORAL_CLI → `temporal` on PATH → our cache → `go install` into the cache (Go ≥ 1.25) → the SDK's own
 * download when online → a clear error saying how to get a binary.
 *
 * Run directly, it prints the executable's path on stdout (progress goes to stderr), or
 * `sdk-download` when the SDK should download the server itself.
 */
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dns = require('node:dns');

const CLI_VERSION = '1.5.1';
/** The Temporal server a cluster runs (`lanes cluster`, the cluster test); docker-compose.yml names the same. */
const SERVER_VERSION = '1.29.1';
/** The Temporal Web UI server a cluster runs beside it; docker-compose.yml's temporalio/ui image has the same version. */
const UI_VERSION = '2.42.1';
const MIN_GO = [1, 25];

function cacheRoot() {
  if (process.env.GATED_LANES_CACHE) return process.env.GATED_LANES_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'gated-lanes');
}

function cachedBinaryPath() {
  return path.join(cacheRoot(), `temporal-cli-${CLI_VERSION}`, 'temporal');
}

function isExecutable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Go's version as [major, minor], or undefined when Go is absent. */
function goVersion(goBin) {
  try {
    const v = execFileSync(goBin, ['env', 'GOVERSION'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /^go(\d+)\.(\d+)/.exec(v.trim());
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  } catch {
    return undefined;
  }
}

function findGo() {
  return onPath('go') || (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

function atLeast(v, min) {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Takes a lock directory so two concurrent runs (say `npm start` and `npm test`) do not build twice.
 * A lock older than an hour is from a dead run and is broken.
 */
async function withBuildLock(dir, log, fn) {
  const lock = path.join(dir, '.build-lock');
  fs.mkdirSync(dir, { recursive: true });
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const age = Date.now() - fs.statSync(lock).mtimeMs;
      if (age > 60 * 60 * 1000) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced) log(`another process is building the Temporal CLI (${lock}); waiting for it…`);
      announced = true;
      await sleep(2000);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * `go install` of `packages` (all at one module version) into `dir`, each binary renamed per `names`
 * (go's name → ours). Built into a staging directory and renamed into place: a crash mid-build never leaves a
 * half-written binary where the cache lookup finds it. `afterBuild(staging)` may add more files (the server's
 * SQL schema) before the rename.
 */
async function goBuild(goBin, log, { dir, label, packages, names, ldflags, afterBuild }) {
  const targets = Object.values(names).map((n) => path.join(dir, n));
  return withBuildLock(dir, log, async () => {
    if (targets.every(isExecutable)) return dir; // built by the run we waited for
    const staging = fs.mkdtempSync(path.join(dir, '.staging-'));
    log(`building ${label} with Go from the module proxy into ${dir}`);
    log('this takes several minutes the first time; later runs reuse the cache');
    const started = Date.now();
    const args = ['install', ...(ldflags ? ['-ldflags', ldflags] : []), ...packages];
    const child = spawn(goBin, args, {
      env: { ...process.env, GOBIN: staging, GOFLAGS: `${process.env.GOFLAGS || ''} -buildvcs=false`.trim() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk) => {
      tail = (tail + chunk.toString()).slice(-4000);
      for (const line of chunk.toString().split('\n')) if (line.startsWith('go: downloading')) log(`  ${line.slice(4)}`);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const beat = setInterval(() => log(`  still building… ${Math.round((Date.now() - started) / 1000)} s`), 20000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearInterval(beat);
    try {
      if (code !== 0 || !Object.keys(names).every((n) => isExecutable(path.join(staging, n)))) {
        throw new ProvisionError(`go install of ${label} failed (exit ${code}):\n${tail}`);
      }
      if (afterBuild) afterBuild(staging, goBin);
      for (const entry of fs.readdirSync(staging)) {
        const to = path.join(dir, names[entry] || entry);
        fs.rmSync(to, { recursive: true, force: true });
        fs.renameSync(path.join(staging, entry), to);
      }
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
    log(`built ${label} in ${Math.round((Date.now() - started) / 1000)} s`);
    return dir;
  });
}

async function goInstall(goBin, log) {
  const target = cachedBinaryPath();
  await goBuild(goBin, log, {
    dir: path.dirname(target),
    label: `Temporal CLI ${CLI_VERSION}`,
    packages: [`github.com/temporalio/cli/cmd/temporal@v${CLI_VERSION}`],
    names: { temporal: 'temporal' },
    ldflags: `-X github.com/temporalio/cli/temporalcli.Version=${CLI_VERSION}`,
  });
  return target;
}

/** True when the SDK's download host resolves: the only case where letting the SDK download can work. */
function online() {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000);
    dns.lookup('temporal.download', (err) => {
      clearTimeout(timer);
      resolve(!err);
    });
  });
}

class ProvisionError extends Error {}

/**
 * @param {{ log?: (msg: string) => void }} [opts]
 * @returns {Promise<{ kind: 'existing-path', path: string, source: string } | { kind: 'sdk-download' }>}
 */
async function provisionTemporalCli(opts = {}) {
  const log = opts.log || ((m) => process.stderr.write(`[temporal-cli] ${m}\n`));
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return { kind: 'existing-path', path: fromEnv, source: 'TEMPORAL_CLI' };
    throw new ProvisionError(`TEMPORAL_CLI=${fromEnv} is not an executable file; fix the path or unset TEMPORAL_CLI`);
  }
  const fromPath = onPath('temporal');
  if (fromPath) return { kind: 'existing-path', path: fromPath, source: 'PATH' };
  const cached = cachedBinaryPath();
  if (isExecutable(cached)) return { kind: 'existing-path', path: cached, source: 'cache' };

  const goBin = findGo();
  const v = goBin && goVersion(goBin);
  if (v && atLeast(v, MIN_GO)) return { kind: 'existing-path', path: await goInstall(goBin, log), source: 'go install' };
  if (await online()) {
    log('no Temporal CLI found and no Go ≥ 1.25; the Temporal SDK will download the dev server');
    return { kind: 'sdk-download' };
  }
  throw new ProvisionError(
    [
      'cannot find or build the Temporal CLI, and the network is not reachable for a download.',
      `Go: ${v ? `found go${v.join('.')}, but ≥ ${MIN_GO.join('.')} is needed` : 'not found'}.`,
      'Do one of:',
      '  - set TEMPORAL_CLI=/path/to/temporal (a Temporal CLI binary, e.g. from https://temporal.io/setup),',
      '  - put `temporal` on PATH,',
      `  - install Go ≥ ${MIN_GO.join('.')} and rerun (the binary is built into ${path.dirname(cached)}).`,
    ].join('\n'),
  );
}

/** Where `provisionTemporalServer` keeps the server, its SQL tool and their PostgreSQL schema. */
function serverCacheDir() {
  return path.join(cacheRoot(), `temporal-server-${SERVER_VERSION}`);
}

/** Makes a copied tree writable by its owner: the Go module cache is read-only, and the cache must stay removable. */
function makeWritable(p) {
  const st = fs.statSync(p);
  fs.chmodSync(p, st.mode | 0o200 | (st.isDirectory() ? 0o100 : 0));
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) makeWritable(path.join(p, e));
}

/**
 * Finds or builds the Temporal server and `temporal-sql-tool` at SERVER_VERSION (both from go.temporal.io/server,
 * which has no replace directives, so plain `go install` works), with the server's PostgreSQL schema copied next to
 * them from the module cache (the SQL tool applies it). TEMPORAL_SERVER_DIR names a directory holding all three
 * instead. Returns the paths.
 *
 * @param {{ log?: (msg: string) => void }} [opts]
 * @returns {Promise<{ server: string, sqlTool: string, schemaDir: string, version: string }>}
 */
async function provisionTemporalServer(opts = {}) {
  const log = opts.log || ((m) => process.stderr.write(`[temporal-server] ${m}\n`));
  const dir = process.env.TEMPORAL_SERVER_DIR || serverCacheDir();
  const paths = {
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    schemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
    version: SERVER_VERSION,
  };
  const ready = () => isExecutable(paths.server) && isExecutable(paths.sqlTool) && fs.existsSync(path.join(paths.schemaDir, 'temporal', 'versioned'));
  if (ready()) return paths;
  if (process.env.TEMPORAL_SERVER_DIR) {
    throw new ProvisionError(`TEMPORAL_SERVER_DIR=${dir} lacks temporal-server, temporal-sql-tool or schema/postgresql/v12; fix it or unset TEMPORAL_SERVER_DIR to build them`);
  }
  const goBin = findGo();
  const v = goBin && goVersion(goBin);
  if (!v || !atLeast(v, MIN_GO)) {
    throw new ProvisionError(
      `cannot build the Temporal server ${SERVER_VERSION}: Go ${v ? `go${v.join('.')} is older than ${MIN_GO.join('.')}` : 'is not installed'}. ` +
        `Install Go ≥ ${MIN_GO.join('.')} (the build fetches modules from the Go module proxy into ${dir}), or set TEMPORAL_SERVER_DIR to a directory with temporal-server, temporal-sql-tool and schema/postgresql/v12.`,
    );
  }
  fs.mkdirSync(dir, { recursive: true });
  await goBuild(goBin, log, {
    dir,
    label: `Temporal server ${SERVER_VERSION} and its SQL tool`,
    packages: [`go.temporal.io/server/cmd/server@v${SERVER_VERSION}`, `go.temporal.io/server/cmd/tools/sql@v${SERVER_VERSION}`],
    names: { server: 'temporal-server', sql: 'temporal-sql-tool' },
    afterBuild(staging, go) {
      const modCache = execFileSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
      const from = path.join(modCache, `go.temporal.io/server@v${SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
      const to = path.join(staging, 'schema', 'postgresql', 'v12');
      fs.cpSync(from, to, { recursive: true });
      makeWritable(path.join(staging, 'schema'));
    },
  });
  if (!ready()) throw new ProvisionError(`the Temporal server build finished but ${dir} is incomplete; delete it and rerun`);
  return paths;
}

/**
 * Finds or builds the Temporal Web UI server at UI_VERSION (github.com/temporalio/ui-server/v2, no replace
 * directives; the UI's assets are embedded in the binary). TEMPORAL_UI_SERVER names a binary instead.
 *
 * @param {{ log?: (msg: string) => void }} [opts]
 * @returns {Promise<{ path: string, version: string }>}
 */
async function provisionTemporalUi(opts = {}) {
  const log = opts.log || ((m) => process.stderr.write(`[temporal-ui] ${m}\n`));
  if (process.env.TEMPORAL_UI_SERVER) {
    if (isExecutable(process.env.TEMPORAL_UI_SERVER)) return { path: process.env.TEMPORAL_UI_SERVER, version: UI_VERSION };
    throw new ProvisionError(`TEMPORAL_UI_SERVER=${process.env.TEMPORAL_UI_SERVER} is not an executable file; fix the path or unset it`);
  }
  const dir = path.join(cacheRoot(), `temporal-ui-${UI_VERSION}`);
  const target = path.join(dir, 'temporal-ui-server');
  if (isExecutable(target)) return { path: target, version: UI_VERSION };
  const goBin = findGo();
  const v = goBin && goVersion(goBin);
  if (!v || !atLeast(v, MIN_GO)) {
    throw new ProvisionError(`cannot build the Temporal Web UI server ${UI_VERSION}: Go ≥ ${MIN_GO.join('.')} is needed (or set TEMPORAL_UI_SERVER to a ui-server binary)`);
  }
  fs.mkdirSync(dir, { recursive: true });
  await goBuild(goBin, log, {
    dir,
    label: `Temporal Web UI server ${UI_VERSION}`,
    packages: [`github.com/temporalio/ui-server/v2/cmd/server@v${UI_VERSION}`],
    names: { server: 'temporal-ui-server' },
  });
  return { path: target, version: UI_VERSION };
}

module.exports = { provisionTemporalCli, provisionTemporalServer, provisionTemporalUi, cachedBinaryPath, cacheRoot, ProvisionError, CLI_VERSION, SERVER_VERSION, UI_VERSION };

if (require.main === module) {
  provisionTemporalCli().then(
    (r) => process.stdout.write(`${r.kind === 'existing-path' ? r.path : 'sdk-download'}\n`),
    (err) => {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    },
  );
}
