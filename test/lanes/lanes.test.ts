/**
 * Every lane on the real dev server, and the change entity that ties a change's lanes together: scoping,
 * dry-run (read-only, entry == exit, a writing step caught), production-shaped rehearsal, a rollback that does
 * not restore (fails closed, naming the table), the blocker map moved by a passed rehearsal and by signed
 * updates, open blockers stopping execution, and a nonce used by two lanes of one change.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { LaneStatus } from '../../src/domain/lane-status';
import type { ChangeState } from '../../src/domain/change-state';
import type { BlockerMap } from '../../src/domain/blocker-map';
import { productionTarget, type ChangeSpec } from '../../src/domain/change-spec';
import { charterHashOf } from '../../src/domain/charter';
import { SA_BLOCKERS_OPEN } from '../../src/domain/search-attributes';
import { blockersQuery, changeQuery, changeWorkflowId, statusQuery } from '../../src/workflows/messages';
import { makeEnvelope } from '../../src/cli/envelopes';
import { blockerStateHash, specHashOf } from '../../src/domain/bindings';
import { charterChange, charterEnvelope, productionQuery, freshChange, grantEnvelope, runLaneWithGrants, scheduledActivities, startLane, waitFor, useLaneSuite } from '../support/lanes';
import { recordHistory } from '../support/histories';

const suite = useLaneSuite();

const evidenceJson = (s: LaneStatus, file: string) => JSON.parse(readFileSync(join(s.evidence!.dir, file), 'utf8'));
const changeState = (changeId: string) => suite.h.client.workflow.getHandle(changeWorkflowId(changeId)).query(changeQuery);

describe('lanes', () => {
  it('scoping needs no grant, contacts no database, and records what each lane will need', async () => {
    const change = freshChange();
    const { workflowId, result } = await runLaneWithGrants(suite.h, suite.keys, change, 'scoping', []);
    expect(result.state).toBe('COMPLETED');
    expect(await scheduledActivities(suite.h.client, workflowId)).toEqual(['loadTrustRoot', 'runProbes', 'scopeChange', 'writeDecisionPacket']);
    const scoping = evidenceJson(result, 'scoping.json');
    expect(scoping.grantsPerLane.execution).toEqual(['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION']);
    expect(evidenceJson(result, 'blocker-map.json').blockers).toHaveLength(7);
    // The tree hash is in the memo too, where the UI and `temporal workflow describe` show it.
    const { memo } = await suite.h.client.workflow.getHandle(workflowId).describe();
    expect(memo).toMatchObject({ evidenceTree: result.evidence!.treeHash, evidenceDir: result.evidence!.dir });
    await recordHistory(suite.h.client, workflowId, 'scoping-completed');
  });

  it('dry-run needs AUTHORIZE_DRYRUN and OPT4_PRODUCTION; it catches writing steps and leaves production as it was', async () => {
    const change = freshChange({ blockers: false });
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'dry-run', change });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'dry-run', 'AUTHORIZE_DRYRUN'));
    // A grant for another lane's action is refused, and one grant never implies another.
    await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'dry-run', 'AUTHORIZE_PRECHECK'));
    const waiting = await waitFor('one grant judged', async () => {
      const st = await handle.query(statusQuery);
      return st.grantsMissing.length === 1 && st.rejected.length === 1 ? st : undefined;
    });
    expect(waiting.grantsMissing).toEqual(['OPT4_PRODUCTION']);
    expect(waiting.rejected[0]!.code).toBe('ACTION_NOT_HERE');
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain('dryRunProduction');
    await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'dry-run', 'OPT4_PRODUCTION'));
    const result = (await handle.result()) as LaneStatus;
    expect(result.state).toBe('COMPLETED');
    const dry = evidenceJson(result, 'dry-run.json');
    expect(dry.transactionReadOnly).toBe('on');
    expect(dry.entry).toBe(dry.exit);
    expect(dry.steps.map((s: { id: string; wouldWrite: boolean }) => [s.id, s.wouldWrite])).toEqual([
      ['qt001-apply', true],
      ['qt001-activation', true],
    ]);
    expect(await productionQuery(suite.h.lanesHome, change, "SELECT 1 FROM information_schema.tables WHERE table_name = 'birth_registry'")).toEqual([]);
    await recordHistory(suite.h.client, workflowId, 'dry-run-completed');
  });

  it('rehearses on a production-shaped clone with its own identity', async () => {
    const change = freshChange({ blockers: false });
    const { result } = await runLaneWithGrants(suite.h, suite.keys, change, 'rehearsal', ['AUTHORIZE_REHEARSAL'], {}, { shaped: true });
    expect(result.state).toBe('COMPLETED');
    expect(result.shaped).toBe(true);
    const r = evidenceJson(result, 'rehearsal.json');
    expect(r.isolation.clone.instance).not.toBe(r.isolation.production.instance);
    expect(r.proof.afterRollback).toBe(r.proof.before);
    expect(r.proof.afterRestore).toBe(r.proof.before);
    expect(r.proof.afterApply).not.toBe(r.proof.before);
    const provenance = evidenceJson(result, 'clone-provenance.json');
    expect(provenance).toMatchObject({ kind: 'production-shaped', method: expect.stringMatching(/copy of production's PGlite data directory/), sourceIdentity: r.isolation.production });
    const compat = evidenceJson(result, 'schema-compatibility.json');
    expect(compat.equal).toBe(true);
    expect(compat.productionSchema).toBe(compat.cloneSchema);
  });

  it('fails closed, naming the table, when the rollback does not restore; the ledger records the failure', async () => {
    const base = freshChange();
    const change = { ...base, steps: [{ ...base.steps[0]!, rollback: 'ALTER TABLE birth_registry ADD COLUMN leftover int; DELETE FROM birth_registry;' }] };
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'rehearsal', change });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'rehearsal', 'AUTHORIZE_REHEARSAL'));
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/the rollback SQL did not restore the surface exactly: table birth_registry \(absent → exists\) differ/);
    const state = await waitFor('ledger entry', async () => {
      const st = await changeState(change.id);
      return st.ledger.length === 1 ? st : undefined;
    });
    expect(state.ledger[0]).toMatchObject({ workflowId, outcome: 'FAILED' });
    expect(state.blockers!.blockers.find((b) => b.id === 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1')!.status).toBe('OPEN');
  });

  it("binds nobody with the operator's blocker rules until an owner charters them: no lane outcome or signed move moves a blocker, no execution opens", async () => {
    const change = freshChange();
    const rehearsal = await runLaneWithGrants(suite.h, suite.keys, change, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
    const entity = suite.h.client.workflow.getHandle(changeWorkflowId(change.id));
    const before = await waitFor('the rehearsal in the ledger', async () => {
      const st: ChangeState = await entity.query(changeQuery);
      return st.ledger.length === 1 ? st : undefined;
    });
    // The rule says a passed rehearsal takes the rollback blocker to PARTIALLY_DISCHARGED; unchartered, it does not.
    expect(before.charter).toMatchObject({ hash: charterHashOf({ changeId: change.id, blockers: change.blockers }), envelopes: [] });
    expect(before.charter?.at).toBeUndefined();
    expect(before.blockers!.blockers.every((b) => b.status === 'OPEN' && !b.proofs)).toBe(true);
    const move = makeEnvelope({ key: suite.keys.operator, workflowId: changeWorkflowId(change.id), changeId: change.id, action: 'BLOCKER_UPDATE', blockerId: 'FIX7-P0-OPERATOR-INPUT-1', blockerStatus: 'NARROWED', evidenceTree: rehearsal.result.evidence!.treeHash, validForMs: 600_000, trustRoot: suite.keys.trustRoot, specHash: specHashOf(change) });
    await entity.signal('blockerUpdate', move);
    // An operator cannot charter; nor can an owner charter other rules than the entity holds.
    await entity.signal('charter', charterEnvelope(suite.keys, change, { key: suite.keys.operator }));
    await entity.signal('charter', charterEnvelope(suite.keys, change, { charterHash: 'f'.repeat(64) }));
    const judged = await waitFor('three refusals', async () => {
      const st: ChangeState = await entity.query(changeQuery);
      return st.rejected.length === 3 ? st : undefined;
    });
    expect(judged.rejected.map((r) => r.code)).toEqual(['UNCHARTERED', 'WRONG_ROLE', 'OTHER_CHARTER']);
    expect(judged.blockers).toEqual(before.blockers);
    await runLaneWithGrants(suite.h, suite.keys, change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change, charter: false });
    const waiting = await waitFor('the execution waiting for the charter', async () => {
      const st = await suite.h.client.workflow.getHandle(workflowId).query(statusQuery);
      return st.waitingFor.some((w) => /owners to charter the change's blocker map and rules/.test(w)) ? st : undefined;
    });
    expect(waiting.state).toBe('WAITING_FOR_GRANT');
    // Chartered, the same signed move counts (it is judged again when sent again, with a fresh nonce).
    const chartered = await charterChange(suite.h, suite.keys, change);
    expect(chartered.charter?.signers?.map((s) => s.name)).toEqual(['owner']);
    await entity.signal('blockerUpdate', makeEnvelope({ ...moveRequest(change, rehearsal.result.evidence!.treeHash) }));
    await waitFor('the move taken', async () => ((await entity.query(changeQuery)) as ChangeState).blockers!.blockers.find((b) => b.id === 'FIX7-P0-OPERATOR-INPUT-1')!.status === 'NARROWED');
    await suite.h.client.workflow.getHandle(workflowId).terminate('test cleanup');
  });

  it('moves the rollback blocker on a passed rehearsal; open blockers keep execution waiting; signed updates follow the rules', async () => {
    const change = freshChange();
    await charterChange(suite.h, suite.keys, change);
    const rehearsal = await runLaneWithGrants(suite.h, suite.keys, change, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
    const tree = rehearsal.result.evidence!.treeHash;
    const entity = suite.h.client.workflow.getHandle(changeWorkflowId(change.id));
    const map = await waitFor('rollback blocker moved', async () => {
      const m = (await entity.query(blockersQuery)) as BlockerMap;
      return m.blockers.find((b) => b.id === 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1')!.status === 'PARTIALLY_DISCHARGED' ? m : undefined;
    });
    expect(map.blockers.find((b) => b.id === 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1')!.proofs![0]).toMatchObject({ kind: 'evidence', treeHash: tree });
    // The lane's decision packet, rendered from durable state, already shows the moved blocker.
    const packet = readFileSync(rehearsal.result.decisionPacket!, 'utf8');
    expect(packet).toContain('This document selects nothing. Default = HOLD_PRODUCTION.');
    expect(packet).toMatch(/\| FIX7-P0-DRYRUN-PROD-ROLLBACK-1 \| PARTIALLY_DISCHARGED \|/);
    expect(packet).toContain(`evidence packet tree ${tree}`);
    await runLaneWithGrants(suite.h, suite.keys, change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);

    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    // OPT4_PRODUCTION approves the blocker map as it is now (the rehearsal moved one), as `lanes grant` does.
    const blockersHash = blockerStateHash((await entity.query(blockersQuery)) as BlockerMap);
    for (const a of ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'] as const) {
      await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'execution', a, { evidenceTree: a === 'OPT4_PRODUCTION' ? undefined : tree, blockersHash }));
    }
    const waiting = await waitFor('only blockers left', async () => {
      const st = await handle.query(statusQuery);
      return st.grantsMissing.length === 0 && st.blockersOpen.length > 0 ? st : undefined;
    });
    expect(waiting.blockersOpen).toEqual(['FIX7-P0-PROD-BIRTH-SURFACE-1', 'FIX7-P0-PROD-CI-SCOPE-1', 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1', 'FIX7-P0-OPERATOR-INPUT-1']);
    expect(waiting.state).toBe('WAITING_FOR_GRANT');
    await waitFor('BlockersOpen on the lane', async () => (await handle.describe()).typedSearchAttributes.get(SA_BLOCKERS_OPEN) === 4);

    // Signed blocker updates: the operator narrows with an input; the owner cannot close an authorization gate.
    const update = (key: typeof suite.keys.owner, blockerId: string, blockerStatus: 'NARROWED' | 'CLOSED', extra = {}) =>
      makeEnvelope({ key, workflowId: changeWorkflowId(change.id), changeId: change.id, action: 'BLOCKER_UPDATE', blockerId, blockerStatus, validForMs: 600_000, trustRoot: suite.keys.trustRoot, specHash: specHashOf(change), ...extra });
    await entity.signal('blockerUpdate', update(suite.keys.operator, 'FIX7-P0-OPERATOR-INPUT-1', 'NARROWED', { evidenceTree: tree }));
    await entity.signal('blockerUpdate', update(suite.keys.owner, 'FIX7-P0-PLAN-REALRUN-1', 'CLOSED'));
    await entity.signal('blockerUpdate', update(suite.keys.stranger, 'FIX7-P0-PROD-CI-SCOPE-1', 'CLOSED'));
    const state = await waitFor('updates judged', async () => {
      const st: ChangeState = await entity.query(changeQuery);
      return st.rejected.length === 2 ? st : undefined;
    });
    expect(state.rejected.map((r) => r.code)).toEqual(['GRANT_GATE', 'UNKNOWN_KEY']);
    expect(state.blockers!.blockers.find((b) => b.id === 'FIX7-P0-OPERATOR-INPUT-1')!.status).toBe('NARROWED');
    expect(await entity.describe().then((d) => d.typedSearchAttributes.get(SA_BLOCKERS_OPEN))).toBe(7);

    await handle.signal('hold', grantEnvelope(suite.keys, workflowId, change.id, 'execution', 'HOLD'));
    expect(((await handle.result()) as LaneStatus).state).toBe('HOLD');
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain('applyProductionStep');
    const ledger = await waitFor('ledger', async () => {
      const st = await changeState(change.id);
      return st.ledger.length === 3 ? st.ledger : undefined;
    });
    expect(ledger.map((e) => [e.lane, e.outcome])).toEqual([
      ['rehearsal', 'COMPLETED'],
      ['precheck', 'COMPLETED'],
      ['execution', 'HOLD'],
    ]);
    expect(ledger[0]!.treeHash).toBe(tree);
    await recordHistory(suite.h.client, workflowId, 'execution-hold-blockers-open');
    await recordHistory(suite.h.client, changeWorkflowId(change.id), 'change-entity-blockers');
  });

  it('a nonce is single-use across the change: the second lane to use it loses the grant', async () => {
    const change = freshChange({ blockers: false });
    const first = await startLane(suite.h, suite.keys, { lane: 'rehearsal', change });
    const second = await startLane(suite.h, suite.keys, { lane: 'dry-run', change });
    const nonce = 'ab'.repeat(16);
    const a = suite.h.client.workflow.getHandle(first.workflowId);
    await a.signal('grant', grantEnvelope(suite.keys, first.workflowId, change.id, 'rehearsal', 'AUTHORIZE_REHEARSAL', { nonce }));
    expect(((await a.result()) as LaneStatus).state).toBe('COMPLETED');
    const b = suite.h.client.workflow.getHandle(second.workflowId);
    await b.signal('grant', grantEnvelope(suite.keys, second.workflowId, change.id, 'dry-run', 'AUTHORIZE_DRYRUN', { nonce }));
    const s = await waitFor('replay detected', async () => {
      const st = await b.query(statusQuery);
      return st.rejected.length === 1 ? st : undefined;
    });
    expect(s.rejected[0]).toMatchObject({ code: 'REPLAYED' });
    expect(s.rejected[0]!.reason).toContain(first.workflowId);
    expect(s.grantsPresent).toEqual([]);
    expect(s.grantsMissing).toEqual(['AUTHORIZE_DRYRUN', 'OPT4_PRODUCTION']);
    await b.terminate('test cleanup');
  });
});

function moveRequest(change: ChangeSpec, tree: string) {
  return { key: suite.keys.operator, workflowId: changeWorkflowId(change.id), changeId: change.id, action: 'BLOCKER_UPDATE' as const, blockerId: 'FIX7-P0-OPERATOR-INPUT-1', blockerStatus: 'NARROWED' as const, evidenceTree: tree, validForMs: 600_000, trustRoot: suite.keys.trustRoot, specHash: specHashOf(change) };
}
