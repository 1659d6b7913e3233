/**
 * Structural half of the core promise: only src/workflows/gate.ts may reach the production activities. The
 * production worker registers them, and its interceptor and the point of action verify their requests; nothing
 * else mentions them.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const ALLOWED = new Set([
  'src/workflows/gate.ts',
  'src/activities/production.ts',
  'src/worker/production-worker.ts',
  'src/worker/production-interceptor.ts',
  'src/worker/point-of-action.ts',
]);
const PRODUCTION_REFERENCE = /activities\/production['"]|\bapplyProductionStep\b|\brollbackProductionStep\b|\bProductionActivities\b|\bcreateProductionActivities\b/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

export function offenders(files: { path: string; text: string }[]): string[] {
  return files.filter((f) => !ALLOWED.has(f.path) && PRODUCTION_REFERENCE.test(f.text)).map((f) => f.path);
}

describe('only gate.ts reaches production activities', () => {
  const files = sources(join(ROOT, 'src')).map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }));

  it('finds no other module referencing them', () => {
    expect(files.some((f) => f.path === 'src/workflows/gate.ts' && PRODUCTION_REFERENCE.test(f.text))).toBe(true);
    expect(offenders(files)).toEqual([]);
  });

  it('would catch a lane that proxies them directly (the check can fail)', () => {
    const sneaky = { path: 'src/workflows/execution.ts', text: "import type { ProductionActivities } from '../activities/production';" };
    expect(offenders([...files, sneaky])).toEqual(['src/workflows/execution.ts']);
  });

  it('keeps workflow code free of I/O, clocks and node:crypto imports', () => {
    const workflowFiles = files.filter((f) => f.path.startsWith('src/workflows/'));
    const bad = workflowFiles.filter((f) => /from ['"](node:|fs|crypto|child_process|@electric-sql)/.test(f.text) || /from ['"]\.\.\/activities\/(?!lane-request|index)/.test(f.text.replace(/import type[^;]+;/g, '')));
    expect(bad.map((f) => f.path)).toEqual([]);
  });
});
