/**
 * The gate (DESIGN.md §The gate): the only module that proxies production-mutating activities.
 *
 * `applyStepThroughGate` is the single way to reach them, and it asks the lane's gate first: every required grant
 * valid at this moment (threshold, expiry, revocation, nonce, evidence tree), no blocker open, a fresh precheck.
 * The activity is scheduled in the same workflow task as that check, so no signal can slip between them. This
 * layer is bookkeeping and display: on the production queue, the point of action (src/worker/point-of-action.ts)
 * verifies everything again from signatures and hashes alone, believing nothing this workflow sends. A static test
 * fails if any other module references the production activities.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ProductionActivities, ProductionStepResult, RollbackStepResult } from '../activities/production';
import type { SignedEnvelope } from '../domain/envelope';
import type { VerifiedEnvelope } from '../domain/envelope-rules';
import { productionTaskQueue } from '../domain/task-queues';
import type { GrantAction } from '../domain/vocabulary';
import { armWindowOf, type ChangeSpec } from '../domain/change-spec';
import type { LaneRuntime } from './lane-runtime';

export interface GatedStep {
  result: ProductionStepResult;
  /** The grants the step was authorised by (and the production worker re-verified). */
  grants: VerifiedEnvelope[];
}

/** Waits for the gate, then applies one step to production; undefined when the lane ended in HOLD instead. */
export async function applyStepThroughGate(
  lane: LaneRuntime,
  start: unknown,
  stepId: string,
  timeoutMs: number,
  onAuthorized: (armedUntil?: number) => void,
): Promise<GatedStep | undefined> {
  const step = lane.change.steps.find((s) => s.id === stepId);
  if (!step) return lane.fail(`the change has no step ${stepId}`);
  const verdict = await lane.awaitGate(timeoutMs);
  if (!verdict) return undefined;
  // Nothing awaits between the verdict above and the scheduling below.
  const needed: readonly GrantAction[] = ['OPT4_PRODUCTION', 'REAL_RUN', step.action];
  const grants = verdict.usable.filter((g) => needed.includes(g.payload.action as GrantAction));
  // An armed step is scheduled only while its grants arm it (the production worker checks the same, and the
  // preconditions); a grant that does not arm it, or a window that lapsed, ends the lane in HOLD.
  const armed = armedUntilFor(step, grants);
  if (armed && 'hold' in armed) return lane.holdNow(armed.hold);
  onAuthorized(armed?.until);
  const { applyProductionStep } = proxyActivities<ProductionActivities>({
    taskQueue: productionTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '10 minutes',
    // The production worker heartbeats while alive: a crashed one's step is retried (idempotently) in seconds.
    heartbeatTimeout: '10 seconds',
    // Bounded by time, not attempts: a step killed with its worker again and again must still finish (it is
    // idempotent). Refused grants and failing SQL are not retried.
    scheduleToCloseTimeout: '2 hours',
    retry: { maximumInterval: '30 seconds', nonRetryableErrorTypes: ['GrantRefused', 'ProductionStepFailed'] },
    summary: `apply step ${step.id} (${step.action}) to production`,
  });
  const result = await applyProductionStep({
    change: lane.change,
    stepId: step.id,
    start,
    grants: grants.map((g): SignedEnvelope => ({ payload: g.payload, signature: g.signature })),
    blockerState: verdict.blockerState ?? null,
    charter: verdict.charter ?? [],
  });
  return { result, grants };
}

/** Until when the grants of an armed step arm it; or why they do not; undefined for a plain step. Pure. */
export function armedUntilFor(step: ChangeSpec['steps'][number], grants: readonly VerifiedEnvelope[]): { until: number } | { hold: string } | undefined {
  const window = armWindowOf(step);
  if (window === undefined) return undefined;
  const arming = grants.filter((g) => g.payload.action === step.action);
  const unarmed = arming.find((g) => g.payload.armWindowMs === undefined || g.payload.armWindowMs > window);
  if (unarmed || arming.length === 0) return { hold: `step ${step.id} is armed (window ${step.window}) and its ${step.action} grant does not arm it within that window (\`lanes grant … ${step.action} --window …\`)` };
  const until = Math.min(...arming.map((g) => Date.parse(g.payload.issuedAt) + g.payload.armWindowMs!));
  if (until <= Date.now()) return { hold: `the armed window of step ${step.id} lapsed at ${new Date(until).toISOString()} before it could apply; nothing was applied` };
  return { until };
}

export interface GatedRollback {
  result: RollbackStepResult;
  grants: VerifiedEnvelope[];
}

/**
 * Waits for the rollback lane's gate (OPT4_PRODUCTION and PROD_ROLLBACK naming the latest passed rehearsal of this
 * spec), then asks production to undo one step; undefined when the lane ended in HOLD instead. Production's own
 * ledger decides whether the step is applied, and that later steps were undone first.
 */
export async function rollbackStepThroughGate(
  lane: LaneRuntime,
  start: unknown,
  stepId: string,
  timeoutMs: number,
  onAuthorized: () => void,
): Promise<GatedRollback | undefined> {
  const step = lane.change.steps.find((s) => s.id === stepId);
  if (!step) return lane.fail(`the change has no step ${stepId}`);
  const verdict = await lane.awaitGate(timeoutMs);
  if (!verdict) return undefined;
  // Nothing awaits between the verdict above and the scheduling below.
  const needed: readonly GrantAction[] = ['OPT4_PRODUCTION', 'PROD_ROLLBACK'];
  const grants = verdict.usable.filter((g) => needed.includes(g.payload.action as GrantAction));
  onAuthorized();
  const { rollbackProductionStep } = proxyActivities<ProductionActivities>({
    taskQueue: productionTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '10 seconds',
    scheduleToCloseTimeout: '2 hours',
    retry: { maximumInterval: '30 seconds', nonRetryableErrorTypes: ['GrantRefused', 'ProductionStepFailed', 'StepAlreadyRolledBack'] },
    summary: `roll back step ${step.id} (${step.action}) on production`,
  });
  const result = await rollbackProductionStep({
    change: lane.change,
    stepId: step.id,
    start,
    grants: grants.map((g): SignedEnvelope => ({ payload: g.payload, signature: g.signature })),
  });
  return { result, grants };
}
