/** What the operator's `lanes start` passes to every lane workflow, and the check every lane runs on it first. */
import { ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import { changeSpecSchema, type ChangeSpec } from '../domain/change-spec';

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

const duration = z.number().int().positive().max(365 * 24 * 60 * 60 * 1000);

/** The same spec schema the CLI and the workers use; anything else in the input is refused, not ignored. */
const laneInputSchema = z
  .object({
    change: changeSpecSchema,
    start: z.unknown(),
    grantTimeoutMs: duration.optional(),
    shaped: z.boolean().optional(),
    precheckValidForMs: duration.optional(),
    resumeFrom: z.string().min(1).max(64).optional(),
  })
  .strict();

/**
 * A lane started directly (not through `lanes start`) with a malformed input fails closed before it does anything:
 * the workflow validates its own input, it does not trust its caller.
 */
export function validLaneInput(raw: unknown): LaneInput {
  const parsed = laneInputSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.map(String).join('.') || '(input)'} ${i.code === 'unrecognized_keys' ? `has unknown field(s) ${i.keys.join(', ')}` : i.message}`)
      .join('; ');
    throw ApplicationFailure.nonRetryable(`lane input refused: ${why}; start lanes with \`lanes start\``, 'LaneInputInvalid');
  }
  return parsed.data as LaneInput;
}

export function grantTimeoutMs(input: LaneInput): number {
  return input.grantTimeoutMs ?? DEFAULT_GRANT_TIMEOUT_MS;
}

export function precheckValidForMs(input: LaneInput): number {
  return Math.min(input.precheckValidForMs ?? DEFAULT_PRECHECK_VALID_FOR_MS, MAX_PRECHECK_VALID_FOR_MS);
}
