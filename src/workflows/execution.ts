/**
 * The execution lane: the only lane that changes production. It needs OPT4_PRODUCTION, REAL_RUN and one grant
 * per action its steps declare, no open blocker, and a fresh precheck; it re-asks the gate before every step
 * (grants expire and are revoked mid-way) and applies steps strictly in order, each through gate.ts.
 */
import type { LaneStatus, StepRecord } from '../domain/lane-status';
import type { VerifiedEnvelope } from '../domain/envelope-rules';
import { requiredGrants } from '../domain/vocabulary';
import { grantTimeoutMs, validLaneInput, type LaneInput } from './lane-input';
import { LaneRuntime } from './lane-runtime';
import { runLane } from './lane-shell';
import { applyStepThroughGate } from './gate';
import { recordExecution } from './lane-activities';

export async function executionLane(raw: LaneInput): Promise<LaneStatus> {
  const input = validLaneInput(raw);
  const { change } = input;
  const lane = new LaneRuntime('execution', change, requiredGrants('execution', change.steps.map((s) => s.action)));
  return runLane(lane, input, async () => {
    if (change.steps.length === 0) lane.fail('the change declares no steps: there is nothing to execute');
    const steps: StepRecord[] = change.steps.map((s) => ({ id: s.id, action: s.action, state: 'PENDING' }));
    lane.setSteps(steps);
    const used = new Map<string, VerifiedEnvelope>();
    for (const step of steps) {
      const applied = await applyStepThroughGate(lane, input.start, step.id, grantTimeoutMs(input), () => {
        step.state = 'RUNNING';
        lane.setSteps(steps);
        lane.setState('RUNNING');
      });
      if (!applied) return undefined;
      step.state = 'APPLIED';
      step.appliedAt = applied.result.appliedAt;
      step.grants = applied.grants.map((g) => g.id);
      for (const g of applied.grants) used.set(g.id, g);
      lane.setSteps(steps);
    }
    const request = lane.workRequest({ ready: true, grantsMissing: [], usable: [...used.values()], blockersOpen: [], waitingFor: [] });
    return { evidence: await recordExecution({ ...request, steps }) };
  });
}
