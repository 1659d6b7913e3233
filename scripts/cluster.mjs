// `npm run cluster`: dependencies, the compiled build, then `lanes cluster` (a real Temporal cluster on PostgreSQL;
// the server is built with Go into ~/.cache/gated-lanes the first time).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { checkNode, ensureDeps } from './ensure-deps.mjs';
import { ensureBuild } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
checkNode();
ensureDeps(root);
await ensureBuild(root);
const child = spawn(process.execPath, [join(root, 'bin', 'lanes.js'), 'cluster', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
