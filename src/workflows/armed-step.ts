/**
 * An armed step (a repoint, a cutover: a moment, not a step): its grant arms it until issuedAt + --window. The lane
 * asks production to apply it through the gate; the production worker checks its preconditions live, read-only, and
 * applies only if all hold, else refuses with PreconditionNotMet and applies nothing. The lane then looks again a
 * few seconds later — through the gate each time, so a revoke or expiry counts — until the window lapses or an
 * owner sends HOLD (`lanes hold`, which disarms it): then the lane ends in HOLD naming the failing precondition.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { StepRecord } from '../domain/lane-status';
import type { LaneRuntime } from './lane-runtime';
import { applyStepThroughGate, type GatedStep } from './gate';

/** How often an armed step looks at production again while its preconditions do not hold. */
export const ARMED_RETRY_MS = 2_000;

/** What stood in the way when production refused an armed step for its moment (a precondition, the window); else undefined. */
function preconditionNotMet(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && (cause.type === 'PreconditionNotMet' || cause.type === 'ArmWindowLapsed') ? cause.message : undefined;
}

export async function applyArmedStep(
  lane: LaneRuntime,
  start: unknown,
  step: StepRecord,
  timeoutMs: number,
  onAuthorized: (armedUntil?: number) => void,
  show: () => void,
): Promise<GatedStep | undefined> {
  for (;;) {
    try {
      const applied = await applyStepThroughGate(lane, start, step.id, timeoutMs, onAuthorized);
      lane.noteArmed(undefined);
      return applied;
    } catch (err) {
      const failing = preconditionNotMet(err);
      if (!failing) throw err;
      step.lastCheck = failing;
      lane.noteArmed(failing);
      show();
      const until = Date.parse(step.armedUntil ?? '');
      const left = until - Date.now();
      if (!(left > 0)) return lane.holdNow(`the armed window of step ${step.id} lapsed at ${step.armedUntil} with a precondition still failing: ${failing}`);
      // An owner's HOLD (disarm) ends the wait at once; awaitGate then ends the lane in HOLD naming `failing`.
      await lane.heldWithin(Math.min(ARMED_RETRY_MS, left));
    }
  }
}
