/**
 * The shape shared by scoping, rehearsal, dry-run and precheck: wait for the lane's gate (its grants, the change
 * entity's confirmation), then run one non-mutating activity and complete with its evidence. HOLD if the gate
 * never opens before the deadline or an owner holds.
 */
import type { EvidenceRef } from '../domain/lane-status';
import type { LaneWorkRequest } from '../activities/lane-request';
import type { LaneRuntime } from './lane-runtime';
import type { LaneBodyResult } from './lane-shell';
import { grantTimeoutMs, type LaneInput } from './lane-input';

export async function gatedWork(
  lane: LaneRuntime,
  input: LaneInput,
  work: (req: LaneWorkRequest) => Promise<EvidenceRef>,
): Promise<LaneBodyResult> {
  const verdict = await lane.awaitGate(grantTimeoutMs(input));
  if (!verdict) return undefined;
  lane.setState('RUNNING');
  return { evidence: await work(lane.workRequest(verdict)) };
}
