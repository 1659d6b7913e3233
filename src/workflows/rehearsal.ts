/**
 * The rehearsal lane: proves the change's rollback on an isolated clone (a production-shaped one with
 * `shaped`), and only after the owner's AUTHORIZE_REHEARSAL. Silence until the deadline means HOLD.
 */
import type { LaneStatus } from '../domain/lane-status';
import { requiredGrants } from '../domain/vocabulary';
import { validLaneInput, type LaneInput } from './lane-input';
import { LaneRuntime } from './lane-runtime';
import { runLane } from './lane-shell';
import { gatedWork } from './gated-work';
import { rehearseOnClone } from './lane-activities';

export async function rehearsalLane(raw: LaneInput): Promise<LaneStatus> {
  const input = validLaneInput(raw);
  const lane = new LaneRuntime('rehearsal', input.change, requiredGrants('rehearsal'), input.shaped === true);
  return runLane(lane, input, () => gatedWork(lane, input, rehearseOnClone));
}
