/** What the operator's `lanes start` passes to every lane workflow. */
import type { ChangeSpec } from '../domain/change-spec';

export interface LaneInput {
  change: ChangeSpec;
  /** The operator's signed START_LANE envelope, bound to this workflow id. */
  start: unknown;
  /** How long each wait for owner grants lasts before the lane ends in HOLD. Default 72 h. */
  grantTimeoutMs?: number;
  /** Rehearsal only: rehearse on a production-shaped clone. */
  shaped?: boolean;
  /** Precheck only: how long a passed precheck may open an execution lane. Default 24 h. */
  precheckValidForMs?: number;
}

export const DEFAULT_GRANT_TIMEOUT_MS = 72 * 60 * 60 * 1000;
export const DEFAULT_PRECHECK_VALID_FOR_MS = 24 * 60 * 60 * 1000;

const positive = (t: unknown): t is number => typeof t === 'number' && Number.isFinite(t) && t > 0;

export function grantTimeoutMs(input: LaneInput): number {
  return positive(input.grantTimeoutMs) ? input.grantTimeoutMs : DEFAULT_GRANT_TIMEOUT_MS;
}

export function precheckValidForMs(input: LaneInput): number {
  return positive(input.precheckValidForMs) ? input.precheckValidForMs : DEFAULT_PRECHECK_VALID_FOR_MS;
}
