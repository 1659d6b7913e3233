/**
 * The point-of-action verifier's pure rules (src/domain/point-of-action.ts), with real keys and signatures: the
 * evidence checks and, above all, the blocker chain replay — a blocker counts as moved only as far as signed moves
 * of this very spec and passed lanes of this very spec carry it. The evidence store lookup is the one input given
 * as a function here (the workers resolve and re-hash real packets; test/security covers that path).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { makeEnvelope } from '../../src/cli/envelopes';
import { blockerStateHash, specHashOf } from '../../src/domain/bindings';
import type { BlockerMap } from '../../src/domain/blocker-map';
import { changeSpecSchema, type ChangeSpec } from '../../src/domain/change-spec';
import { verifyEnvelope, type VerifiedEnvelope } from '../../src/domain/envelope-rules';
import { blockerStateProblem, precheckEvidenceProblem, rehearsalEvidenceProblem, replayBlockerState, type LaneOfTree } from '../../src/domain/point-of-action';
import { parseTrustRoot } from '../../src/domain/trust-root';
import { verifyEd25519Node } from '../../src/worker/node-signature';
import { changeWorkflowId } from '../../src/workflows/messages';
import { makeKeys } from '../support/lanes';
import { readChangeSpecForTest } from '../support/fixtures';

const keys = makeKeys();
const root = parseTrustRoot(JSON.parse(readFileSync(keys.trustRootPath, 'utf8')));
const change: ChangeSpec = changeSpecSchema.parse({ ...readChangeSpecForTest(), id: 'poa-unit' });
const spec = specHashOf(change);
const otherSpec = specHashOf({ ...change, title: 'the same change with other words' });
const SURFACE = 'FIX7-P0-PROD-BIRTH-SURFACE-1';
const T0 = Date.parse('2026-06-01T10:00:00Z');

const move = (key: typeof keys.owner, to: 'NARROWED' | 'CLOSED', minutes: number, over: Parameters<typeof makeEnvelope>[0] extends infer R ? Partial<R> : never = {}) =>
  makeEnvelope({ key, workflowId: changeWorkflowId(change.id), changeId: change.id, action: 'BLOCKER_UPDATE', blockerId: SURFACE, blockerStatus: to, trustRoot: root.fingerprint, specHash: spec, validForMs: 600_000, now: T0 + minutes * 60_000, ...over });

/** What the point of action passes: a signed move of this change and spec, verified as of its issue time. */
const verifyUpdate = (specHash: string) => (envelope: unknown): VerifiedEnvelope | undefined => {
  const at = Date.parse(String((envelope as { payload?: { issuedAt?: unknown } }).payload?.issuedAt));
  const v = verifyEnvelope(envelope, { trustRoot: root, workflowId: changeWorkflowId(change.id), changeId: change.id, lane: undefined, specHash, acceptedActions: ['BLOCKER_UPDATE'], nowMs: at, usedNonces: new Set() }, verifyEd25519Node);
  return v.ok ? v.envelope : undefined;
};

const INPUT = 'c'.repeat(64);
/** A presented map carrying the given signed moves as proofs on the surface blocker. */
function presented(envelopes: unknown[]): BlockerMap {
  const map = structuredClone(change.blockers!.map);
  const b = map.blockers.find((x) => x.id === SURFACE)!;
  b.status = 'CLOSED';
  b.proofs = envelopes.map((envelope, i) => ({ kind: 'owner-decision', by: 'k', at: new Date(T0 + i).toISOString(), from: 'OPEN', to: 'CLOSED', envelope }));
  return map;
}
const surfaceStatus = (m: BlockerMap | undefined) => m?.blockers.find((b) => b.id === SURFACE)?.status;
/** The evidence store, as far as these tests need one: a scoping lane of this spec that recorded the operator input. */
const INPUT_TREE = 'a'.repeat(64);
const noTrees = (t: string): LaneOfTree | undefined =>
  t === INPUT_TREE ? { changeId: change.id, specHash: spec, lane: 'scoping', shaped: false, passed: true, inputs: [INPUT] } : undefined;
const withInput = { inputSha256: INPUT, evidenceTree: INPUT_TREE };

describe('blocker chain replay at the point of action', () => {
  it('closes a blocker through its signed moves: owner narrows, operator closes with an input', () => {
    const chain = [move(keys.owner, 'NARROWED', 0), move(keys.operator, 'CLOSED', 1, withInput)];
    expect(surfaceStatus(replayBlockerState(presented(chain), change, verifyUpdate(spec), noTrees))).toBe('CLOSED');
  });

  it('drops proofs the spec itself declares: only signatures carry a blocker', () => {
    const declared = structuredClone(change);
    const b = declared.blockers!.map.blockers.find((x) => x.id === SURFACE)!;
    b.proofs = [{ kind: 'owner-decision', by: keys.owner.keyId, role: 'owner', at: new Date(T0 - 1).toISOString(), from: 'OPEN', to: 'NARROWED' }];
    const declaredSpec = specHashOf(declared);
    const chain = [move(keys.operator, 'CLOSED', 1, { ...withInput, specHash: declaredSpec })];
    // With the declared "owner sign-off" counted, the operator's close alone would close it.
    expect(surfaceStatus(replayBlockerState(presented(chain), declared, verifyUpdate(declaredSpec), noTrees))).toBe('OPEN');
  });

  it('does not count moves signed for another spec of the same change', () => {
    const chain = [move(keys.owner, 'NARROWED', 0, { specHash: otherSpec }), move(keys.operator, 'CLOSED', 1, { specHash: otherSpec, ...withInput })];
    expect(surfaceStatus(replayBlockerState(presented(chain), change, verifyUpdate(spec), noTrees))).toBe('OPEN');
  });

  it('orders moves by their signed issue time, not the order or time the map claims', () => {
    // The operator's close was signed before the owner's narrowing: in signed order it lacks the owner's sign-off.
    const chain = [move(keys.owner, 'NARROWED', 5), move(keys.operator, 'CLOSED', 1, withInput)];
    expect(surfaceStatus(replayBlockerState(presented(chain), change, verifyUpdate(spec), noTrees))).toBe('NARROWED');
  });

  it('counts a replayed envelope once', () => {
    const narrowed = move(keys.owner, 'NARROWED', 0);
    const rollback = { ...presented([]) };
    const b = rollback.blockers.find((x) => x.id === SURFACE)!;
    b.proofs = [narrowed, narrowed].map((envelope, i) => ({ kind: 'owner-decision' as const, by: 'k', at: new Date(T0 + i).toISOString(), from: 'OPEN' as const, to: 'NARROWED' as const, envelope }));
    expect(surfaceStatus(replayBlockerState(rollback, change, verifyUpdate(spec), noTrees))).toBe('NARROWED');
  });

  it('takes evidence only from a passed lane of this spec, never from a scoping packet or another spec', () => {
    const tree = 'e'.repeat(64);
    const chain = [move(keys.owner, 'NARROWED', 0, { evidenceTree: tree }), move(keys.operator, 'CLOSED', 1, { evidenceTree: tree })];
    const lane = (info: Partial<LaneOfTree>) => (): LaneOfTree => ({ changeId: change.id, specHash: spec, lane: 'rehearsal' as const, shaped: false, passed: true, inputs: [], ...info });
    const status = (laneOf: (t: string) => LaneOfTree | undefined) => surfaceStatus(replayBlockerState(presented(chain), change, verifyUpdate(spec), laneOf));
    expect(status(lane({}))).toBe('CLOSED');
    // Moves resting on evidence that does not count do not happen at all.
    for (const bad of [{ lane: 'scoping' as const }, { specHash: otherSpec }, { passed: false }, { changeId: 'another-change' }]) expect(status(lane(bad)), JSON.stringify(bad)).toBe('OPEN');
  });

  it('takes an operator input only as a lane of this change and spec recorded it, in the packet the move names', () => {
    const chain = (over: object) => [move(keys.owner, 'NARROWED', 0), move(keys.operator, 'CLOSED', 1, over)];
    const status = (over: object, laneOf = noTrees) => surfaceStatus(replayBlockerState(presented(chain(over)), change, verifyUpdate(spec), laneOf));
    expect(status(withInput)).toBe('CLOSED');
    // An input hash nothing recorded, a packet that records another input, or one of another spec: no technical proof.
    expect(status({ inputSha256: 'd'.repeat(64), evidenceTree: INPUT_TREE })).toBe('NARROWED');
    expect(status(withInput, (t) => ({ ...noTrees(t)!, inputs: ['d'.repeat(64)] }))).toBe('NARROWED');
    expect(status(withInput, (t) => ({ ...noTrees(t)!, specHash: otherSpec }))).toBe('NARROWED');
  });

  it("takes evidence only of the lane kind the blocker's rule names", () => {
    const ROLLBACK = 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1';
    expect(change.blockers!.rules![ROLLBACK]?.laneProof?.lane).toBe('rehearsal');
    const tree = 'e'.repeat(64);
    const m = makeEnvelope({ key: keys.operator, workflowId: changeWorkflowId(change.id), changeId: change.id, action: 'BLOCKER_UPDATE', blockerId: ROLLBACK, blockerStatus: 'NARROWED', evidenceTree: tree, trustRoot: root.fingerprint, specHash: spec, validForMs: 600_000, now: T0 });
    const map = structuredClone(change.blockers!.map);
    map.blockers.find((b) => b.id === ROLLBACK)!.proofs = [{ kind: 'evidence', by: 'k', at: new Date(T0).toISOString(), from: 'OPEN', to: 'NARROWED', envelope: m }];
    const status = (lane: LaneOfTree['lane']) =>
      replayBlockerState(map, change, verifyUpdate(spec), () => ({ changeId: change.id, specHash: spec, lane, shaped: false, passed: true, inputs: [] }))?.blockers.find((b) => b.id === ROLLBACK)?.status;
    expect(status('rehearsal')).toBe('NARROWED');
    expect(status('precheck')).toBe('OPEN');
    expect(status('dry-run')).toBe('OPEN');
  });

  it("places a lane's outcome at the time its packet's signed grants prove, once per tree, and never before the charter", () => {
    const ROLLBACK = 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1'; // its rule: a passed rehearsal takes it to PARTIALLY_DISCHARGED
    const tree = 'e'.repeat(64);
    const map = structuredClone(change.blockers!.map);
    // The presented proof claims 2020; the packet's grants say the lane ran at T0 + 10 min.
    map.blockers.find((b) => b.id === ROLLBACK)!.proofs = [{ kind: 'evidence', by: 'r', workflowId: 'r', treeHash: tree, at: '2020-01-01T00:00:00.000Z', from: 'OPEN', to: 'PARTIALLY_DISCHARGED' }];
    const laneOf = (): LaneOfTree => ({ changeId: change.id, specHash: spec, lane: 'rehearsal', shaped: false, passed: true, inputs: [], notBefore: new Date(T0 + 10 * 60_000).toISOString() });
    const status = (charteredAt: number, m = map) => replayBlockerState(m, change, verifyUpdate(spec), laneOf, charteredAt)?.blockers.find((b) => b.id === ROLLBACK)?.status;
    expect(status(T0)).toBe('PARTIALLY_DISCHARGED');
    expect(status(T0 + 20 * 60_000)).toBe('OPEN'); // the lane ran before the charter: its outcome moved nothing
    const unsigned = (): LaneOfTree => ({ ...laneOf(), notBefore: undefined });
    expect(replayBlockerState(map, change, verifyUpdate(spec), unsigned, T0)?.blockers.find((b) => b.id === ROLLBACK)?.status).toBe('OPEN');
  });

  it('counts no move signed before the owners chartered the rules', () => {
    const chain = [move(keys.owner, 'NARROWED', 0), move(keys.operator, 'CLOSED', 10, withInput)];
    const replay = (charteredAt: number) => surfaceStatus(replayBlockerState(presented(chain), change, verifyUpdate(spec), noTrees, charteredAt));
    expect(replay(T0 - 1)).toBe('CLOSED');
    // Chartered after the owner's narrowing: the operator's close then lacks the owner's sign-off.
    expect(replay(T0 + 5 * 60_000)).toBe('OPEN');
  });

  it('refuses an OPT4 state whose hash the grant does not name, and open blockers however the map labels them', () => {
    const map = presented([]);
    const opt4 = (hash: string) => ({ id: 'g', payload: { action: 'OPT4_PRODUCTION', blockersHash: hash }, signature: '', signer: { keyId: 'k', name: 'o', role: 'owner', person: 'o' } }) as unknown as VerifiedEnvelope;
    expect(blockerStateProblem(map, change, [opt4('0'.repeat(64))], ['OPT4_PRODUCTION'], verifyUpdate(spec), noTrees)).toMatch(/approves blocker map state 0{16}…, not the state presented/);
    expect(blockerStateProblem(map, change, [opt4(blockerStateHash(map))], ['OPT4_PRODUCTION'], verifyUpdate(spec), noTrees)).toMatch(/FIX7-P0-PROD-BIRTH-SURFACE-1 \(OPEN\)/);
  });
});

describe('evidence the grants name', () => {
  const identity = { engine: 'pglite' as const, system: null, database: 'pglite:/x', instance: 'i-1' };
  const now = Date.parse('2026-06-12T10:00:00Z');
  const precheck = (over: Record<string, unknown> = {}) => ({ status: 'PASSED', checkedAt: '2026-06-12T09:00:00Z', validUntil: '2026-06-12T12:00:00Z', production: { identity }, ...over });

  it('a rehearsal counts only PASSED and of this spec', () => {
    expect(rehearsalEvidenceProblem({ rehearsal: { proof: { status: 'PASSED' } }, change }, spec)).toBeUndefined();
    expect(rehearsalEvidenceProblem({ rehearsal: { proof: { status: 'FAILED' } }, change }, spec)).toMatch(/not a passed rehearsal/);
    expect(rehearsalEvidenceProblem({ rehearsal: { proof: { status: 'PASSED' } }, change: { ...change, title: 'x' } }, spec)).toMatch(/rehearsed change spec .*not this spec/);
  });

  it('a precheck counts only PASSED, of this spec, on this production, fresh, and claiming at most 24 h', () => {
    expect(precheckEvidenceProblem({ precheck: precheck(), change }, spec, identity, now)).toBeUndefined();
    expect(precheckEvidenceProblem({ precheck: precheck({ status: 'FAILED' }), change }, spec, identity, now)).toMatch(/not a passed precheck/);
    expect(precheckEvidenceProblem({ precheck: precheck(), change: { ...change, title: 'x' } }, spec, identity, now)).toMatch(/prechecked change spec/);
    expect(precheckEvidenceProblem({ precheck: precheck(), change }, spec, { ...identity, instance: 'i-2' }, now)).toMatch(/another production/);
    expect(precheckEvidenceProblem({ precheck: precheck({ validUntil: '2026-06-12T09:30:00Z' }), change }, spec, identity, now)).toMatch(/was valid until/);
    expect(precheckEvidenceProblem({ precheck: precheck({ validUntil: '2099-01-01T00:00:00Z' }), change }, spec, identity, now)).toMatch(/longer than the trust root allows \(24h\)/);
    // A trust root that allows less (limits.precheckValidity: 2h) refuses a 3 h claim; it can never allow more than 24 h.
    expect(precheckEvidenceProblem({ precheck: precheck(), change }, spec, identity, now, 2 * 3_600_000)).toMatch(/longer than the trust root allows \(2h\)/);
    expect(precheckEvidenceProblem({ precheck: precheck({ validUntil: '2099-01-01T00:00:00Z' }), change }, spec, identity, now, 365 * 86_400_000)).toMatch(/\(24h\)/);
  });
});
