#!/usr/bin/env node
// Runs the compiled CLI (dist/cli.js, built from src/ by scripts/build.mjs): no TypeScript is transpiled at run time.
// In a checkout, a source newer than the last build triggers the build first (it rebuilds only what changed, and
// says so on stderr); an image that ships dist/ without src/ skips the check.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const stamp = join(root, 'dist', '.build-stamp.json');

/** True when any build input is newer than the last build (mtimes only: a few hundred stat calls). */
function stale() {
  if (!existsSync(cli) || !existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const newer = (p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return false;
    if (st.mtimeMs > built) return true;
    return st.isDirectory() && readdirSync(p).some((e) => newer(join(p, e)));
  };
  return [join(root, 'package-lock.json'), join(root, 'scripts', 'build.mjs'), join(root, 'src')].some(newer);
}

if (existsSync(join(root, 'src')) && stale()) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    process.stderr.write('error: could not compile the lanes CLI (see above); `node scripts/build.mjs` retries\n');
    process.exit(1);
  }
}
if (!existsSync(cli)) {
  process.stderr.write(`error: ${cli} is missing: this copy of Gated Lanes was not built (run \`node scripts/build.mjs\` in its directory)\n`);
  process.exit(1);
}
const { main } = require(cli);
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
