/**
 * The benchmarks' baseline workflow: the same activities after the same signals, and nothing else — no grant
 * checks, no probes, no change entity, no evidence. What a lane costs is measured against this.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export const goSignal = defineSignal<[]>('go');

export interface BareActivities {
  bareApply(db: string, stepId: string, sql: string): Promise<void>;
}

/**
 * `activityQueue`: run the activities on another task queue, served by a second worker — the topology of a lane's
 * production steps (on `<queue>-production`, the production worker's). Without it, on the workflow's own queue.
 */
export async function bareSteps(input: { db: string; signals: number; steps: { id: string; sql: string }[]; activityQueue?: string }): Promise<void> {
  const { bareApply } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute', ...(input.activityQueue ? { taskQueue: input.activityQueue } : {}) });
  let received = 0;
  setHandler(goSignal, () => void received++);
  await condition(() => received >= input.signals);
  for (const s of input.steps) await bareApply(input.db, s.id, s.sql);
}
