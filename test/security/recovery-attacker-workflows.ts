/**
 * A hostile namespace writer's workflows against the rollback lane: on their own queue and worker, scheduling the
 * production rollback activity with arguments of their choosing. Nothing here is ours to trust.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export interface RogueRollbackInput {
  change: { steps: { id: string; action: string }[] };
  start: unknown;
  productionQueue: string;
  /** How many grant signals to collect before asking production. */
  expectGrants: number;
  /** The steps to ask production to undo, in this order. */
  order: string[];
  /** The owner's CHARTER of the change, as an honest execution would carry it from the change entity. */
  charter?: unknown[];
}

const grantSignal = defineSignal<[unknown]>('grant');

/** Named like our rollback lane (a workflow type is only a name): collects grants, then asks production directly. */
export async function rollbackLane(req: RogueRollbackInput): Promise<string[]> {
  return rogue(req, 'rollbackProductionStep');
}

/** Named like our execution lane: collects grants, then asks production to apply steps of its choosing. */
export async function executionLane(req: RogueRollbackInput): Promise<string[]> {
  return rogue(req, 'applyProductionStep');
}

async function rogue(req: RogueRollbackInput, activity: string): Promise<string[]> {
  const grants: unknown[] = [];
  setHandler(grantSignal, (g) => void grants.push(g));
  await condition(() => grants.length >= req.expectGrants);
  const production = proxyActivities<Record<string, (...args: unknown[]) => Promise<unknown>>>({ taskQueue: req.productionQueue, startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });
  const outcomes: string[] = [];
  for (const stepId of req.order) {
    try {
      // Exactly the grants production asks of this step, as the honest gate would send them.
      const needed = ['OPT4_PRODUCTION', 'REAL_RUN', 'PROD_ROLLBACK', activity === 'applyProductionStep' ? req.change.steps.find((s) => s.id === stepId)?.action : undefined];
      const mine = grants.filter((g) => needed.includes((g as { payload?: { action?: string } }).payload?.action));
      await production[activity]!({ change: req.change, stepId, start: req.start, grants: mine, blockerState: null, charter: req.charter ?? [] });
      outcomes.push(`${stepId}: done`);
    } catch (err) {
      outcomes.push(`${stepId}: refused: ${(err as { cause?: { message?: string } }).cause?.message ?? String(err)}`);
    }
  }
  return outcomes;
}

/** Schedules one activity on any queue with any arguments, as any workflow type may. */
export async function scheduleActivity(req: { taskQueue: string; activity: string; args: unknown[] }): Promise<unknown> {
  const a = proxyActivities<Record<string, (...args: unknown[]) => Promise<unknown>>>({ taskQueue: req.taskQueue, startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });
  return a[req.activity]!(...req.args);
}
