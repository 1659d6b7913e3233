/**
 * What a hostile namespace writer runs: workflows of their own, on their own task queue and worker, that schedule
 * any activity type on any queue with any arguments. Some are named like our lanes, because a workflow type is
 * only a name. Nothing here is ours to trust; the attack suite checks our workers refuse all of it.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export interface ScheduleRequest {
  taskQueue: string;
  activity: string;
  args: unknown[];
}

/**
 * A rogue lane: started with a genuine lane input (so owners' CLIs see a real lane and grant on it), it collects
 * the grants signalled to it and then asks production for the steps in an order of its own choosing.
 */
export interface RogueLaneInput {
  change: { steps: { id: string; action: string }[] };
  start: unknown;
  productionQueue: string;
  expectGrants: number;
  /** The owner's CHARTER of the change, as the honest execution lane would carry it from the change entity. */
  charter?: unknown[];
  order: string[];
}

const grantSignal = defineSignal<[unknown]>('grant');

function activities(taskQueue: string) {
  return proxyActivities<Record<string, (...args: unknown[]) => Promise<unknown>>>({ taskQueue, startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });
}

async function schedule(req: ScheduleRequest | RogueLaneInput): Promise<unknown> {
  if (!('order' in req)) return activities(req.taskQueue)[req.activity]!(...req.args);
  const grants: unknown[] = [];
  setHandler(grantSignal, (g) => void grants.push(g));
  await condition(() => grants.length >= req.expectGrants);
  const outcomes: string[] = [];
  for (const stepId of req.order) {
    // Exactly the grants production asks of this step, as the honest gate would send them.
    const needed = ['OPT4_PRODUCTION', 'REAL_RUN', req.change.steps.find((s) => s.id === stepId)?.action];
    const mine = grants.filter((g) => needed.includes((g as { payload?: { action?: string } }).payload?.action));
    try {
      await activities(req.productionQueue).applyProductionStep!({ change: req.change, stepId, start: req.start, grants: mine, blockerState: null, charter: req.charter ?? [] });
      outcomes.push(`${stepId}: applied`);
    } catch (err) {
      outcomes.push(`${stepId}: refused: ${(err as { cause?: { message?: string } }).cause?.message ?? String(err)}`);
    }
  }
  return outcomes;
}

export const scheduleActivity = schedule;
/** Named like our lanes: an id of a closed lane can be reused by a workflow of any type, this name included. */
export const executionLane = schedule;
export const dryRunLane = schedule;
export const rehearsalLane = schedule;
