/**
 * The precheck lane: the real run's preconditions on production, without mutation; needs AUTHORIZE_PRECHECK and
 * OPT4_PRODUCTION. A passed precheck opens execution only within its validity window (default 24 h), measured
 * in workflow time from when it passed.
 */
import type { LaneStatus } from '../domain/lane-status';
import { requiredGrants } from '../domain/vocabulary';
import { precheckValidForMs, validLaneInput, type LaneInput } from './lane-input';
import { LaneRuntime } from './lane-runtime';
import { runLane } from './lane-shell';
import { gatedWork } from './gated-work';
import { precheckProduction } from './lane-activities';

export async function precheckLane(raw: LaneInput): Promise<LaneStatus> {
  const input = validLaneInput(raw);
  const lane = new LaneRuntime('precheck', input.change, requiredGrants('precheck'));
  return runLane(lane, input, async () => {
    const done = await gatedWork(lane, input, precheckProduction);
    return done && { ...done, ledger: { validUntil: new Date(Date.now() + precheckValidForMs(input)).toISOString() } };
  });
}
