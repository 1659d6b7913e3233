// `npm test`: dependencies, the Temporal CLI (built once into ~/.cache/gated-lanes), then vitest.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readyEnv, runWithOwnTmp } from './ensure-deps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = await readyEnv(root);
const args = process.argv.slice(2);
if (args[0] === '--record-histories') {
  env.RECORD_HISTORIES = '1';
  // Replay reads the histories this run rewrites: run it afterwards (`npm test`), not alongside.
  args.splice(0, 1, 'test/lanes', 'test/security', '--exclude', 'test/lanes/replay.test.ts');
}
const r = runWithOwnTmp('lanes-test-run-', env, (runEnv) => spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...args], { cwd: root, env: runEnv, stdio: 'inherit' }));
process.exit(r.status ?? 1);
