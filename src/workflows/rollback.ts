/**
 * The rollback lane: the way back from a production execution. It needs OPT4_PRODUCTION and PROD_ROLLBACK (naming
 * the passed rehearsal that proved this spec's rollback SQL), and asks production to undo the spec's steps in
 * reverse order, each through gate.ts; production's own ledger says which steps are applied (a step the execution
 * never reached is NOT_APPLIED and skipped), enforces the order and that each is undone once. Its packet proves
 * production's surface is back to the fingerprint recorded before the execution's first step, or names every
 * difference.
 */
import type { LaneStatus, StepRecord } from '../domain/lane-status';
import type { VerifiedEnvelope } from '../domain/envelope-rules';
import { requiredGrants } from '../domain/vocabulary';
import { grantTimeoutMs, validLaneInput, type LaneInput } from './lane-input';
import { LaneRuntime } from './lane-runtime';
import { runLane } from './lane-shell';
import { rollbackStepThroughGate } from './gate';
import { recordRollback } from './lane-activities';

export async function rollbackLane(raw: LaneInput): Promise<LaneStatus> {
  const input = validLaneInput(raw);
  const { change } = input;
  const lane = new LaneRuntime('rollback', change, requiredGrants('rollback'));
  return runLane(lane, input, async () => {
    if (change.steps.length === 0) lane.fail('the change declares no steps: there is nothing to roll back');
    const steps: StepRecord[] = [...change.steps].reverse().map((s) => ({ id: s.id, action: s.action, state: 'PENDING' }));
    lane.setSteps(steps);
    const used = new Map<string, VerifiedEnvelope>();
    for (const step of steps) {
      const done = await rollbackStepThroughGate(lane, input.start, step.id, grantTimeoutMs(input), () => {
        step.state = 'RUNNING';
        lane.setSteps(steps);
        lane.setState('RUNNING');
      });
      if (!done) return undefined;
      if (done.result.state === 'NOT_APPLIED') step.state = 'NOT_APPLIED';
      else {
        step.state = 'ROLLED_BACK';
        step.rolledBackAt = done.result.rolledBackAt;
        step.grants = done.grants.map((g) => g.id);
      }
      for (const g of done.grants) used.set(g.id, g);
      lane.setSteps(steps);
    }
    const request = lane.workRequest({ ready: true, grantsMissing: [], usable: [...used.values()], blockersOpen: [], waitingFor: [] });
    return { evidence: await recordRollback(request) };
  });
}
