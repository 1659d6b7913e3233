/**
 * The Temporal CLI lookup order (DESIGN.md §Server), run as the real script with a controlled environment.
 * Fake binaries stand in for what is outside the system under test: other people's `temporal` and `go`.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'src', 'server', 'provision-temporal.js');

function fakeExecutable(dir: string, name: string, body = 'echo fake'): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function provision(env: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT], { env: { HOME: process.env.HOME ?? '/tmp', ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout.trim(), stderr: r.stderr };
}

describe('Temporal CLI provisioning order', () => {
  const root = mkdtempSync(join(tmpdir(), 'lanes-provision-'));
  const emptyCache = join(root, 'empty-cache');
  const nodeDir = join(process.execPath, '..');

  it('uses TEMPORAL_CLI first, and refuses a TEMPORAL_CLI that is not executable', () => {
    fakeExecutable(join(root, "bin1"), "temporal"); // on PATH, yet TEMPORAL_CLI wins
    const explicit = fakeExecutable(join(root, 'explicit'), 'my-temporal');
    expect(provision({ TEMPORAL_CLI: explicit, PATH: join(root, 'bin1'), GATED_LANES_CACHE: emptyCache }).stdout).toBe(explicit);
    const bad = provision({ TEMPORAL_CLI: join(root, 'nope'), PATH: join(root, 'bin1'), GATED_LANES_CACHE: emptyCache });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/TEMPORAL_CLI=.*nope is not an executable file; fix the path or unset TEMPORAL_CLI/);
  });

  it('then `temporal` on PATH, then the cache', () => {
    const onPath = fakeExecutable(join(root, 'bin2'), 'temporal');
    const cache = join(root, 'cache');
    const cached = fakeExecutable(join(cache, 'temporal-cli-1.5.1'), 'temporal');
    expect(provision({ PATH: join(root, 'bin2'), GATED_LANES_CACHE: cache }).stdout).toBe(onPath);
    expect(provision({ PATH: join(root, 'empty-bin'), GATED_LANES_CACHE: cache }).stdout).toBe(cached);
  });

  it('with no binary and a Go older than 1.25: the SDK download when online, else an error that says how to fix it', async () => {
    fakeExecutable(join(root, 'oldgo'), 'go', 'echo go1.20.1');
    const r = provision({ PATH: `${join(root, 'oldgo')}:${nodeDir}`, GATED_LANES_CACHE: emptyCache });
    const online = await lookup('temporal.download').then(
      () => true,
      () => false,
    );
    if (online) {
      expect(r.stdout).toBe('sdk-download');
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/found go1\.20, but ≥ 1\.25 is needed/);
      expect(r.stderr).toMatch(/set TEMPORAL_CLI=\/path\/to\/temporal/);
      expect(r.stderr).toMatch(/install Go ≥ 1\.25 and rerun/);
    }
  });

  it('the provisioned binary is a real Temporal CLI 1.5.1', () => {
    const path = process.env.TEMPORAL_CLI;
    expect(path, 'npm test provisions the CLI and passes TEMPORAL_CLI').toBeTruthy();
    expect(execFileSync(path!, ['--version'], { encoding: 'utf8' })).toMatch(/temporal version 1\.5\.1/);
  });
});
