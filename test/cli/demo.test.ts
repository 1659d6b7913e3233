/**
 * `npm run demo` stays runnable: the walk-through runs unattended, as a child process, against the run's dev
 * server and a throwaway lanes home, and drives the demo change through every lane to a completed execution. It runs
 * compiled (dist/demo.js, what `npm run demo` runs); its UI links follow LANES_UI_URL like every lanes command.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

const WALKTHROUGH = join(__dirname, '..', '..', 'dist', 'demo.js');
const UI = 'http://ui.lanes.test:8080';

describe('npm run demo', () => {
  it('walks the demo change through every lane to a completed execution, printing where to look in the UI', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lanes-demo-'));
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [WALKTHROUGH],
        { env: { ...process.env, TEMPORAL_ADDRESS: inject('temporal').address, LANES_HOME: home, LANES_UI_URL: `${UI}/`, NO_COLOR: '1' }, timeout: 240_000, maxBuffer: 16 << 20 },
        (err, out, errOut) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errOut }),
      ),
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/seal clean: 3 files byte-identical/);
    expect(stdout).toMatch(/^charter of demo-\S+: chartered: in force since \S+, signed by dev-owner$/m);
    expect(stdout).toMatch(/^input surface-map \(sha256 [0-9a-f]{64}\) accepted$/m);
    expect(stdout).toMatch(/operator input [0-9a-f]{16}… recorded in evidence tree [0-9a-f]{16}…  ← closed it/);
    expect(stdout).toMatch(/^COMPLETED {2}rehearsal lane .*$/m);
    for (const moved of ['FIX7-P0-PROD-BIRTH-SURFACE-1 → CLOSED: accepted', 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1 → CLOSED: accepted']) expect(stdout).toContain(moved);
    // One failed execution, half-applied: said so in the status, the packet and under the blocker map, with exactly
    // two options besides HOLD…
    expect(stdout).toMatch(/^production is half-applied: steps qt001-apply applied; options besides HOLD \(the default\):$/m);
    expect(stdout).toMatch(/^qt001-activation +ACTIVATION +FAILED /m);
    expect(stdout).toMatch(/ROLLBACK_PRODUCTION/);
    expect(stdout).toMatch(/RESUME_PRODUCTION_EXECUTION: resume from step qt001-activation/);
    // …recovered by the rollback lane, back to exactly the pre-execution fingerprint.
    expect(stdout).toMatch(/^COMPLETED {2}rollback lane .*$/m);
    expect(stdout).toMatch(/^qt001-apply +APPLY +ROLLED_BACK /m);
    expect(stdout).toMatch(/rollback\.json: restored true: production ([0-9a-f]{16})… == pre-execution \1…$/m);
    // One armed cutover: armed, held back by its live precondition, then applied within its window.
    expect(stdout).toMatch(/^charter of demo-\S+-cutover: chartered: in force since \S+, signed by dev-owner$/m);
    expect(stdout).toMatch(/^qt001-cutover +CUTOVER +RUNNING, armed until \S+/m);
    expect(stdout).toMatch(/armed step qt001-cutover, last check: .*no legacy registry table/);
    expect(stdout).toMatch(/^qt001-cutover +CUTOVER +APPLIED /m);
    expect(stdout).toMatch(/^COMPLETED {2}execution lane .*$/m);
    expect(stdout).toContain('Production execution is complete; verify the evidence packet and hold.');
    expect(stdout).toContain(`All lanes of this change: ${UI}/namespaces/default/workflows?query=`);
    expect(stdout).toContain(`change entity      ${UI}/namespaces/default/workflows/change%3A`);
    expect(stdout).not.toContain('localhost:8233/namespaces');
  }, 300_000);

  it('refuses to sign with its development keys against a Temporal server that is not on this machine', async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', WALKTHROUGH], { env: { ...process.env, TEMPORAL_ADDRESS: 'temporal.example.internal:7233', NO_COLOR: '1' }, timeout: 60_000 }, (err, _out, errOut) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: errOut }),
      ),
    );
    expect([code, stderr]).toEqual([1, expect.stringMatching(/demo failed: npm run demo signs with development keys, so it runs only against a Temporal server on this machine; TEMPORAL_ADDRESS=temporal\.example\.internal:7233 names another/)]);
  });
});
