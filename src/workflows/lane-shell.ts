/**
 * The frame every lane runs in: load the trust root (recorded in history), verify the operator's signed start,
 * register with the change entity, run the lane's body, and always report the outcome to the change entity —
 * completed, HOLD or failed — so its ledger and blocker map reflect every lane that ran.
 */
import { ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { LaneActivities } from '../activities';
import type { LedgerEntry } from '../domain/blocker-rules';
import type { EvidenceRef, LaneStatus, ProbeReport } from '../domain/lane-status';
import type { LaneInput } from './lane-input';
import type { TrustRoot } from '../domain/trust-root';
import type { LaneRuntime } from './lane-runtime';
import { runProbes, writeDecisionPacket } from './lane-activities';

const { loadTrustRoot } = proxyActivities<LaneActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
  summary: 'load the trust root (owner and operator keys)',
});

/** What a lane body returns: its evidence when it did its work, undefined when it ended in HOLD. */
export type LaneBodyResult = { evidence: EvidenceRef; ledger?: Partial<LedgerEntry> } | undefined;

export async function runLane(lane: LaneRuntime, input: LaneInput, body: () => Promise<LaneBodyResult>): Promise<LaneStatus> {
  let ledger: Partial<LedgerEntry> | undefined;
  // The probes and the registration with the change entity need nothing the lane learns first, so they run while
  // the trust root loads and the start is verified; the probes' verdict is still recorded (and a probe accepted
  // still fails the lane) before the body runs. Lanes begun when each waited for the one before replay as they ran.
  const overlapped = patched('lane-start-overlapped');
  let probes: Promise<ProbeReport> | undefined;
  let loaded: Promise<TrustRoot> | undefined;
  if (overlapped) {
    void lane.register();
    loaded = loadTrustRoot();
    probes = runProbes();
    // Handled when awaited below; this keeps a lane that fails before then from leaving a rejection unhandled.
    probes.catch(() => undefined);
  }
  try {
    const trustRoot = await (loaded ?? loadTrustRoot()).catch((err: Error) =>
      lane.fail(`cannot load the trust root: ${(err.cause as Error | undefined)?.message ?? err.message}`),
    );
    await lane.begin(trustRoot, input.start, { shaped: input.shaped, precheckValidForMs: input.precheckValidForMs, resumeFrom: input.resumeFrom });
    lane.recordProbes(await (probes ?? runProbes()));
    const result = await body();
    if (result) {
      ledger = result.ledger;
      lane.complete(result.evidence);
    }
  } catch (err) {
    const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    lane.markFailed(isCancellation(err) ? 'the lane was cancelled' : reason);
    await CancellationScope.nonCancellable(() => finish(lane, input, undefined, overlapped));
    if (isCancellation(err) || (err instanceof ApplicationFailure && err.type === 'LaneFailed')) throw err;
    throw ApplicationFailure.nonRetryable(reason, 'LaneFailed');
  }
  await finish(lane, input, ledger, overlapped);
  return lane.snapshot();
}

/**
 * Reports the outcome to the change entity and leaves the decision packet. The packet is rendered from the outcome
 * reportOutcome records before it sends anything, so both go out in one workflow task; lanes begun when the packet
 * waited for the report's delivery (`overlapped` false) replay as they ran.
 */
async function finish(lane: LaneRuntime, input: LaneInput, ledger: Partial<LedgerEntry> | undefined, overlapped: boolean): Promise<void> {
  if (!overlapped) {
    await lane.reportOutcome(ledger);
    await leaveDecisionPacket(lane, input);
    return;
  }
  const reported = lane.reportOutcome(ledger);
  await Promise.all([reported, leaveDecisionPacket(lane, input)]);
}

/** Every lane ends with a decision packet; failing to write one never changes how the lane ended. */
async function leaveDecisionPacket(lane: LaneRuntime, input: LaneInput): Promise<void> {
  // The start travels with it: the lane worker writes the packet only for a lane whose start verifies, and only
  // under that lane's own workflow id and run.
  const { json, markdown } = lane.decision();
  await writeDecisionPacket({ start: input.start, change: lane.change, json, markdown }).then(
    (path) => lane.noteDecisionPacket(path),
    () => undefined,
  );
}
