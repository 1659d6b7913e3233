/**
 * Production's ledger of the way back, next to gated_lanes.applied_steps (production-ledger.ts):
 *   - gated_lanes.change_baseline: the surface fingerprint production had right before a change's first step was
 *     applied, with the spec and run that applied it. Recorded once per change, in the first step's transaction,
 *     so it is exactly as durable as that step. A rollback proves it is restored against this row.
 *   - gated_lanes.rolled_back_steps: each applied step of a change is rolled back once, by one run (a retry of that
 *     run finds its own row), in reverse spec order (a step only after every later applied step), and only under the
 *     spec whose steps were applied: another spec's rollback SQL never runs against them.
 * Every claim here runs under the change's advisory lock (lockChange), inside the step's own transaction.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { SurfaceFingerprint } from './targets/fingerprint';
import type { TargetSession } from './targets/target';
import type { LaneRun } from './production-ledger';

export interface Baseline {
  specHash: string;
  workflowId: string;
  runId: string;
  fingerprint: SurfaceFingerprint;
  recordedAt: string;
}

/** Records the pre-execution fingerprint of the change, unless an earlier run did (the first one stands). */
export async function recordBaseline(s: TargetSession, run: LaneRun, specHash: string, fingerprint: SurfaceFingerprint): Promise<void> {
  await s.query(
    'INSERT INTO gated_lanes.change_baseline (change_id, spec_hash, workflow_id, run_id, fingerprint) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (change_id) DO NOTHING',
    [run.changeId, specHash, run.workflowId, run.runId, JSON.stringify(fingerprint)],
  );
}

/** The change's recorded baseline; undefined when no step of it was applied by a release that records one. */
export async function readBaseline(s: TargetSession, changeId: string): Promise<Baseline | undefined> {
  const [table] = await s.query<{ t: string | null }>("SELECT to_regclass('gated_lanes.change_baseline')::text AS t");
  if (!table?.t) return undefined;
  const [row] = await s.query<{ spec_hash: string; workflow_id: string; run_id: string; fingerprint: string; recorded_at: Date }>(
    'SELECT spec_hash, workflow_id, run_id, fingerprint, recorded_at FROM gated_lanes.change_baseline WHERE change_id = $1',
    [changeId],
  );
  if (!row) return undefined;
  return { specHash: row.spec_hash, workflowId: row.workflow_id, runId: row.run_id, fingerprint: JSON.parse(row.fingerprint) as SurfaceFingerprint, recordedAt: new Date(row.recorded_at).toISOString() };
}

export type RollbackClaim =
  /** The step is not applied on production (a later step the execution never reached): nothing to undo. */
  | { state: 'NOT_APPLIED' }
  /** This run rolled it back in an earlier attempt: an idempotent retry changes nothing. */
  | { state: 'ALREADY_BY_THIS_RUN'; rolledBackAt: string }
  /** Claimed now: the caller runs the rollback SQL in this same transaction. */
  | { state: 'CLAIMED'; rolledBackAt: string };

const refused = (message: string) => ApplicationFailure.nonRetryable(message, 'GrantRefused');

/**
 * Claims the rollback of `stepId` for this run. `laterSteps` are the spec's steps after it: each that production
 * holds as applied must already be rolled back (reverse order). `specHash` must be the spec the change was applied
 * under (its baseline), or the rollback SQL would be another spec's.
 */
export async function claimRollback(
  s: TargetSession,
  run: LaneRun,
  specHash: string,
  stepId: string,
  laterSteps: readonly string[],
  fingerprintBefore: SurfaceFingerprint,
): Promise<RollbackClaim> {
  const [applied] = await s.query<{ workflow_id: string; spec_hash: string | null }>('SELECT workflow_id, spec_hash FROM gated_lanes.applied_steps WHERE change_id = $1 AND step_id = $2', [run.changeId, stepId]);
  if (!applied) return { state: 'NOT_APPLIED' };
  // The step's own spec, not only the change's first: another spec's step is never undone with this spec's SQL.
  if (applied.spec_hash !== specHash) {
    throw refused(`step ${stepId} of change ${run.changeId} was applied under ${applied.spec_hash === null ? 'a spec production did not record' : `change spec ${applied.spec_hash.slice(0, 16)}…`}, not this spec ${specHash.slice(0, 16)}…: only that spec's rollback SQL may undo it`);
  }
  const baseline = await readBaseline(s, run.changeId);
  if (!baseline) throw refused(`change ${run.changeId} has no recorded pre-execution baseline (its steps were applied by a release that did not record one): the rollback lane cannot prove what it restores; roll back by hand`);
  if (baseline.specHash !== specHash) {
    throw refused(`change ${run.changeId} was applied under change spec ${baseline.specHash.slice(0, 16)}…, not this spec ${specHash.slice(0, 16)}…: only the rollback SQL of the spec that was applied may undo it`);
  }
  const [earlier] = await s.query<{ workflow_id: string; run_id: string; rolled_back_at: Date }>(
    'SELECT workflow_id, run_id, rolled_back_at FROM gated_lanes.rolled_back_steps WHERE change_id = $1 AND step_id = $2',
    [run.changeId, stepId],
  );
  if (earlier) {
    if (earlier.workflow_id === run.workflowId && earlier.run_id === run.runId) return { state: 'ALREADY_BY_THIS_RUN', rolledBackAt: new Date(earlier.rolled_back_at).toISOString() };
    throw ApplicationFailure.nonRetryable(`step ${stepId} of change ${run.changeId} was already rolled back by ${earlier.workflow_id} (run ${earlier.run_id}); it is rolled back once`, 'StepAlreadyRolledBack');
  }
  if (laterSteps.length > 0) {
    const appliedNow = await s.query<{ step_id: string }>('SELECT step_id FROM gated_lanes.applied_steps WHERE change_id = $1', [run.changeId]);
    const undone = new Set((await s.query<{ step_id: string }>('SELECT step_id FROM gated_lanes.rolled_back_steps WHERE change_id = $1', [run.changeId])).map((r) => r.step_id));
    const pending = laterSteps.filter((id) => appliedNow.some((a) => a.step_id === id) && !undone.has(id)).map((step_id) => ({ step_id }));
    if (pending.length > 0) throw refused(`step ${stepId} is rolled back only after ${pending.map((p) => p.step_id).join(', ')}, applied later and not yet rolled back: rollbacks run in reverse order`);
  }
  const [claimed] = await s.query<{ rolled_back_at: Date }>(
    'INSERT INTO gated_lanes.rolled_back_steps (change_id, step_id, workflow_id, run_id, fingerprint_before) VALUES ($1, $2, $3, $4, $5) RETURNING rolled_back_at',
    [run.changeId, stepId, run.workflowId, run.runId, JSON.stringify(fingerprintBefore)],
  );
  return { state: 'CLAIMED', rolledBackAt: new Date(claimed!.rolled_back_at).toISOString() };
}

/** The steps this run rolled back, in the order it did, each with the fingerprint production had right before. */
export async function rolledBackByRun(s: TargetSession, run: LaneRun): Promise<{ stepId: string; rolledBackAt: string; fingerprintBefore: SurfaceFingerprint }[]> {
  const [table] = await s.query<{ t: string | null }>("SELECT to_regclass('gated_lanes.rolled_back_steps')::text AS t");
  if (!table?.t) return [];
  const rows = await s.query<{ step_id: string; rolled_back_at: Date; fingerprint_before: string }>(
    'SELECT step_id, rolled_back_at, fingerprint_before FROM gated_lanes.rolled_back_steps WHERE change_id = $1 AND workflow_id = $2 AND run_id = $3 ORDER BY rolled_back_at, step_id',
    [run.changeId, run.workflowId, run.runId],
  );
  return rows.map((r) => ({ stepId: r.step_id, rolledBackAt: new Date(r.rolled_back_at).toISOString(), fingerprintBefore: JSON.parse(r.fingerprint_before) as SurfaceFingerprint }));
}
