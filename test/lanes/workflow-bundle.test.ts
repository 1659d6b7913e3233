/**
 * The prebuilt workflow bundle (scripts/build.mjs → dist/workflow-bundle.js, which the run and compiled workers
 * use) preloads the stateless libraries every workflow uses, so a worker holds one copy of them, not one per
 * cached workflow (src/workflows/shared-libraries.ts).
 */
import { describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';

describe('the prebuilt workflow bundle', () => {
  const code = readFileSync(inject('temporal').bundlePath, 'utf8');
  const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1] ?? '';

  it('preloads the shared libraries module', () => {
    expect(preload).toContain('"./src/workflows/shared-libraries.ts"');
  });

  it('holds one copy of zod and of the noble curves: the ES builds the domain code imports, never a CommonJS second copy', () => {
    const modules = [...code.matchAll(/^\/\*{3}\/ "\.\/node_modules\/([^"]+)"/gm)].map((m) => m[1]!);
    const zod = modules.filter((m) => m.startsWith('zod/'));
    const curves = modules.filter((m) => m.startsWith('@noble/curves/'));
    expect(zod.length).toBeGreaterThan(10);
    expect(zod.filter((m) => m.endsWith('.cjs'))).toEqual([]);
    expect(curves).toContain('@noble/curves/esm/ed25519.js');
    expect(curves.filter((m) => !m.startsWith('@noble/curves/esm/'))).toEqual([]);
  });
});
