/**
 * The rehearsal lane's gate on a real Temporal dev server with a real worker. The core assertion is read from
 * the workflow history: no ActivityTaskScheduled event for the gated work exists before a valid grant arrived.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { makeEnvelope } from '../../src/cli/envelopes';
import { statusQuery } from '../../src/workflows/messages';
import { SA_GRANTS_MISSING, SA_LANE_STATE } from '../../src/domain/search-attributes';
import { MANIFEST_FILE } from '../../src/domain/tree-hash';
import { sha256Hex } from '../../src/domain/hashing';
import type { LaneStatus } from '../../src/domain/lane-status';
import { boundTo, grantEnvelope, historyEvents, scheduledActivities, startLane, waitFor, useLaneSuite } from '../support/lanes';
import { recordHistory } from '../support/histories';

const GATED = 'rehearseOnClone';
const suite = useLaneSuite();

const status = (workflowId: string): Promise<LaneStatus> => suite.h.client.workflow.getHandle(workflowId).query(statusQuery);
const waitingLane = async (grantTimeoutMs?: number) => {
  const lane = await startLane(suite.h, suite.keys, { grantTimeoutMs });
  await waitFor('WAITING_FOR_GRANT', async () => (await status(lane.workflowId)).state === 'WAITING_FOR_GRANT');
  return lane;
};
const grantFor = (workflowId: string, changeId: string, over: Parameters<typeof makeEnvelope>[0] extends infer R ? Partial<R> : never = {}) =>
  grantEnvelope(suite.keys, workflowId, changeId, 'rehearsal', 'AUTHORIZE_REHEARSAL', { validForMs: 600_000, ...over });

describe('rehearsal lane gate (real dev server)', () => {
  it('waits in WAITING_FOR_GRANT, visible in the status query and the LaneState search attribute', async () => {
    const { workflowId } = await waitingLane();
    const s = await status(workflowId);
    expect(s.grantsMissing).toEqual(['AUTHORIZE_REHEARSAL']);
    expect(s.probes!.accepted).toEqual([]);
    expect(s.probes!.failedClosed).toBe(s.probes!.total);
    expect(s.probes!.total).toBe(47);
    expect(s.startedBy?.keyId).toBe(suite.keys.operator.keyId);
    const sa = await waitFor('LaneState search attribute', async () => {
      const d = await suite.h.client.workflow.getHandle(workflowId).describe();
      return d.typedSearchAttributes.get(SA_LANE_STATE) === 'WAITING_FOR_GRANT' ? d.typedSearchAttributes : undefined;
    });
    expect(sa.get(SA_GRANTS_MISSING)).toEqual(['AUTHORIZE_REHEARSAL']);
    expect(await scheduledActivities(suite.h.client, workflowId)).toEqual(['loadTrustRoot', 'runProbes']);
  });

  it('records wrong-key, malformed, operator-signed and mis-bound grants as rejected, and schedules nothing gated', async () => {
    const { workflowId, change } = await waitingLane();
    const handle = suite.h.client.workflow.getHandle(workflowId);
    const bad: [unknown, string][] = [
      [grantFor(workflowId, change.id, { key: suite.keys.stranger }), 'UNKNOWN_KEY'],
      [{ payload: { action: 'AUTHORIZE_REHEARSAL' }, signature: '00' }, 'MALFORMED'],
      [grantFor(workflowId, change.id, { key: suite.keys.operator }), 'WRONG_ROLE'],
      [grantFor('some-other-workflow', change.id, boundTo(workflowId)), 'OTHER_WORKFLOW'],
      [grantFor(workflowId, change.id, { action: 'REAL_RUN', evidenceTree: 'a'.repeat(64), precheckTree: 'b'.repeat(64) }), 'ACTION_NOT_HERE'],
      // Bound to another run of this workflow id, another spec, another trust root: each authorises nothing here.
      [grantFor(workflowId, change.id, { runId: 'another-run' }), 'OTHER_RUN'],
      [grantFor(workflowId, change.id, { startId: 'e'.repeat(64) }), 'OTHER_START'],
      [grantFor(workflowId, change.id, { specHash: 'c'.repeat(64) }), 'OTHER_SPEC'],
      [grantFor(workflowId, change.id, { trustRoot: 'd'.repeat(64) }), 'OTHER_TRUST_ROOT'],
      [grantFor(workflowId, change.id, { now: Date.now() - 7_200_000, validForMs: 3_600_000 }), 'EXPIRED'],
      // another grant's signature on this payload (each grant has its own nonce)
      [{ ...grantFor(workflowId, change.id), signature: grantFor(workflowId, change.id).signature }, 'BAD_SIGNATURE'],
    ];
    for (const [envelope] of bad) await handle.signal('grant', envelope);
    const s = await waitFor('all rejections recorded', async () => {
      const st = await status(workflowId);
      return st.rejected.length === bad.length ? st : undefined;
    });
    expect(s.rejected.map((r) => r.code)).toEqual(bad.map(([, c]) => c));
    expect(s.rejected.every((r) => r.reason.length > 10)).toBe(true);
    expect(s.state).toBe('WAITING_FOR_GRANT');
    expect(s.grantsPresent).toEqual([]);
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(GATED);
    await handle.terminate('test cleanup');
  });

  it('runs the gated activity only after a valid owner grant, exactly once, and completes with evidence', async () => {
    const { workflowId, change } = await waitingLane();
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await handle.signal('grant', grantFor(workflowId, change.id, { key: suite.keys.stranger }));
    await waitFor('rejection', async () => (await status(workflowId)).rejected.length === 1);
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(GATED);

    const valid = grantFor(workflowId, change.id);
    await handle.signal('grant', valid);
    const result = (await handle.result()) as LaneStatus;
    expect(result.state).toBe('COMPLETED');
    expect(result.grantsPresent.map((g) => g.signer.keyId)).toEqual([suite.keys.owner.keyId]);

    // Order, from history: the gated activity is scheduled once, and only after the valid grant's signal.
    const events = await historyEvents(suite.h.client, workflowId);
    const signals = events.flatMap((e, i) => (e.workflowExecutionSignaledEventAttributes?.signalName === 'grant' ? [i] : []));
    const gated = events.flatMap((e, i) => (e.activityTaskScheduledEventAttributes?.activityType?.name === GATED ? [i] : []));
    expect(signals).toHaveLength(2);
    expect(gated).toHaveLength(1);
    expect(gated[0]!).toBeGreaterThan(signals[1]!);

    // Evidence on disk matches the tree hash the lane reported.
    const manifest = readFileSync(`${result.evidence!.dir}/${MANIFEST_FILE}`, 'utf8');
    expect(sha256Hex(manifest)).toBe(result.evidence!.treeHash);
    expect(manifest.trim().split('\n')).toHaveLength(result.evidence!.files);
    await recordHistory(suite.h.client, workflowId, 'rehearsal-granted');
  });

  it('ends in HOLD when the deadline passes in silence, and never schedules the gated activity', async () => {
    const { workflowId } = await startLane(suite.h, suite.keys, { grantTimeoutMs: 2000 });
    const result = (await suite.h.client.workflow.getHandle(workflowId).result()) as LaneStatus;
    expect(result.state).toBe('HOLD');
    expect(result.holdReason).toMatch(/nothing proceeds on silence: at the deadline .* still waiting for grants from an owner: AUTHORIZE_REHEARSAL/);
    expect(readFileSync(result.decisionPacket!, 'utf8')).toMatch(/^rehearsal: HOLD\. Production: BLOCKED/m);
    expect(await scheduledActivities(suite.h.client, workflowId)).toEqual(['loadTrustRoot', 'runProbes', 'writeDecisionPacket']);
    await recordHistory(suite.h.client, workflowId, 'rehearsal-hold-deadline');
  });

  it("ends in HOLD on an owner's signed hold; a later grant cannot revive it", async () => {
    const { workflowId, change } = await waitingLane();
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await handle.signal('hold', grantEnvelope(suite.keys, workflowId, change.id, 'rehearsal', 'HOLD', { key: suite.keys.owner2 }));
    const result = (await handle.result()) as LaneStatus;
    expect(result.state).toBe('HOLD');
    expect(result.hold?.by.keyId).toBe(suite.keys.owner2.keyId);
    await expect(handle.signal('grant', grantFor(workflowId, change.id))).rejects.toThrow();
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(GATED);
    await recordHistory(suite.h.client, workflowId, 'rehearsal-hold-signed');
  });

  it('refuses an operator HOLD and an owner START: roles are not interchangeable', async () => {
    const { workflowId, change } = await waitingLane();
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await handle.signal('hold', grantEnvelope(suite.keys, workflowId, change.id, 'rehearsal', 'HOLD', { key: suite.keys.operator }));
    const s = await waitFor('rejected hold', async () => {
      const st = await status(workflowId);
      return st.rejected.length === 1 ? st : undefined;
    });
    expect(s.rejected[0]!.code).toBe('WRONG_ROLE');
    expect(s.state).toBe('WAITING_FOR_GRANT');
    await handle.terminate('test cleanup');
  });

  it('fails a lane whose start is not signed by a trusted operator, before anything gated', async () => {
    const { workflowId } = await startLane(suite.h, suite.keys, { startKey: suite.keys.owner });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/lane start refused: START_LANE must be signed by an operator/);
    // The probes run alongside the start's verification (they touch no target); nothing gated was scheduled.
    expect(await scheduledActivities(suite.h.client, workflowId)).toEqual(['loadTrustRoot', 'runProbes', 'writeDecisionPacket']);
  });

  it('judges grants sent while no worker runs once one starts; a replayed grant is refused', async () => {
    await suite.stopWorker();
    const { workflowId, change } = await startLane(suite.h, suite.keys);
    const handle = suite.h.client.workflow.getHandle(workflowId);
    const valid = grantFor(workflowId, change.id);
    await handle.signal('grant', valid);
    await handle.signal('grant', valid); // the same envelope again: a replay
    await suite.startWorker();
    const result = (await handle.result()) as LaneStatus;
    expect(result.state).toBe('COMPLETED');
    expect(result.grantsPresent).toHaveLength(1);
    expect(result.rejected.map((r) => r.code)).toEqual(['REPLAYED']);
    expect((await scheduledActivities(suite.h.client, workflowId)).filter((n) => n === GATED)).toHaveLength(1);
    await recordHistory(suite.h.client, workflowId, 'rehearsal-queued-and-replayed');
  });

  it('fails closed when the worker has no readable trust root', async () => {
    await suite.stopWorker();
    await suite.startWorker(`${suite.keys.dir}/missing-trust-root.json`);
    try {
      const { workflowId } = await startLane(suite.h, suite.keys);
      const err = await suite.h.client.workflow.getHandle(workflowId).result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/cannot load the trust root: cannot read trust root .*missing-trust-root.json/);
      expect(await scheduledActivities(suite.h.client, workflowId)).toEqual(['loadTrustRoot', 'runProbes', 'writeDecisionPacket']);
      expect(existsSync(`${suite.keys.dir}/missing-trust-root.json`)).toBe(false);
    } finally {
      await suite.stopWorker();
      await suite.startWorker();
    }
  });
});
