#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the checkout needs no build step before `npx lanes`.
'use strict';
require('tsx/cjs');
const { main } = require('../src/cli/main.ts');
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
