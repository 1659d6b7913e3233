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
import { claimedIssueTime, verifyEnvelope, type VerifiedEnvelope } from '../../src/domain/envelope-rules';
import { blockerStateProblem, precheckEvidenceProblem, rehearsalEvidenceProblem, replayBlockerState, type LaneOfTree, type ReplaySources } from '../../src/domain/point-of-action';
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

type Status = 'OPEN' | 'NARROWED' | 'CLOSED';
const move = (key: typeof keys.owner, to: Status, minutes: number, over: Parameters<typeof makeEnvelope>[0] extends infer R ? Partial<R> : never = {}) =>
  makeEnvelope({ key, workflowId: changeWorkflowId(change.id), changeId: change.id, action: 'BLOCKER_UPDATE', blockerId: SURFACE, blockerStatus: to, trustRoot: root.fingerprint, specHash: spec, validForMs: 600_000, now: T0 + minutes * 60_000, ...over });

/** What the point of action passes: a signed move of this change and spec, verified as of when the server recorded it. */
const verifyUpdate = (specHash: string) => (envelope: unknown, nowMs: number): VerifiedEnvelope | undefined => {
  const v = verifyEnvelope(envelope, { trustRoot: root, workflowId: changeWorkflowId(change.id), changeId: change.id, lane: undefined, specHash, acceptedActions: ['BLOCKER_UPDATE'], nowMs, usedNonces: new Set() }, verifyEd25519Node);
  return v.ok ? v.envelope : undefined;
};

const INPUT = 'c'.repeat(64);
const surfaceStatus = (m: BlockerMap | undefined) => m?.blockers.find((b) => b.id === SURFACE)?.status;
/** The evidence store, as far as these tests need one: a scoping lane of this spec that recorded the operator input. */
const INPUT_TREE = 'a'.repeat(64);
const noTrees = (t: string): LaneOfTree | undefined =>
  t === INPUT_TREE ? { changeId: change.id, specHash: spec, lane: 'scoping', shaped: false, passed: true, inputs: [INPUT] } : undefined;
const withInput = { inputSha256: INPUT, evidenceTree: INPUT_TREE };

/** Moves as the server recorded them: by default a second after each was signed; `[envelope, minutes]` says when. */
type Recorded = unknown | [unknown, number];
function sources(moves: Recorded[], o: { specHash?: string; laneOf?: (t: string) => LaneOfTree | undefined; charteredAtMs?: number } = {}): ReplaySources {
  return {
    moves: moves.map((m) => (Array.isArray(m) ? { envelope: m[0], at: T0 + m[1] * 60_000 } : { envelope: m, at: claimedIssueTime(m) + 1000 })),
    verifyUpdate: verifyUpdate(o.specHash ?? spec),
    laneOf: o.laneOf ?? noTrees,
    charteredAtMs: o.charteredAtMs ?? 0,
  };
}
const replaySurface = (moves: Recorded[], o: Parameters<typeof sources>[1] = {}, c: ChangeSpec = change) => surfaceStatus(replayBlockerState(null, c, sources(moves, o)));

describe('blocker chain replay at the point of action', () => {
  it('closes a blocker through its signed moves: owner narrows, operator closes with an input', () => {
    expect(replaySurface([move(keys.owner, 'NARROWED', 0), move(keys.operator, 'CLOSED', 1, withInput)])).toBe('CLOSED');
  });

  it('drops proofs the spec itself declares: only signatures carry a blocker', () => {
    const declared = structuredClone(change);
    const b = declared.blockers!.map.blockers.find((x) => x.id === SURFACE)!;
    b.proofs = [{ kind: 'owner-decision', by: keys.owner.keyId, role: 'owner', at: new Date(T0 - 1).toISOString(), from: 'OPEN', to: 'NARROWED' }];
    const declaredSpec = specHashOf(declared);
    // With the declared "owner sign-off" counted, the operator's close alone would close it.
    expect(replaySurface([move(keys.operator, 'CLOSED', 1, { ...withInput, specHash: declaredSpec })], { specHash: declaredSpec }, declared)).toBe('OPEN');
  });

  it('does not count moves signed for another spec of the same change', () => {
    expect(replaySurface([move(keys.owner, 'NARROWED', 0, { specHash: otherSpec }), move(keys.operator, 'CLOSED', 1, { specHash: otherSpec, ...withInput })])).toBe('OPEN');
  });

  it("counts an owner's reopen wherever the server recorded it: a close signed with an earlier date, or a presented map leaving the reopen out, does not erase it", () => {
    const narrowed = move(keys.owner, 'NARROWED', 0);
    const reopened = move(keys.owner, 'OPEN', 2);
    // Signed "at minute 1" (before the reopen), but the server recorded it at minute 3, after the reopen.
    const backdated = move(keys.operator, 'CLOSED', 1, withInput);
    expect(replaySurface([narrowed, reopened, [backdated, 3]])).toBe('OPEN');
    // Without the reopen in the record, the same close would count: it is the record, not the map, that decides.
    expect(replaySurface([narrowed, [backdated, 3]])).toBe('CLOSED');
    // A move recorded long after it expired counts for nothing.
    expect(replaySurface([narrowed, [move(keys.operator, 'CLOSED', 1, withInput), 30]])).toBe('NARROWED');
  });

  it("counts an owner's reopen even when the tree it names cannot be read there (a shared-store row deleted, the store down)", () => {
    const PRECHECK_TREE = 'b'.repeat(64);
    const chain = [move(keys.owner, 'NARROWED', 0), move(keys.owner, 'OPEN', 2, { evidenceTree: PRECHECK_TREE }), move(keys.operator, 'CLOSED', 3, withInput)];
    const readable = (t: string) => (t === PRECHECK_TREE ? { changeId: change.id, specHash: spec, lane: 'precheck' as const, shaped: false, passed: true, inputs: [] } : noTrees(t));
    expect(replaySurface(chain, { laneOf: readable })).toBe('OPEN');
    // The tree is gone: the reopen still counts, so the operator's close still lacks an owner's sign-off since it.
    expect(replaySurface(chain, { laneOf: noTrees })).toBe('OPEN');
  });

  it('counts an envelope recorded twice once', () => {
    const narrowed = move(keys.owner, 'NARROWED', 0);
    expect(replaySurface([narrowed, narrowed])).toBe('NARROWED');
  });

  it('takes evidence only from a passed lane of this spec, never from a scoping packet or another spec', () => {
    const tree = 'e'.repeat(64);
    const chain = [move(keys.owner, 'NARROWED', 0, { evidenceTree: tree }), move(keys.operator, 'CLOSED', 1, { evidenceTree: tree })];
    const lane = (info: Partial<LaneOfTree>) => (): LaneOfTree => ({ changeId: change.id, specHash: spec, lane: 'rehearsal' as const, shaped: false, passed: true, inputs: [], ...info });
    expect(replaySurface(chain, { laneOf: lane({}) })).toBe('CLOSED');
    // Moves resting on evidence that does not count do not happen at all.
    for (const bad of [{ lane: 'scoping' as const }, { specHash: otherSpec }, { passed: false }, { changeId: 'another-change' }]) expect(replaySurface(chain, { laneOf: lane(bad) }), JSON.stringify(bad)).toBe('OPEN');
  });

  it('takes an operator input only as a lane of this change and spec recorded it, in the packet the move names', () => {
    const chain = (over: object) => [move(keys.owner, 'NARROWED', 0), move(keys.operator, 'CLOSED', 1, over)];
    expect(replaySurface(chain(withInput))).toBe('CLOSED');
    // An input hash nothing recorded, a packet that records another input, or one of another spec: no technical proof.
    expect(replaySurface(chain({ inputSha256: 'd'.repeat(64), evidenceTree: INPUT_TREE }))).toBe('NARROWED');
    expect(replaySurface(chain(withInput), { laneOf: (t) => ({ ...noTrees(t)!, inputs: ['d'.repeat(64)] }) })).toBe('NARROWED');
    expect(replaySurface(chain(withInput), { laneOf: (t) => ({ ...noTrees(t)!, specHash: otherSpec }) })).toBe('NARROWED');
  });

  it("takes evidence only of the lane kind the blocker's rule names", () => {
    const ROLLBACK = 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1';
    expect(change.blockers!.rules![ROLLBACK]?.laneProof?.lane).toBe('rehearsal');
    const tree = 'e'.repeat(64);
    const m = makeEnvelope({ key: keys.operator, workflowId: changeWorkflowId(change.id), changeId: change.id, action: 'BLOCKER_UPDATE', blockerId: ROLLBACK, blockerStatus: 'NARROWED', evidenceTree: tree, trustRoot: root.fingerprint, specHash: spec, validForMs: 600_000, now: T0 });
    const status = (lane: LaneOfTree['lane']) =>
      replayBlockerState(null, change, sources([m], { laneOf: () => ({ changeId: change.id, specHash: spec, lane, shaped: false, passed: true, inputs: [] }) }))?.blockers.find((b) => b.id === ROLLBACK)?.status;
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
    const status = (charteredAtMs: number, l = laneOf) => replayBlockerState(map, change, sources([], { laneOf: l, charteredAtMs }))?.blockers.find((b) => b.id === ROLLBACK)?.status;
    expect(status(T0)).toBe('PARTIALLY_DISCHARGED');
    expect(status(T0 + 20 * 60_000)).toBe('OPEN'); // the lane ran before the charter: its outcome moved nothing
    expect(status(T0, () => ({ ...laneOf(), notBefore: undefined }))).toBe('OPEN');
  });

  it('counts no move recorded before the owners chartered the rules', () => {
    const chain = [move(keys.owner, 'NARROWED', 0), move(keys.operator, 'CLOSED', 10, withInput)];
    expect(replaySurface(chain, { charteredAtMs: T0 - 1 })).toBe('CLOSED');
    // Chartered after the owner's narrowing: the operator's close then lacks the owner's sign-off.
    expect(replaySurface(chain, { charteredAtMs: T0 + 5 * 60_000 })).toBe('OPEN');
  });

  it('refuses an OPT4 state whose hash the grant does not name, and open blockers however the map labels them', () => {
    const map = structuredClone(change.blockers!.map);
    for (const b of map.blockers) b.status = 'CLOSED';
    const opt4 = (hash: string) => ({ id: 'g', payload: { action: 'OPT4_PRODUCTION', blockersHash: hash }, signature: '', signer: { keyId: 'k', name: 'o', role: 'owner', person: 'o' } }) as unknown as VerifiedEnvelope;
    expect(blockerStateProblem(map, change, [opt4('0'.repeat(64))], ['OPT4_PRODUCTION'], sources([]))).toMatch(/approves blocker map state 0{16}…, not the state presented/);
    expect(blockerStateProblem(map, change, [opt4(blockerStateHash(map))], ['OPT4_PRODUCTION'], sources([]))).toMatch(/FIX7-P0-PROD-BIRTH-SURFACE-1 \(OPEN\)/);
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
