/**
 * Production's own ledger (gated_lanes.applied_steps, gated_lanes.grant_claims): single use and exactly-once are
 * enforced by the database that changes, inside the step's transaction, not by any workflow's memory.
 *   - A step of a change is applied once, by one lane run; a retry of that run finds its own row and changes
 *     nothing; any other run — another lane, a reused workflow id — is refused.
 *   - A grant's nonce is claimed by the first run that acts on it; presented by any other run, it is refused.
 * Every claim first takes a transaction-scoped advisory lock on the change, so two runs racing for one step queue up.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { VerifiedEnvelope } from '../domain/envelope-rules';
import type { TargetSession } from './targets/target';

export interface LaneRun {
  changeId: string;
  workflowId: string;
  runId: string;
  /** The spec the run applies: recorded with each step it claims, so a resume or rollback can require the same. */
  specHash?: string;
}

/**
 * Why a run may not claim a new step of the change at all; undefined when it may. Checked in the step's transaction
 * under the change's lock, whatever the workflow believes:
 *   - a change that was rolled back is not applied again (the way back is final; a new change id goes forward);
 *   - a plain execution (not a resume) starts from nothing applied by any other run: what another run applied was
 *     not what this run's precheck saw, nor what its grants approved on top of.
 */
export async function claimableProblem(s: TargetSession, run: LaneRun, resumed: boolean): Promise<string | undefined> {
  const undone = await s.query<{ step_id: string }>(
    'SELECT step_id FROM gated_lanes.rolled_back_steps WHERE change_id = $1 ORDER BY step_id',
    [run.changeId],
  );
  if (undone.length > 0) return `change ${run.changeId} was rolled back (${undone.map((r) => r.step_id).join(', ')}): its steps are not applied again; go forward under a new change id`;
  if (resumed) return undefined;
  const others = await s.query<{ step_id: string; workflow_id: string }>(
    'SELECT step_id, workflow_id FROM gated_lanes.applied_steps WHERE change_id = $1 AND NOT (workflow_id = $2 AND run_id IS NOT DISTINCT FROM $3) ORDER BY step_id',
    [run.changeId, run.workflowId, run.runId],
  );
  if (others.length > 0) {
    return `production already holds steps of change ${run.changeId} applied by another run (${others.map((o) => `${o.step_id} by ${o.workflow_id}`).join(', ')}): a plain execution starts from nothing applied; resume (--resume-from) or roll back`;
  }
  return undefined;
}

/** Waits for the change's lock, at most 30 s: a step never hangs behind another without bound (and then retries). */
export async function lockChange(s: TargetSession, changeId: string): Promise<void> {
  await s.exec("SET LOCAL lock_timeout = '30s'");
  await s.query("SELECT pg_advisory_xact_lock(hashtext('gated_lanes:' || $1))", [changeId]);
}

/**
 * Claims `stepId` for this run: `appliedNow` false when this run already applied it (an idempotent retry). Steps
 * apply in the spec's order: every step before it must already be applied by this same run.
 */
export async function claimStep(s: TargetSession, run: LaneRun, stepId: string, earlierSteps: readonly string[] = []): Promise<{ appliedNow: boolean; appliedAt: string }> {
  const [earlier] = await s.query<{ workflow_id: string; run_id: string | null; applied_at: Date }>(
    'SELECT workflow_id, run_id, applied_at FROM gated_lanes.applied_steps WHERE change_id = $1 AND step_id = $2 ORDER BY applied_at LIMIT 1',
    [run.changeId, stepId],
  );
  if (earlier) {
    if (earlier.workflow_id === run.workflowId && earlier.run_id === run.runId) return { appliedNow: false, appliedAt: new Date(earlier.applied_at).toISOString() };
    throw ApplicationFailure.nonRetryable(
      `step ${stepId} of change ${run.changeId} was already applied to production by ${earlier.workflow_id} (run ${earlier.run_id ?? 'unknown'}); it is applied once`,
      'StepAlreadyApplied',
    );
  }
  if (earlierSteps.length > 0) {
    const done = new Set((await appliedByRun(s, run.workflowId, run.runId)).map((r) => r.stepId));
    const missing = earlierSteps.filter((id) => !done.has(id));
    if (missing.length > 0) {
      throw ApplicationFailure.nonRetryable(`step ${stepId} comes after ${missing.join(', ')}, which this run has not applied: steps apply in order`, 'GrantRefused');
    }
  }
  const [claimed] = await s.query<{ applied_at: Date }>(
    'INSERT INTO gated_lanes.applied_steps (workflow_id, run_id, step_id, change_id, spec_hash) VALUES ($1, $2, $3, $4, $5) RETURNING applied_at',
    [run.workflowId, run.runId, stepId, run.changeId, run.specHash ?? null],
  );
  return { appliedNow: true, appliedAt: new Date(claimed!.applied_at).toISOString() };
}

/** Claims every grant's nonce for this run; a nonce another run claimed first refuses the step. */
export async function claimGrants(s: TargetSession, run: LaneRun, grants: readonly VerifiedEnvelope[]): Promise<void> {
  for (const g of grants) {
    await s.query(
      'INSERT INTO gated_lanes.grant_claims (nonce, grant_id, action, change_id, workflow_id, run_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (nonce) DO NOTHING',
      [g.payload.nonce, g.id, g.payload.action, run.changeId, run.workflowId, run.runId],
    );
    const [owner] = await s.query<{ workflow_id: string; run_id: string }>('SELECT workflow_id, run_id FROM gated_lanes.grant_claims WHERE nonce = $1', [g.payload.nonce]);
    if (owner!.workflow_id !== run.workflowId || owner!.run_id !== run.runId) {
      throw ApplicationFailure.nonRetryable(`${g.payload.action} grant ${g.id.slice(0, 16)}… was already used by ${owner!.workflow_id} (run ${owner!.run_id}); a grant is used once`, 'GrantRefused');
    }
  }
}

/** The steps this run applied, in order, as production's ledger records them. */
export async function appliedByRun(s: TargetSession, workflowId: string, runId: string): Promise<{ stepId: string; appliedAt: string }[]> {
  const [table] = await s.query<{ t: string | null }>("SELECT to_regclass('gated_lanes.applied_steps')::text AS t");
  if (!table?.t) return [];
  const rows = await s.query<{ step_id: string; applied_at: Date }>(
    'SELECT step_id, applied_at FROM gated_lanes.applied_steps WHERE workflow_id = $1 AND run_id = $2 ORDER BY applied_at, step_id',
    [workflowId, runId],
  );
  return rows.map((r) => ({ stepId: r.step_id, appliedAt: new Date(r.applied_at).toISOString() }));
}
