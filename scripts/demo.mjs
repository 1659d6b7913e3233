// `npm run demo`: dependencies, the Temporal CLI, then the unattended walk-through (src/demo/walkthrough.ts).
// `npm run demo -- --keep` leaves the dev server and Web UI running at the end, until Ctrl-C.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readyEnv } from './ensure-deps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = await readyEnv(root);
const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'demo', 'walkthrough.ts'), ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
