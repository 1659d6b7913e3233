/** The bad-input probes every lane runs: at least 20, each aimed at one validator, all refused. */
import { describe, expect, it } from 'vitest';
import { runProbes } from '../../src/activities/probes';

describe('bad-input probes', () => {
  it('all fail closed, and cover grants, trust root, surface, read-only, seal drifts, evidence, spec and isolation', async () => {
    const report = await runProbes();
    expect(report.total).toBeGreaterThanOrEqual(20);
    expect(report.results.filter((r) => !r.failedClosed)).toEqual([]);
    expect(report.failedClosed).toBe(report.total);
    const ids = report.results.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const needle of ['grant: unsigned', 'grant: expired', 'grant: replayed nonce', 'grant: operator-signed', 'SQL outside the surface', 'a write in a read-only (dry-run) transaction', 'seal: CRLF', 'seal: Unicode drift', 'tampered evidence (one byte)', 'malformed change spec', 'clone == production']) {
      expect(ids).toContain(needle);
    }
    // Envelope probes were refused by the rule they aim at, not by an earlier one.
    expect(report.results.find((r) => r.id === 'grant: expired')!.detail).toBe('EXPIRED');
    expect(report.results.find((r) => r.id === "grant: signed by the lane operator's own owner key")!.detail).toBe('LANE_OPERATOR');
  });
});
