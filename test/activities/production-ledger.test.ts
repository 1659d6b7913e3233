/**
 * Production's ledger as the last word on what may still be applied or undone (a real PGlite database, the real
 * bookkeeping schema and ledger functions): a rolled-back change is not applied again, a plain execution does not
 * build on another run's steps, and resume and rollback act only on steps their own spec applied.
 */
import { describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { pgliteSession } from '../../src/activities/targets/pglite';
import { BOOKKEEPING_SQL, type TargetSession } from '../../src/activities/targets/target';
import { claimableProblem, claimStep, type LaneRun } from '../../src/activities/production-ledger';
import { claimRollback, recordBaseline } from '../../src/activities/rollback-ledger';
import { resumeProblem } from '../../src/activities/resume-ledger';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const FINGERPRINT = { hash: 'f'.repeat(64), objects: {} } as never;

async function ledger(): Promise<TargetSession> {
  const db = new PGlite();
  await db.exec(BOOKKEEPING_SQL);
  return pgliteSession(db);
}
const run = (workflowId: string, specHash: string): LaneRun => ({ changeId: 'chg', workflowId, runId: `${workflowId}-run`, specHash });

describe('production ledger: what may still be applied or undone', () => {
  it('a change that was rolled back is not applied again, not even by the run that applied it', async () => {
    const s = await ledger();
    const e = run('exec-1', A);
    await claimStep(s, e, 's1');
    await recordBaseline(s, e, A, FINGERPRINT);
    expect(await claimableProblem(s, e, false)).toBeUndefined();
    expect(await claimRollback(s, run('rollback-1', A), A, 's1', [], FINGERPRINT)).toMatchObject({ state: 'CLAIMED' });
    // The execution is still open: its next step would land on a base the rollback restored, never approved.
    expect(await claimableProblem(s, e, false)).toMatch(/change chg was rolled back \(s1\): its steps are not applied again/);
    expect(await claimableProblem(s, run('exec-2', A), true)).toMatch(/was rolled back/);
  });

  it('a plain execution does not build on steps another run applied; a resume may', async () => {
    const s = await ledger();
    await claimStep(s, run('exec-1', A), 's1');
    expect(await claimableProblem(s, run('exec-2', A), false)).toMatch(/already holds steps of change chg applied by another run \(s1 by exec-1\): a plain execution starts from nothing applied/);
    expect(await claimableProblem(s, run('exec-2', A), true)).toBeUndefined();
  });

  it('resume and rollback act only on steps their own spec applied', async () => {
    const s = await ledger();
    // Spec A applied s1 (its baseline); spec B, another spec of the change, applied s2.
    await claimStep(s, run('exec-a', A), 's1');
    await recordBaseline(s, run('exec-a', A), A, FINGERPRINT);
    await claimStep(s, run('exec-b', B), 's2');
    expect(await resumeProblem(s, 'chg', A, ['s1', 's2'])).toMatch(/step s2 of change chg was applied under another change spec, not this spec a{16}…/);
    await expect(claimRollback(s, run('rollback-a', A), A, 's2', [], FINGERPRINT)).rejects.toThrow(/step s2 of change chg was applied under change spec b{16}…, not this spec a{16}…: only that spec's rollback SQL may undo it/);
    expect(await claimRollback(s, run('rollback-a', A), A, 's1', [], FINGERPRINT)).toMatchObject({ state: 'CLAIMED' });
  });
});
