// Installs npm dependencies when they are missing or older than the lockfile. No npm packages needed: this runs
// first on a fresh clone, from `npm start` and `npm test`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 3)) {
    console.error(`Gated Lanes needs Node.js >= 20.3; this is ${process.versions.node}.`);
    process.exit(1);
  }
}

export function ensureDeps(root) {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.error('[setup] installing npm dependencies (npm ci)…');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('[setup] npm ci failed; see the output above.');
    process.exit(r.status ?? 1);
  }
}

/**
 * The environment for a script that needs the Temporal CLI: dependencies checked, the CLI provisioned (built
 * once into the cache), and TEMPORAL_CLI set when it is a binary of ours. Exits with the reason if it cannot be had.
 */
export async function readyEnv(root) {
  checkNode();
  ensureDeps(root);
  const { provisionTemporalCli } = createRequire(import.meta.url)('../src/server/provision-temporal.js');
  const cli = await provisionTemporalCli().catch((err) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
  const env = { ...process.env };
  if (cli.kind === 'existing-path') env.TEMPORAL_CLI = cli.path;
  return env;
}

/**
 * Runs a child (vitest, the benchmarks) with a temporary directory of its own as TMPDIR, removed when it exits: what
 * tests and benchmarks create under os.tmpdir() (lanes homes, PGlite data directories, bench homes of GBs) does not
 * pile up in /tmp run after run.
 */
export function runWithOwnTmp(prefix, env, run) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return run({ ...env, TMPDIR: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
