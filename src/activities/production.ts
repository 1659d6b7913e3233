/**
 * Production-mutating activities: the only code that changes production. Reached only through
 * src/workflows/gate.ts, run only on the `<lanes queue>-production` task queue, whose worker re-verifies every
 * grant before the body runs (src/worker/production-interceptor.ts). A static test keeps it that way.
 *
 * Idempotent and single-use by construction: each step and each grant nonce it rests on is claimed in production's
 * own ledger (src/activities/production-ledger.ts) in the same transaction as its SQL, so a retried attempt of the
 * same run finds its record and changes nothing, and any other run is refused.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { ChangeSpec } from '../domain/change-spec';
import type { SignedEnvelope } from '../domain/envelope';
import type { BlockerMap } from '../domain/blocker-map';
import type { AuthorizedStep } from '../worker/point-of-action';
import { authorizedFor } from './authorized';
import { appliedByRun, claimableProblem, claimGrants, claimStep, lockChange } from './production-ledger';
import { claimRollback, recordBaseline } from './rollback-ledger';
import { resumeProblem } from './resume-ledger';
import { failingPrecondition } from './preconditions';
import { resumeIndex, stepsAppliedBefore } from '../domain/resume';
import { surfaceFingerprint } from './targets/fingerprint';
import { openProduction } from './targets/open';
import { isClusterMode, type WorkerHome } from '../worker/config';
import { BOOKKEEPING_SQL, inTransaction, type Target } from './targets/target';

/**
 * What the execution lane sends for one step. Bookkeeping only: the production worker believes none of it until
 * the point of action has verified it (the spec against the hashes START and the grants sign, the evidence trees the
 * grants name, the blocker state OPT4_PRODUCTION approves).
 */
export interface ProductionStepRequest {
  change: ChangeSpec;
  stepId: string;
  /** The operator's signed start of this lane: who may not authorise on it. */
  start: unknown;
  /** The owner grants the gate counted for this step (OPT4_PRODUCTION, REAL_RUN and the step's own action). */
  grants: SignedEnvelope[];
  /** The blocker map state the OPT4_PRODUCTION grants approve (their blockersHash); null when the change has none. */
  blockerState: BlockerMap | null;
  /** The owners' CHARTER envelopes for the spec's blocker map and rules (needed when it declares a map). */
  charter?: unknown[];
}

export interface ProductionStepResult {
  stepId: string;
  /** False when an earlier attempt of this run already applied it (idempotency), true when this attempt did. */
  appliedNow: boolean;
  appliedAt: string;
  workflowId: string;
}

/** The production worker's LANES_HOME and shared evidence store (which says whether it is one of a cluster's hosts). */
export type ProductionConfig = WorkerHome;

/**
 * The ledger schema, created once per production per worker process (in the gated step's own path, never by a
 * read-only lane), and outside the step's transaction, so two first steps cannot race on creating it.
 */
const ensured = new Map<string, Promise<void>>();
function ensureBookkeeping(db: Target, lanesHome: string): Promise<void> {
  // A PGlite label is relative to LANES_HOME, and one process may serve several homes (tests do).
  const key = `${lanesHome}\0${db.label}`;
  let done = ensured.get(key);
  if (!done) {
    done = db.session((s) => s.exec(BOOKKEEPING_SQL));
    done.catch(() => ensured.delete(key));
    ensured.set(key, done);
  }
  return done;
}

export function createProductionActivities(config: ProductionConfig) {
  const place = { lanesHome: config.lanesHome, cluster: isClusterMode(config) };
  return {
    async applyProductionStep(req: ProductionStepRequest): Promise<ProductionStepResult> {
      // Everything used below was verified by the point of action; workflow id and run come from the activity context.
      const { change, step, grants, caller, recheck, specHash, resumeFrom, armedUntil } = authorizedFor<AuthorizedStep>(req);
      const run = { changeId: change.id, workflowId: caller.workflowId, runId: caller.runId, specHash };
      const db = await openProduction(place, change);
      await ensureBookkeeping(db, config.lanesHome);
      const index = change.steps.findIndex((x) => x.id === step.id);
      // What production looked like before the change's first step: the state a rollback must restore. Read in its
      // own snapshot (a fingerprint is one REPEATABLE READ transaction), right before the step's transaction; only
      // this change's steps touch its surface, and the claim below proves none of them has run yet.
      const baseline = index === 0 ? await db.session((s) => surfaceFingerprint(s, change.surface)) : undefined;
      // An armed step applies only while every live precondition holds, checked read-only at this last moment (a
      // retry of an attempt that already applied it skips them: the claim below returns its record).
      if (armedUntil !== undefined && armedUntil <= Date.now()) {
        throw ApplicationFailure.nonRetryable(`step ${step.id} was armed until ${new Date(armedUntil).toISOString()}; the window lapsed and nothing was applied`, 'ArmWindowLapsed');
      }
      if (step.preconditions && !(await db.session((s) => appliedByRun(s, run.workflowId, run.runId))).some((r) => r.stepId === step.id)) {
        // As the read-only role the spec names for reading lanes, when it names one: the server refuses writes too.
        const failing = await failingPrecondition(await openProduction(place, change, { readOnly: true }), change, step.preconditions);
        if (failing) {
          throw ApplicationFailure.nonRetryable(
            `step ${step.id} is armed${armedUntil ? ` until ${new Date(armedUntil).toISOString()}` : ''}: precondition "${failing.name}" does not hold (got ${failing.got}, expected ${failing.expected}); nothing was applied`,
            'PreconditionNotMet',
            failing,
          );
        }
      }
      return db.session((s) =>
        inTransaction(s, async () => {
          await lockChange(s, change.id);
          // A resumed execution: the steps before resumeFrom are earlier runs' (resume-ledger.ts checks production holds
          // exactly those, under this spec); the ones from it on must be this run's, in order.
          const from = Math.max(0, resumeIndex(change, resumeFrom));
          const retry = (await appliedByRun(s, run.workflowId, run.runId)).some((r) => r.stepId === step.id);
          if (!retry) {
            const problem = await claimableProblem(s, run, from > 0);
            if (problem) throw ApplicationFailure.nonRetryable(`step ${step.id}: ${problem}`, 'GrantRefused');
          }
          if (from > 0 && !retry) {
            const problem = await resumeProblem(s, change.id, specHash, stepsAppliedBefore(change, resumeFrom).concat(change.steps.slice(from, index).map((x) => x.id)));
            if (problem) throw ApplicationFailure.nonRetryable(`step ${step.id} of a resumed execution: ${problem}`, 'GrantRefused');
          }
          const earlier = change.steps.slice(from, index).map((x) => x.id);
          const claim = await claimStep(s, run, step.id, earlier);
          if (!claim.appliedNow) return { stepId: step.id, appliedNow: false, appliedAt: claim.appliedAt, workflowId: run.workflowId };
          // The lock may have been waited for: a HOLD or REVOKE sent meanwhile, or an expiry, stops the step here.
          await recheck();
          await claimGrants(s, run, grants);
          if (baseline) await recordBaseline(s, run, specHash, baseline);
          try {
            // The parser that checked this SQL reads backslashes in '…' literally; so must the server that runs it.
            await s.exec('SET LOCAL standard_conforming_strings = on');
            await s.exec(step.apply);
          } catch (err) {
            // The SQL itself failed: retrying the same statements would fail the same way. The claims roll back too.
            throw ApplicationFailure.nonRetryable(`step ${step.id}: its SQL failed on production: ${(err as Error).message}`, 'ProductionStepFailed');
          }
          return { stepId: step.id, appliedNow: true, appliedAt: claim.appliedAt, workflowId: run.workflowId };
        }),
      );
    },

    /**
     * Undoes one applied step with its rollback SQL (the rollback lane, in reverse spec order). Verified like a step
     * (src/worker/point-of-action.ts, rollbackStep); claimed once per change and step in gated_lanes.rolled_back_steps
     * in the same transaction as the SQL, with the fingerprint production had right before it.
     */
    async rollbackProductionStep(req: RollbackStepRequest): Promise<RollbackStepResult> {
      const { change, step, grants, caller, recheck, specHash } = authorizedFor<AuthorizedStep>(req);
      const run = { changeId: change.id, workflowId: caller.workflowId, runId: caller.runId };
      const db = await openProduction(place, change);
      await ensureBookkeeping(db, config.lanesHome);
      const later = change.steps.slice(change.steps.findIndex((x) => x.id === step.id) + 1).map((x) => x.id);
      const before = await db.session((s) => surfaceFingerprint(s, change.surface));
      return db.session((s) =>
        inTransaction(s, async () => {
          await lockChange(s, change.id);
          const claim = await claimRollback(s, run, specHash, step.id, later, before);
          if (claim.state === 'NOT_APPLIED') return { stepId: step.id, state: 'NOT_APPLIED' as const };
          if (claim.state === 'ALREADY_BY_THIS_RUN') return { stepId: step.id, state: 'ROLLED_BACK' as const, rolledBackNow: false, rolledBackAt: claim.rolledBackAt };
          await recheck();
          await claimGrants(s, run, grants);
          try {
            await s.exec('SET LOCAL standard_conforming_strings = on');
            await s.exec(step.rollback);
          } catch (err) {
            throw ApplicationFailure.nonRetryable(`step ${step.id}: its rollback SQL failed on production: ${(err as Error).message}`, 'ProductionStepFailed');
          }
          return { stepId: step.id, state: 'ROLLED_BACK' as const, rolledBackNow: true, rolledBackAt: claim.rolledBackAt };
        }),
      );
    },
  };
}

/** What the rollback lane sends for one step: bookkeeping, verified at the point of action like a step request. */
export interface RollbackStepRequest {
  change: ChangeSpec;
  stepId: string;
  start: unknown;
  /** OPT4_PRODUCTION and PROD_ROLLBACK, as the gate counted them. */
  grants: SignedEnvelope[];
}

export type RollbackStepResult =
  | { stepId: string; state: 'NOT_APPLIED' }
  | { stepId: string; state: 'ROLLED_BACK'; rolledBackNow: boolean; rolledBackAt: string };

export type ProductionActivities = ReturnType<typeof createProductionActivities>;
export const PRODUCTION_ACTIVITY_NAMES = ['applyProductionStep', 'rollbackProductionStep'] as const;
