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

async function goInstall(goBin, log) {
  const target = cachedBinaryPath();
  const dir = path.dirname(target);
  return withBuildLock(dir, log, async () => {
    if (isExecutable(target)) return target; // built by the run we waited for
    const staging = fs.mkdtempSync(path.join(dir, '.staging-'));
    log(`building Temporal CLI ${CLI_VERSION} with Go from the module proxy into ${dir}`);
    log('this takes several minutes the first time; later runs reuse the cache');
    const started = Date.now();
    const child = spawn(
      goBin,
      [
        'install',
        '-ldflags',
        `-X github.com/temporalio/cli/temporalcli.Version=${CLI_VERSION}`,
        `github.com/temporalio/cli/cmd/temporal@v${CLI_VERSION}`,
      ],
      { env: { ...process.env, GOBIN: staging, GOFLAGS: `${process.env.GOFLAGS || ''} -buildvcs=false`.trim() }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
    if (code !== 0 || !isExecutable(path.join(staging, 'temporal'))) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw new ProvisionError(`go install of the Temporal CLI failed (exit ${code}):\n${tail}`);
    }
    // Rename is atomic: a crash mid-build never leaves a half-written binary where the cache lookup finds it.
    fs.renameSync(path.join(staging, 'temporal'), target);
    fs.rmSync(staging, { recursive: true, force: true });
    log(`built ${target} in ${Math.round((Date.now() - started) / 1000)} s`);
    return target;
  });
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

module.exports = { provisionTemporalCli, cachedBinaryPath, cacheRoot, ProvisionError, CLI_VERSION };

if (require.main === module) {
  provisionTemporalCli().then(
    (r) => process.stdout.write(`${r.kind === 'existing-path' ? r.path : 'sdk-download'}\n`),
    (err) => {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    },
  );
}
