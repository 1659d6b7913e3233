// `npm run bench`: dependencies, the compiled build (the CLI start-up figures time bin/lanes.js), then the
// benchmarks (bench/run.ts) through tsx, a development tool. Results: bench/results.{json,md}.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { checkNode, ensureDeps, runWithOwnTmp } from './ensure-deps.mjs';
import { ensureBuild } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
checkNode();
ensureDeps(root);
await ensureBuild(root);
const r = runWithOwnTmp('lanes-bench-run-', process.env, (env) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'run.ts'), ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' }));
process.exit(r.status ?? 1);
