// `npm run demo`: dependencies, the Temporal CLI, then the unattended walk-through (src/demo/walkthrough.ts).
// `npm run demo -- --keep` leaves the dev server and Web UI running at the end, until Ctrl-C.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { checkNode, ensureDeps } from './ensure-deps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
checkNode();
ensureDeps(root);
const { provisionTemporalCli } = createRequire(import.meta.url)('../src/server/provision-temporal.js');
const cli = await provisionTemporalCli().catch((err) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
const env = { ...process.env };
if (cli.kind === 'existing-path') env.TEMPORAL_CLI = cli.path;
const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'demo', 'walkthrough.ts'), ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
