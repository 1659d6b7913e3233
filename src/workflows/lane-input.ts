/** What the operator's `lanes start` passes to every lane workflow. */
import type { ChangeSpec } from '../domain/change-spec';

export interface LaneInput {
  change: ChangeSpec;
  /** The operator's signed START_LANE envelope, bound to this workflow id. */
  start: unknown;
  /** How long each wait for owner grants lasts before the lane ends in HOLD. Default 72 h. */
  grantTimeoutMs?: number;
}

export const DEFAULT_GRANT_TIMEOUT_MS = 72 * 60 * 60 * 1000;

export function grantTimeoutMs(input: LaneInput): number {
  const t = input.grantTimeoutMs;
  return typeof t === 'number' && Number.isFinite(t) && t > 0 ? t : DEFAULT_GRANT_TIMEOUT_MS;
}
