/**
 * Worker crashes (issue 6): at least 10 `kill -9`s of the worker process (GL_CRASH_KILLS for more), some inside
 * production steps. Every lane completes, its evidence tree is the one on disk and in its memo, and every
 * production step took effect exactly once. `npm run bench` runs the same harness with 100 kills.
 */
import { describe, expect, inject, it } from 'vitest';
import { harness, makeKeys } from '../support/lanes';
import { runCrashHarness } from './crash-harness';

const KILLS = Number(process.env.GL_CRASH_KILLS ?? 10);

describe('worker crashes', () => {
  it(`${KILLS} kill -9s of the worker: every lane completes, evidence intact, each production step exactly once`, async () => {
    const h = await harness();
    try {
      const report = await runCrashHarness({ h, keys: makeKeys(), bundlePath: inject('temporal').bundlePath, kills: KILLS, log: (m) => process.stderr.write(`[crash] ${m}\n`) });
      process.stderr.write(`[crash] ${JSON.stringify(report)}\n`);
      expect(report.kills).toBeGreaterThanOrEqual(KILLS);
      expect(report.killsInProduction, 'some kills must land inside a production step').toBeGreaterThan(0);
      expect(report.failures).toEqual([]);
      expect(report.lanesCompleted).toBe(report.lanes);
      expect(report.evidenceMismatches).toEqual([]);
      expect(report.productionSteps).toBeGreaterThan(0);
      expect(report.duplicateSteps).toBe(0);
      expect(report.missingSteps).toBe(0);
    } finally {
      await h.close();
    }
  }, 900_000);
});
