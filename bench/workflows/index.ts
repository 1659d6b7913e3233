/**
 * The benchmarks' baseline workflow: the same activities after the same signals, and nothing else — no grant
 * checks, no probes, no change entity, no evidence. What a lane costs is measured against this.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export const goSignal = defineSignal<[]>('go');

export interface BareActivities {
  bareApply(db: string, stepId: string, sql: string): Promise<void>;
}

const { bareApply } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute' });

export async function bareSteps(input: { db: string; signals: number; steps: { id: string; sql: string }[] }): Promise<void> {
  let received = 0;
  setHandler(goSignal, () => void received++);
  await condition(() => received >= input.signals);
  for (const s of input.steps) await bareApply(input.db, s.id, s.sql);
}
