/** What the operator's `lanes start` passes to every lane workflow, and the check every lane runs on it first. */
import { ApplicationFailure } from '@temporalio/workflow';
import type { ChangeSpec } from '../domain/change-spec';
import { checkLaneInput } from './lane-input-check';

export interface LaneInput {
  change: ChangeSpec;
  /** The operator's signed START_LANE envelope, bound to this workflow id, the spec and the trust root. */
  start: unknown;
  /** How long each wait for owner grants lasts before the lane ends in HOLD. Default 72 h. */
  grantTimeoutMs?: number;
  /** Rehearsal only: rehearse on a production-shaped clone. */
  shaped?: boolean;
  /** Precheck only: how long a passed precheck may open an execution lane. Default (and at most) 24 h. */
  precheckValidForMs?: number;
  /** Execution and precheck only: resume a half-applied change from this step (signed in the START). */
  resumeFrom?: string;
}

export const DEFAULT_GRANT_TIMEOUT_MS = 72 * 60 * 60 * 1000;
export const DEFAULT_PRECHECK_VALID_FOR_MS = 24 * 60 * 60 * 1000;
/** A passed precheck never opens execution for longer than this, whatever the start asked (the workers cap it too). */
export const MAX_PRECHECK_VALID_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * A lane started directly (not through `lanes start`) with a malformed input fails closed before it does anything:
 * the workflow validates its own input, it does not trust its caller. The check accepts exactly what the spec
 * schema the CLI and the workers use accepts (lane-input-check.ts says why it is written out); anything else in
 * the input is refused, not ignored.
 */
export function validLaneInput(raw: unknown): LaneInput {
  const checked = checkLaneInput(raw);
  if (!checked.ok) {
    const why = checked.issues
      .slice(0, 3)
      .map((i) => `${i.path.map(String).join('.') || '(input)'} ${i.message}`)
      .join('; ');
    throw ApplicationFailure.nonRetryable(`lane input refused: ${why}; start lanes with \`lanes start\``, 'LaneInputInvalid');
  }
  return checked.value as unknown as LaneInput;
}

export function grantTimeoutMs(input: LaneInput): number {
  return input.grantTimeoutMs ?? DEFAULT_GRANT_TIMEOUT_MS;
}

export function precheckValidForMs(input: LaneInput): number {
  return Math.min(input.precheckValidForMs ?? DEFAULT_PRECHECK_VALID_FOR_MS, MAX_PRECHECK_VALID_FOR_MS);
}
