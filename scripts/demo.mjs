// `npm run demo`: dependencies, the Temporal CLI, the compiled build, then the unattended walk-through
// (src/demo/walkthrough.ts, compiled to dist/demo.js).
// `npm run demo -- --keep` leaves the dev server and Web UI running at the end, until Ctrl-C.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readyEnv } from './ensure-deps.mjs';
import { ensureBuild } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = await readyEnv(root);
await ensureBuild(root);
const r = spawnSync(process.execPath, [join(root, 'dist', 'demo.js'), ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
