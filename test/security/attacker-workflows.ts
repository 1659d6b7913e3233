/**
 * What a hostile namespace writer runs: workflows of their own, on their own task queue and worker, that schedule
 * any activity type on any queue with any arguments. Some are named like our lanes, because a workflow type is
 * only a name. Nothing here is ours to trust; the attack suite checks our workers refuse all of it.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface ScheduleRequest {
  taskQueue: string;
  activity: string;
  args: unknown[];
}

async function schedule(req: ScheduleRequest): Promise<unknown> {
  const acts = proxyActivities<Record<string, (...args: unknown[]) => Promise<unknown>>>({
    taskQueue: req.taskQueue,
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 1 },
  });
  return acts[req.activity]!(...req.args);
}

export const scheduleActivity = schedule;
/** Named like our lanes: an id of a closed lane can be reused by a workflow of any type, this name included. */
export const executionLane = schedule;
export const dryRunLane = schedule;
export const rehearsalLane = schedule;
