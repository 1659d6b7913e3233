// Compiles Gated Lanes into dist/ so nothing transpiles TypeScript at run time:
//   dist/cli.js, dist/demo.js   the `lanes` CLI (worker included) and the demo, bundled by esbuild with every npm
//                               package left external (libpg-query is WASM, @temporalio/* have native parts: they
//                               load from node_modules as they are);
//   dist/workflow-bundle.js     the workflow code as Temporal's bundler makes it, so a worker starts polling without
//                               running webpack first.
// Each part is rebuilt only when its inputs change: dist/.build-stamp.json records a content hash of everything
// under src/ (plus the lockfile and this script) for the CLI, and of the files the workflow code actually imports
// (plus the lockfile, the SDK version and this script, which holds the bundler's options) for the workflow bundle.
//
// `node scripts/build.mjs` builds; npm start, npm test, npm run demo/bench and bin/lanes.js call ensureBuild().
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENTRIES = { cli: 'src/cli/main.ts', demo: 'src/demo/walkthrough.ts' };
const WORKFLOWS_ENTRY = 'src/workflows/index.ts';
// Loaded once per worker and shared by every workflow (see the module's comment).
const WORKFLOW_PRELOAD = 'src/workflows/shared-libraries.ts';
export const DIST = 'dist';
export const STAMP = join(DIST, '.build-stamp.json');
export const WORKFLOW_BUNDLE = join(DIST, 'workflow-bundle.js');

/** Every file under dir, as paths relative to root with forward slashes, in byte order (a stable hash input). */
function filesUnder(root, dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

function hashFiles(root, files, extra = []) {
  const h = createHash('sha256');
  for (const x of extra) h.update(`${x}\0`);
  for (const f of files) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(root, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

const cliInputs = (root) => [...filesUnder(root, 'src'), 'package-lock.json', 'scripts/build.mjs'];

function readStamp(root) {
  try {
    return JSON.parse(readFileSync(join(root, STAMP), 'utf8'));
  } catch {
    return {};
  }
}

function loadEsbuild(root) {
  try {
    return createRequire(join(root, 'package.json'))('esbuild');
  } catch {
    throw new Error('esbuild is not installed, so the CLI cannot be compiled: run `npm ci` in the project directory (npm start and npm test do it for you)');
  }
}

/** Writes through a temporary name and renames, so a process reading dist/ never sees half a file. */
function writeAtomic(path, data) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

async function buildCli(root, esbuild) {
  const tmp = join(root, DIST, `.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: ENTRIES,
      outdir: tmp,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      sourcemap: 'linked',
      // Lets the worker know it runs compiled, so it takes the prebuilt workflow bundle next to it.
      define: { LANES_COMPILED: 'true' },
      logLevel: 'warning',
    });
    for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(root, DIST, f));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The files the workflow bundle is made of, found by resolving its imports as the bundler does (type-only imports erased). */
async function workflowInputs(root, esbuild) {
  const r = await esbuild.build({ absWorkingDir: root, entryPoints: [WORKFLOWS_ENTRY, WORKFLOW_PRELOAD], bundle: true, outdir: 'unused', write: false, metafile: true, platform: 'node', packages: 'external', logLevel: 'silent' });
  return Object.keys(r.metafile.inputs).map((p) => p.split(sep).join('/')).sort();
}

function sdkVersion(root) {
  return JSON.parse(readFileSync(join(root, 'node_modules', '@temporalio', 'worker', 'package.json'), 'utf8')).version;
}

async function buildWorkflowBundle(root) {
  const { bundleWorkflowCode } = createRequire(join(root, 'package.json'))('@temporalio/worker');
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };
  const { code } = await bundleWorkflowCode({ workflowsPath: join(root, WORKFLOWS_ENTRY), preloadModules: [join(root, WORKFLOW_PRELOAD)], logger: quiet });
  writeAtomic(join(root, WORKFLOW_BUNDLE), code);
}

/**
 * Brings dist/ up to date with src/, building only what changed. Returns what it built. `log` gets one line per
 * part it builds (to stderr by default), so a slow first run says why it is slow.
 */
export async function ensureBuild(root, { log = (m) => process.stderr.write(`[build] ${m}\n`) } = {}) {
  mkdirSync(join(root, DIST), { recursive: true });
  const stamp = readStamp(root);
  const built = [];
  const esbuild = loadEsbuild(root);
  const cli = hashFiles(root, cliInputs(root));
  const cliFresh = stamp.cli === cli && Object.keys(ENTRIES).every((e) => existsSync(join(root, DIST, `${e}.js`)));
  if (!cliFresh) {
    log('compiling the CLI and worker into dist/ (esbuild)…');
    await buildCli(root, esbuild);
    built.push('cli');
  }
  const sdk = sdkVersion(root);
  // This script too: it holds the bundler's options (the preloaded modules).
  const workflows = hashFiles(root, [...(await workflowInputs(root, esbuild)), 'package-lock.json', 'scripts/build.mjs'], [`@temporalio/worker ${sdk}`]);
  if (stamp.workflows !== workflows || !existsSync(join(root, WORKFLOW_BUNDLE))) {
    log('bundling the workflow code into dist/workflow-bundle.js (once per change to the workflow sources)…');
    await buildWorkflowBundle(root);
    built.push('workflows');
  }
  const next = JSON.stringify({ cli, workflows, sdk }, null, 2);
  // Written (or touched) last: its mtime is what bin/lanes.js compares the sources' against.
  if (built.length > 0 || JSON.stringify(stamp, null, 2) !== next) writeAtomic(join(root, STAMP), `${next}\n`);
  else {
    const now = new Date();
    utimesSync(join(root, STAMP), now, now);
  }
  return built;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureBuild(root).then(
    (built) => {
      if (process.argv.includes('--verbose')) process.stderr.write(`[build] ${built.length ? `built ${built.join(', ')}` : 'dist/ is up to date'}\n`);
    },
    (err) => {
      process.stderr.write(`[build] failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
