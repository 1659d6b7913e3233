/**
 * Production-mutating activities: the only code that changes production. Reached only through
 * src/workflows/gate.ts, run only on the `<lanes queue>-production` task queue, whose worker re-verifies every
 * grant before the body runs (src/worker/production-interceptor.ts). A static test keeps it that way.
 *
 * Idempotent by construction: each step is recorded in `gated_lanes.applied_steps` (workflow id + step id) in the
 * same transaction as its SQL, so a retried or duplicated activity finds the record and changes nothing.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ChangeSpec } from '../domain/change-spec';
import type { SignedEnvelope } from '../domain/envelope';
import { openProduction } from './targets/open';
import { BOOKKEEPING_SQL, inTransaction, type Target } from './targets/target';

export interface ProductionAuthorization {
  /** The operator's signed start of this lane: who may not authorise on it. */
  start: unknown;
  /** The owner grants the gate counted for this step (OPT4_PRODUCTION, REAL_RUN and the step's own action). */
  grants: SignedEnvelope[];
  /** The latest passed rehearsal's evidence tree, which REAL_RUN and APPLY grants must name. */
  rehearsalTree: string;
}

export interface ProductionStepRequest {
  changeId: string;
  change: ChangeSpec;
  stepId: string;
  authorization: ProductionAuthorization;
}

export interface ProductionStepResult {
  stepId: string;
  /** False when an earlier attempt already applied it (idempotency), true when this attempt did. */
  appliedNow: boolean;
  appliedAt: string;
  workflowId: string;
}

export interface ProductionConfig {
  lanesHome: string;
}

/**
 * The ledger schema, created once per production per worker process (in the gated step's own path, never by a
 * read-only lane), and outside the step's transaction, so two first steps cannot race on creating it.
 */
const ensured = new Map<string, Promise<void>>();
function ensureBookkeeping(db: Target): Promise<void> {
  let done = ensured.get(db.label);
  if (!done) {
    done = db.session((s) => s.exec(BOOKKEEPING_SQL));
    done.catch(() => ensured.delete(db.label));
    ensured.set(db.label, done);
  }
  return done;
}

export function createProductionActivities(config: ProductionConfig) {
  return {
    async applyProductionStep(req: ProductionStepRequest): Promise<ProductionStepResult> {
      const step = req.change.steps.find((s) => s.id === req.stepId);
      if (!step) throw new Error(`change ${req.changeId} has no step ${req.stepId}`);
      // The idempotency key comes from Temporal, not from the request: a request cannot claim another lane's key.
      const workflowId = Context.current().info.workflowExecution?.workflowId;
      if (!workflowId) throw new Error('production steps run only on behalf of a lane workflow');
      const db = await openProduction(config.lanesHome, req.change);
      await ensureBookkeeping(db);
      return db.session((s) =>
        inTransaction(s, async () => {
          // Claim the step first: a concurrent duplicate attempt waits on the key, then finds it taken.
          const [claimed] = await s.query<{ applied_at: Date }>(
            'INSERT INTO gated_lanes.applied_steps (workflow_id, step_id, change_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING applied_at',
            [workflowId, step.id, req.changeId],
          );
          if (!claimed) {
            const [earlier] = await s.query<{ applied_at: Date }>('SELECT applied_at FROM gated_lanes.applied_steps WHERE workflow_id = $1 AND step_id = $2', [workflowId, step.id]);
            return { stepId: step.id, appliedNow: false, appliedAt: new Date(earlier!.applied_at).toISOString(), workflowId };
          }
          try {
            await s.exec(step.apply);
          } catch (err) {
            // The SQL itself failed: retrying the same statements would fail the same way. The claim rolls back too.
            throw ApplicationFailure.nonRetryable(`step ${step.id}: its SQL failed on production: ${(err as Error).message}`, 'ProductionStepFailed');
          }
          return { stepId: step.id, appliedNow: true, appliedAt: new Date(claimed.applied_at).toISOString(), workflowId };
        }),
      );
    },
  };
}

export type ProductionActivities = ReturnType<typeof createProductionActivities>;
export const PRODUCTION_ACTIVITY_NAMES = ['applyProductionStep'] as const;
