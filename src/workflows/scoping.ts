/** The scoping lane: records what the change declares, for the owner to read. Needs no grant; touches no database. */
import type { LaneStatus } from '../domain/lane-status';
import { requiredGrants } from '../domain/vocabulary';
import { validLaneInput, type LaneInput } from './lane-input';
import { LaneRuntime } from './lane-runtime';
import { runLane } from './lane-shell';
import { gatedWork } from './gated-work';
import { scopeChange } from './lane-activities';

export async function scopingLane(raw: LaneInput): Promise<LaneStatus> {
  const input = validLaneInput(raw);
  const lane = new LaneRuntime('scoping', input.change, requiredGrants('scoping'));
  return runLane(lane, input, () => gatedWork(lane, input, scopeChange));
}
