/**
 * The execution lane: the only lane that changes production. It needs OPT4_PRODUCTION, REAL_RUN and one grant
 * per action its steps declare, no open blocker, and a fresh precheck; it re-asks the gate before every step
 * (grants expire and are revoked mid-way) and applies steps strictly in order, each through gate.ts.
 */
import type { LaneStatus, StepRecord } from '../domain/lane-status';
import type { VerifiedEnvelope } from '../domain/envelope-rules';
import { requiredGrants } from '../domain/vocabulary';
import { resumeIndex, stepsToApply } from '../domain/resume';
import { grantTimeoutMs, validLaneInput, type LaneInput } from './lane-input';
import { LaneRuntime } from './lane-runtime';
import { runLane } from './lane-shell';
import { patched } from '@temporalio/workflow';
import { applyStepThroughGate } from './gate';
import { applyArmedStep } from './armed-step';
import { recordExecution } from './lane-activities';

export async function executionLane(raw: LaneInput): Promise<LaneStatus> {
  const input = validLaneInput(raw);
  const { change } = input;
  // A resume needs grants for the steps it applies only (each a fresh grant of this run); begin() fails it if the
  // START signs another resume than the input asks.
  const lane = new LaneRuntime('execution', change, requiredGrants('execution', stepsToApply(change, input.resumeFrom).map((s) => s.action)));
  return runLane(lane, input, async () => {
    if (change.steps.length === 0) lane.fail('the change declares no steps: there is nothing to execute');
    // A resumed execution (signed in its START; begin() checked the step) applies only the steps from resumeFrom on.
    // Lanes begun before resumes existed carry none, so they take exactly the path they always took.
    const from = resumeIndex(change, input.resumeFrom);
    const steps: StepRecord[] = change.steps.map((s, i) => ({ id: s.id, action: s.action, state: i < from ? 'APPLIED_EARLIER' : 'PENDING' }));
    lane.setSteps(steps);
    const used = new Map<string, VerifiedEnvelope>();
    for (const step of steps.slice(from)) {
      const onAuthorized = (armedUntil?: number) => {
        step.state = 'RUNNING';
        if (armedUntil !== undefined) step.armedUntil = new Date(armedUntil).toISOString();
        lane.setSteps(steps);
        lane.setState('RUNNING');
      };
      const declared = change.steps.find((s) => s.id === step.id)!;
      // Only a spec declaring an armed step takes the armed path, so every lane begun before it existed replays.
      let applied;
      try {
        applied =
          declared.window !== undefined && patched('armed-steps')
            ? await applyArmedStep(lane, input.start, step, grantTimeoutMs(input), onAuthorized, () => lane.setSteps(steps))
            : await applyStepThroughGate(lane, input.start, step.id, grantTimeoutMs(input), onAuthorized);
      } catch (err) {
        // Shown as what it is (status, packet, UI): the step production refused or whose SQL failed, not one still running.
        if (step.state === 'RUNNING') {
          step.state = 'FAILED';
          lane.setSteps(steps);
        }
        throw err;
      }
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
