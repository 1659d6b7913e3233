/**
 * Grant fuzzing (issue 6): 10,000 generated envelopes — mutated bytes, fields, signatures and keys, malformed
 * shapes, replays — through the real verification code on both sides: the workflow's (verifyEnvelope with the
 * strict noble check, as its GrantBook runs it) and the production worker's interceptor (the same rules with
 * node:crypto, and the whole step authorization). Each case carries its ground truth from how it was made;
 * nothing may be accepted unless truly valid, and the two signature implementations must always agree.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519';
import { bytesToHex } from '@noble/hashes/utils';
import { makeEnvelope, type EnvelopeRequest } from '../../src/cli/envelopes';
import { envelopeIdOf, verifyEnvelope, type EnvelopeContext } from '../../src/domain/envelope-rules';
import { GrantBook } from '../../src/domain/grant-book';
import { evaluateGate, type ChangeView } from '../../src/domain/gate-rules';
import { grantsFor, verifyLaneAuthorization } from '../../src/domain/point-of-action';
import { blockerStateHash, specHashOf } from '../../src/domain/bindings';
import { changeSpecSchema } from '../../src/domain/change-spec';
import type { TrustRoot } from '../../src/domain/trust-root';
import { parseTrustRoot, TrustRootError } from '../../src/domain/trust-root';
import { verifyEd25519Strict } from '../../src/domain/keys';
import { signEnvelope } from '../../src/domain/signing';
import { verifyEd25519Node } from '../../src/worker/node-signature';
import { makeKeys } from '../support/lanes';

const RUNS = 10_000;
const hex = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength, maxLength });
const keys = makeKeys();
const trustRoot = parseTrustRoot(JSON.parse(readFileSync(keys.trustRootPath, 'utf8')));
const WF = 'chg.execution.fuzz';
const TREE = '7'.repeat(64);
const NOW = Date.parse('2026-06-12T10:00:00Z');
const RUN = 'run-fuzz-1';
const PRECHECK = '9'.repeat(64);
const CHANGE = changeSpecSchema.parse({ v: 1, id: 'chg', title: 'fuzz', steps: [{ id: 's1', action: 'APPLY', apply: 'SELECT 1', rollback: 'SELECT 1' }] });
const SPEC = specHashOf(CHANGE);
const NO_BLOCKERS = blockerStateHash(undefined);
const start = makeEnvelope({ key: keys.operator, workflowId: WF, specHash: SPEC, trustRoot: trustRoot.fingerprint, changeId: 'chg', lane: 'execution', action: 'START_LANE', validForMs: 600_000, now: NOW - 3_600_000 });
const base = (over: Partial<EnvelopeRequest> = {}) =>
  makeEnvelope({ key: keys.owner, workflowId: WF, runId: RUN, startId: envelopeIdOf(start)!, specHash: SPEC, trustRoot: trustRoot.fingerprint, changeId: 'chg', lane: 'execution', action: 'APPLY', evidenceTree: TREE, validForMs: 600_000, now: NOW - 1000, ...over });
const opt4 = base({ action: 'OPT4_PRODUCTION', evidenceTree: undefined, blockersHash: NO_BLOCKERS });
const realRun = base({ action: 'REAL_RUN', precheckTree: PRECHECK });
const laneCtx = (): EnvelopeContext => ({
  trustRoot, workflowId: WF, runId: RUN, startId: envelopeIdOf(start)!, specHash: SPEC, changeId: 'chg', lane: 'execution', acceptedActions: ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY'],
  laneOperator: { keyId: keys.operator.keyId, name: keys.operator.name }, nowMs: NOW, usedNonces: new Set([start.payload.nonce, opt4.payload.nonce, realRun.payload.nonce]),
});

/**
 * The strict check, remembered per (key, message, signature): the fixed grants around each fuzzed one would
 * otherwise be re-verified on every case. Verification is a pure function, so this changes no verdict.
 */
const strictSeen = new Map<string, boolean>();
const strictCached: typeof verifyEd25519Strict = (pk, msg, sig) => {
  const k = `${pk}:${sig}:${Buffer.from(msg).toString('base64')}`;
  let v = strictSeen.get(k);
  if (v === undefined) strictSeen.set(k, (v = verifyEd25519Strict(pk, msg, sig)));
  return v;
};

/** The workflow's whole decision for an execution lane needing OPT4_PRODUCTION, REAL_RUN and APPLY. */
function workflowGateReady(raw: unknown): boolean {
  const book = new GrantBook({ trustRoot, workflowId: WF, runId: RUN, startId: envelopeIdOf(start)!, specHash: SPEC, changeId: 'chg', lane: 'execution', accepts: ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY'], laneOperator: { keyId: keys.operator.keyId, name: keys.operator.name } }, strictCached);
  book.useNonce(start.payload.nonce);
  for (const g of [opt4, realRun, raw]) book.receive('grant', g, NOW);
  const nonceClaims = Object.fromEntries(book.grants.map((g) => [g.payload.nonce, WF]));
  const change: ChangeView = {
    changeId: 'chg', version: 1, nonceClaims,
    latestRehearsal: { workflowId: 'r', lane: 'rehearsal', shaped: false, outcome: 'COMPLETED', specHash: SPEC, finishedAt: '', treeHash: TREE },
    latestPrecheck: { workflowId: 'p', lane: 'precheck', shaped: false, outcome: 'COMPLETED', specHash: SPEC, finishedAt: '', treeHash: PRECHECK, validUntil: '2100-01-01T00:00:00Z' },
  };
  return evaluateGate({ workflowId: WF, changeId: 'chg', lane: 'execution', required: ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY'], thresholds: trustRoot.thresholds, grants: book.grants, revoked: book.revoked, nowMs: NOW, specHash: SPEC, change }).ready;
}

type Case = { kind: string; raw: unknown; valid: boolean };
const resign = (payload: object, key = keys.owner) => signEnvelope(payload as never, key.privateKey);
const flipHexBit = (hex: string, bit: number) => {
  const i = Math.floor(bit / 4) % hex.length;
  return hex.slice(0, i) + (parseInt(hex[i]!, 16) ^ (1 << bit % 4)).toString(16) + hex.slice(i + 1);
};

const FIELD_TAMPER: [string, unknown][] = [
  ['workflowId', 'chg.execution.other'], ['changeId', 'other'], ['lane', 'rehearsal'], ['action', 'CUTOVER'], ['action', 'REAL_RUN'],
  ['nonce', 'ab'.repeat(16)], ['issuedAt', '2026-06-12T09:59:58Z'], ['expiresAt', '2026-06-12T11:00:00Z'], ['evidenceTree', '8'.repeat(64)],
  ['keyId', keys.owner2.keyId], ['v', 1], ['v', 3], ['action', 'apply'], ['runId', 'run-fuzz-2'], ['startId', '4'.repeat(64)], ['specHash', '5'.repeat(64)], ['trustRoot', '6'.repeat(64)], ['workflowId', `${WF} `], ['changeId', 'chg\u200b'],
];
// Re-signed by a trusted owner, but semantically wrong here: each must be refused for what it says.
const RESIGNED_WRONG: [string, unknown][] = [
  ['workflowId', 'chg.execution.other'], ['changeId', 'other'], ['lane', 'precheck'], ['action', 'CUTOVER'], ['action', 'OPT4_PRODUCTION'],
  ['expiresAt', '2026-06-12T09:59:00Z'], ['issuedAt', '2026-06-12T10:10:00Z'], ['evidenceTree', '8'.repeat(64)], ['nonce', start.payload.nonce],
  ['runId', 'run-fuzz-2'], ['startId', '4'.repeat(64)], ['specHash', '5'.repeat(64)], ['trustRoot', '6'.repeat(64)],
];

/**
 * The point of action's whole verdict for this step (the pure verifier the production interceptor runs), with the
 * evidence store holding exactly one rehearsal of this spec (tree TREE): the verifier resolves each named tree.
 */
function stepAuthorized(grants: unknown[], root: TrustRoot = trustRoot, check = verifyEd25519Node): { ok: boolean; reason?: string } {
  const v = verifyLaneAuthorization(
    { caller: { workflowId: WF, runId: RUN, workflowType: 'executionLane' }, trustRoot: root, lane: 'execution', change: CHANGE, start, grants, required: () => ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY'], nowMs: NOW },
    check,
  );
  if (!v.ok) return { ok: false, reason: v.reason };
  const unknownTree = [...grantsFor(v.grants, 'REAL_RUN'), ...grantsFor(v.grants, 'APPLY')].find((g) => g.payload.evidenceTree !== TREE);
  return unknownTree ? { ok: false, reason: `no rehearsal with tree ${unknownTree.payload.evidenceTree}` } : { ok: true };
}

const caseArb: fc.Arbitrary<Case> = fc.oneof(
  // Truly valid: a fresh APPLY from either owner, any lifetime still running.
  fc.record({ owner2: fc.boolean(), life: fc.integer({ min: 2_000, max: 86_400_000 }) }).map(({ owner2, life }) => ({ kind: 'valid', raw: base({ key: owner2 ? keys.owner2 : keys.owner, validForMs: life }), valid: true })),
  fc.nat({ max: 511 }).map((bit) => {
    const e = base();
    return { kind: 'signature bit flipped', raw: { ...e, signature: flipHexBit(e.signature, bit) }, valid: false };
  }),
  fc.constantFrom(...FIELD_TAMPER).map(([field, value]) => {
    const e = base();
    return { kind: `payload ${field} changed, not re-signed`, raw: { ...e, payload: { ...e.payload, [field]: value } }, valid: false };
  }),
  fc.constantFrom(...RESIGNED_WRONG).map(([field, value]) => ({ kind: `re-signed with wrong ${field}`, raw: resign({ ...base().payload, [field]: value }), valid: false })),
  fc.constantFrom('operator', 'stranger', 'owner-as-owner2').map((who) => {
    if (who === 'owner-as-owner2') return { kind: 'signed by owner, claims owner2', raw: resign({ ...base().payload, keyId: keys.owner2.keyId }), valid: false };
    const key = who === 'operator' ? keys.operator : keys.stranger;
    return { kind: `signed by ${who}`, raw: base({ key }), valid: false };
  }),
  fc.constantFrom(start.payload.nonce, opt4.payload.nonce, realRun.payload.nonce).map((nonce) => ({ kind: 'replayed nonce', raw: base({ nonce }), valid: false })),
  fc.oneof(
    fc.constantFrom(null, 0, 'APPLY', [], {}, true),
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({ payload: fc.jsonValue({ maxDepth: 2 }), signature: hex(128, 128) }),
    fc.constantFrom('signature', 'payload').map((drop) => {
      const { [drop]: _gone, ...rest } = base() as unknown as Record<string, unknown>;
      return rest;
    }),
    fc.constant({ ...base(), extra: 1 }),
    fc.constant({ ...base(), signature: base().signature.toUpperCase() }),
    fc.constant({ ...base(), payload: { ...base().payload, note: 'x'.repeat(5000) } }),
  ).map((raw) => ({ kind: 'malformed', raw, valid: false })),
  // Signature malleability: S + L is the same point equation but not a canonical signature.
  fc.constant(null).map(() => {
    const e = base();
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const sig = Buffer.from(e.signature, 'hex');
    const s = BigInt(`0x${Buffer.from(sig.subarray(32)).reverse().toString('hex')}`) + L;
    const sBytes = Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse();
    return { kind: 'non-canonical S (s + L)', raw: { ...e, signature: Buffer.concat([sig.subarray(0, 32), sBytes]).toString('hex') }, valid: false };
  }),
);

describe(`grant fuzzing: ${RUNS.toLocaleString('en')} envelopes through both verifiers`, () => {
  it('accepts only the truly valid, and the workflow-side and interceptor-side verifiers always agree', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(caseArb, (c) => {
        seen.set(c.kind, (seen.get(c.kind) ?? 0) + 1);
        const noble = verifyEnvelope(c.raw, laneCtx(), strictCached);
        const node = verifyEnvelope(c.raw, laneCtx(), verifyEd25519Node);
        // Same verdict from both signature implementations, code and all.
        expect(node.ok ? 'OK' : node.code, c.kind).toBe(noble.ok ? 'OK' : noble.code);
        // Workflow side: the lane's GrantBook takes what verifyEnvelope accepts, then the gate decides.
        expect(workflowGateReady(c.raw), c.kind).toBe(c.valid);
        // Interceptor side: the whole step authorization with this envelope as its APPLY grant.
        const step = stepAuthorized([opt4, realRun, c.raw]);
        expect(step.ok, `${c.kind}: ${step.reason ?? 'OK'}`).toBe(c.valid);
      }),
      { numRuns: RUNS },
    );
    // Every kind of case was generated many times.
    expect([...seen.keys()].filter((k) => k !== 'valid').length).toBeGreaterThan(20);
    expect(seen.get('valid')).toBeGreaterThan(500);
  }, 180_000);

  it('one owner signing twice toward a 2-of-n threshold never meets it; two owners do', () => {
    const root = { ...trustRoot, thresholds: { APPLY: 2 } };
    fc.assert(
      fc.property(fc.array(fc.constantFrom('owner', 'owner2'), { minLength: 1, maxLength: 4 }), (signers) => {
        const applies = signers.map((s) => base({ key: s === 'owner' ? keys.owner : keys.owner2 }));
        const grants = [opt4, realRun, ...applies];
        const [a, b] = [stepAuthorized(grants, root, verifyEd25519Node), stepAuthorized(grants, root, verifyEd25519Strict)];
        expect(a).toEqual(b);
        expect(a.ok).toBe(new Set(signers).size >= 2);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses small-order and malformed public keys offered in a trust root, and both signature checks refuse forgeries under them', () => {
    const smallOrder = ['0100000000000000000000000000000000000000000000000000000000000000', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', '0000000000000000000000000000000000000000000000000000000000000000', '0000000000000000000000000000000000000000000000000000000000000080', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'];
    const weird = fc.oneof(fc.constantFrom(...smallOrder), hex(0, 70), fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b)));
    fc.assert(
      fc.property(weird, fc.uint8Array({ minLength: 1, maxLength: 64 }), (publicKey, message) => {
        let loaded = true;
        try {
          parseTrustRoot({ v: 1, keys: [{ name: 'mallory', role: 'owner', publicKey }] });
        } catch (err) {
          expect(err).toBeInstanceOf(TrustRootError);
          loaded = false;
        }
        if (smallOrder.includes(publicKey)) expect(loaded).toBe(false);
        // The classic forgery under a small-order key: R = identity, S = 0.
        const forged = `01${'0'.repeat(62)}${'0'.repeat(64)}`;
        expect(verifyEd25519Strict(publicKey, message, forged)).toBe(false);
        expect(verifyEd25519Node(publicKey, message, forged)).toBe(verifyEd25519Strict(publicKey, message, forged));
        if (loaded) expect(() => ed25519.ExtendedPoint.fromHex(publicKey)).not.toThrow();
      }),
      { numRuns: 2_000 },
    );
  });
});
