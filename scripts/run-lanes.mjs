// What `npm start` and `npm run cluster` share: dependencies, the compiled build (dist/, rebuilt only when sources
// changed), then one `lanes` command in a child process that outlives neither Ctrl-C nor a supervisor's TERM.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { checkNode, ensureDeps } from './ensure-deps.mjs';
import { ensureBuild } from './build.mjs';

export async function runLanes(command) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  checkNode();
  ensureDeps(root);
  await ensureBuild(root);
  const child = spawn(process.execPath, [join(root, 'bin', 'lanes.js'), command, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  // The terminal's Ctrl-C reaches the child directly; forward TERM so a supervisor can stop us too.
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
