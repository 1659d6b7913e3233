/**
 * The rehearsal lane: proves a change on an isolated clone, and only after the owner's AUTHORIZE_REHEARSAL.
 *
 * Order is the promise: load the trust root (recorded in history) → verify the operator's signed start → wait
 * durably for the grant (silence until the deadline = HOLD) → only then schedule the rehearsal activity.
 * No code path reaches the rehearsal activity without `awaitGrants` having returned true.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { LaneActivities } from '../activities';
import type { LaneStatus } from '../domain/lane-status';
import { LANE_REQUIRED_GRANTS } from '../domain/vocabulary';
import type { LaneInput } from './lane-input';
import { grantTimeoutMs } from './lane-input';
import { LaneRuntime } from './lane-runtime';

const { loadTrustRoot } = proxyActivities<LaneActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});
const { rehearseOnClone } = proxyActivities<LaneActivities>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 3 },
});

export async function rehearsalLane(input: LaneInput): Promise<LaneStatus> {
  const lane = new LaneRuntime('rehearsal', input.change.id, LANE_REQUIRED_GRANTS.rehearsal);
  const trustRoot = await loadTrustRoot().catch((err: Error) => lane.fail(`cannot load the trust root: ${(err.cause as Error | undefined)?.message ?? err.message}`));
  lane.begin(trustRoot, input.start);
  if (!(await lane.awaitGrants(grantTimeoutMs(input)))) return lane.snapshot();

  lane.setState('RUNNING');
  const evidence = await rehearseOnClone({
    workflowId: lane.snapshot().workflowId,
    change: input.change,
    grants: lane.grantsFor('AUTHORIZE_REHEARSAL'),
    trustRootFingerprint: lane.snapshot().trustRootFingerprint!,
  });
  return lane.complete(evidence);
}
