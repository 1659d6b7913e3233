/** The dry-run lane: production, read-only, entry == exit; needs AUTHORIZE_DRYRUN and OPT4_PRODUCTION. */
import type { LaneStatus } from '../domain/lane-status';
import { requiredGrants } from '../domain/vocabulary';
import { validLaneInput, type LaneInput } from './lane-input';
import { LaneRuntime } from './lane-runtime';
import { runLane } from './lane-shell';
import { gatedWork } from './gated-work';
import { dryRunProduction } from './lane-activities';

export async function dryRunLane(raw: LaneInput): Promise<LaneStatus> {
  const input = validLaneInput(raw);
  const lane = new LaneRuntime('dry-run', input.change, requiredGrants('dry-run'));
  return runLane(lane, input, () => gatedWork(lane, input, dryRunProduction));
}
