/**
 * People, not names (trust root v2): "nobody approves their own lane" and "k distinct owners" count the people the
 * trust root lists, whatever their keys are called; v1 files group keys by name case-insensitively; grants and
 * prechecks live no longer than the trust root's limits. Real keys and signatures, through the same verifiers the
 * workflow and the point of action use.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyPair, readPrivateKey, type PrivateKeyFile } from '../../src/cli/key-files';
import { makeEnvelope } from '../../src/cli/envelopes';
import { verifyEnvelope, type EnvelopeContext } from '../../src/domain/envelope-rules';
import { verifyEd25519Strict } from '../../src/domain/keys';
import { parseTrustRoot, type TrustRoot } from '../../src/domain/trust-root';
import { verifyLaneAuthorization } from '../../src/domain/point-of-action';
import { changeSpecSchema } from '../../src/domain/change-spec';
import { specHashOf } from '../../src/domain/bindings';
import { evaluateGate } from '../../src/domain/gate-rules';
import { verifyEd25519Node } from '../../src/worker/node-signature';
import { LANE_WORKFLOW_TYPES } from '../../src/workflows/registry';

const dir = mkdtempSync(join(tmpdir(), 'lanes-people-'));
const key = (name: string, role: 'owner' | 'operator'): PrivateKeyFile => readPrivateKey(createKeyPair(dir, name, role).keyPath);
const bobOperator = key('bob', 'operator');
const bobOwner = key('bob-owner', 'owner');
const BobOwnerV1 = key('Bob', 'owner');
const alice = key('alice', 'owner');
const aliceSecond = key('alice-laptop', 'owner');
const entry = (k: PrivateKeyFile) => ({ role: k.role, publicKey: k.publicKey });

/** v2: bob holds an operator and an owner key under unrelated names; alice holds two owner keys. */
const v2 = parseTrustRoot({
  v: 2,
  people: [
    { id: 'bob', name: 'Bob Example', keys: [entry(bobOperator), entry(bobOwner)] },
    { id: 'alice', name: 'Alice Example', keys: [entry(alice), entry(aliceSecond)] },
  ],
  thresholds: { OPT4_PRODUCTION: 2 },
});

const NOW = Date.parse('2026-06-12T10:00:00Z');
const change = changeSpecSchema.parse({ v: 1, id: 'people', title: 'people', steps: [] });
const SPEC = specHashOf(change);

function start(root: TrustRoot, operator = bobOperator) {
  return makeEnvelope({ key: operator, workflowId: 'wf', changeId: change.id, lane: 'rehearsal', action: 'START_LANE', trustRoot: root.fingerprint, specHash: SPEC, validForMs: 600_000, now: NOW - 60_000 });
}

function grant(root: TrustRoot, k: PrivateKeyFile, startEnv: unknown, over: { action?: 'AUTHORIZE_REHEARSAL' | 'OPT4_PRODUCTION'; validForMs?: number } = {}) {
  return makeEnvelope({
    key: k, workflowId: 'wf', runId: 'run-1', startId: verifyEnvelope(startEnv, ctx(root, ['START_LANE']), verifyEd25519Strict).ok ? idOf(startEnv) : 'x', changeId: change.id, lane: 'rehearsal',
    action: over.action ?? 'AUTHORIZE_REHEARSAL', trustRoot: root.fingerprint, specHash: SPEC, validForMs: over.validForMs ?? 600_000, now: NOW - 1000,
  });
}

function idOf(env: unknown): string {
  const v = verifyEnvelope(env, ctx(v2, ['START_LANE']), verifyEd25519Strict);
  return v.ok ? v.envelope.id : '0'.repeat(64);
}

function ctx(root: TrustRoot, acceptedActions: EnvelopeContext['acceptedActions'], over: Partial<EnvelopeContext> = {}): EnvelopeContext {
  return { trustRoot: root, workflowId: 'wf', runId: 'run-1', changeId: change.id, lane: 'rehearsal', specHash: SPEC, acceptedActions, nowMs: NOW, usedNonces: new Set(), ...over };
}

function authorize(root: TrustRoot, startEnv: unknown, grants: unknown[], required: ('AUTHORIZE_REHEARSAL' | 'OPT4_PRODUCTION')[] = ['AUTHORIZE_REHEARSAL']) {
  return verifyLaneAuthorization(
    { caller: { workflowId: 'wf', runId: 'run-1', workflowType: LANE_WORKFLOW_TYPES.rehearsal }, trustRoot: root, lane: 'rehearsal', change, start: startEnv, grants, required: () => required, nowMs: NOW },
    verifyEd25519Node,
  );
}

describe('people, not names', () => {
  it('a person who started a lane can never approve it, whatever their owner key is called', () => {
    const s = start(v2);
    const byBob = authorize(v2, s, [grant(v2, bobOwner, s)]);
    expect(byBob).toMatchObject({ ok: false, code: 'LANE_OPERATOR' });
    expect(authorize(v2, s, [grant(v2, alice, s)])).toMatchObject({ ok: true });
  });

  it('two owner keys of one person count as one owner toward a threshold, at the point of action and in the gate', () => {
    const s = start(v2);
    const twoKeysOneAlice = [grant(v2, alice, s, { action: 'OPT4_PRODUCTION' }), grant(v2, aliceSecond, s, { action: 'OPT4_PRODUCTION' })];
    expect(authorize(v2, s, twoKeysOneAlice, ['OPT4_PRODUCTION'])).toMatchObject({ ok: false, code: 'THRESHOLD' });
    const verified = twoKeysOneAlice.map((g) => verifyEnvelope(g, ctx(v2, ['OPT4_PRODUCTION'], { startId: idOf(s) }), verifyEd25519Strict)).map((v) => (v.ok ? v.envelope : undefined)!);
    const gate = evaluateGate({
      workflowId: 'wf', changeId: change.id, lane: 'rehearsal', required: ['OPT4_PRODUCTION'], thresholds: v2.thresholds, grants: verified, revoked: new Set(), nowMs: NOW, specHash: SPEC,
      change: { changeId: change.id, version: 1, nonceClaims: Object.fromEntries(verified.map((g) => [g.payload.nonce, 'wf'])) },
    });
    expect(gate.grantsMissing).toEqual(['OPT4_PRODUCTION']);
    expect(gate.waitingFor.join(' ')).toMatch(/1 of 2 distinct owners/);
  });

  it('v1 files group keys by name, case-insensitively: operator "bob" holding an owner key named "Bob" approves nothing he started', () => {
    const v1 = parseTrustRoot({ v: 1, keys: [bobOperator, BobOwnerV1, alice].map((k) => ({ name: k.name, role: k.role, publicKey: k.publicKey })) });
    const s = start(v1);
    const g = makeEnvelope({ key: BobOwnerV1, workflowId: 'wf', runId: 'run-1', startId: idOfUnder(v1, s), changeId: change.id, lane: 'rehearsal', action: 'AUTHORIZE_REHEARSAL', trustRoot: v1.fingerprint, specHash: SPEC, validForMs: 600_000, now: NOW - 1000 });
    expect(authorize(v1, s, [g])).toMatchObject({ ok: false, code: 'LANE_OPERATOR' });
    expect(v1.people.map((p) => p.id).sort()).toEqual(['name:alice', 'name:bob']);
  });

  it('v1 names are compared after Unicode normalisation, and invisible characters are refused', () => {
    const fullwidth = parseTrustRoot({ v: 1, keys: [{ name: 'bob', role: 'operator', publicKey: bobOperator.publicKey }, { name: '\uFF42\uFF4F\uFF42 ', role: 'owner', publicKey: BobOwnerV1.publicKey }] });
    expect(new Set(fullwidth.keys.map((k) => k.person)).size).toBe(1);
    expect(() => parseTrustRoot({ v: 1, keys: [{ name: 'bob\u200b', role: 'owner', publicKey: BobOwnerV1.publicKey }] })).toThrow(/control or invisible format characters/);
  });

  it('refuses a v2 file that lists a person twice or gives one key to two people, and thresholds no set of people can meet', () => {
    expect(() => parseTrustRoot({ v: 2, people: [{ id: 'a', name: 'A', keys: [entry(alice)] }, { id: 'a', name: 'A2', keys: [entry(aliceSecond)] }] })).toThrow(/listed twice/);
    expect(() => parseTrustRoot({ v: 2, people: [{ id: 'a', name: 'A', keys: [entry(alice)] }, { id: 'b', name: 'B', keys: [entry(alice)] }] })).toThrow(/same public key/);
    // Two owner keys, one person: a 2-owner threshold is impossible.
    expect(() => parseTrustRoot({ v: 2, people: [{ id: 'a', name: 'A', keys: [entry(alice), entry(aliceSecond)] }], thresholds: { APPLY: 2 } })).toThrow(/needs 2 distinct owners but the trust root lists 1 owner/);
    expect(() => parseTrustRoot({ v: 2, people: [{ id: 'Alice', name: 'A', keys: [entry(alice)] }] })).toThrow(/lowercase/);
  });
});

describe('limits the trust root sets', () => {
  it('refuses a grant that lives longer than the limit (default 24 h; a trust root may set less, never more than 7 d)', () => {
    const s = start(v2);
    expect(authorize(v2, s, [grant(v2, alice, s, { validForMs: 24 * 3_600_000 })])).toMatchObject({ ok: true });
    expect(authorize(v2, s, [grant(v2, alice, s, { validForMs: 25 * 3_600_000 })])).toMatchObject({ ok: false, code: 'TOO_LONG' });
    const strict = parseTrustRoot({ v: 2, people: [{ id: 'bob', name: 'Bob', keys: [entry(bobOperator)] }, { id: 'alice', name: 'Alice', keys: [entry(alice)] }], limits: { grantLifetime: '30m', precheckValidity: '2h' } });
    const s2 = start(strict);
    const long = makeEnvelope({ key: alice, workflowId: 'wf', runId: 'run-1', startId: idOfUnder(strict, s2), changeId: change.id, lane: 'rehearsal', action: 'AUTHORIZE_REHEARSAL', trustRoot: strict.fingerprint, specHash: SPEC, validForMs: 3_600_000, now: NOW - 1000 });
    const v = authorize(strict, s2, [long]);
    expect(v).toMatchObject({ ok: false, code: 'TOO_LONG' });
    expect(!v.ok && v.reason).toMatch(/valid for 1h; the trust root allows grants of at most 30m/);
    expect(strict.limits).toEqual({ grantLifetimeMs: 30 * 60_000, precheckValidityMs: 2 * 3_600_000 });
    expect(() => parseTrustRoot({ v: 2, people: [{ id: 'a', name: 'A', keys: [entry(alice)] }], limits: { grantLifetime: '8d' } })).toThrow(/at most 7d/);
    expect(() => parseTrustRoot({ v: 2, people: [{ id: 'a', name: 'A', keys: [entry(alice)] }], limits: { precheckValidity: '48h' } })).toThrow(/at most 24h/);
  });

  it("refuses a precheck START asking to stand longer than the trust root's precheck limit", () => {
    const strict = parseTrustRoot({ v: 2, people: [{ id: 'bob', name: 'Bob', keys: [entry(bobOperator)] }], limits: { precheckValidity: '2h' } });
    const env = (ms: number) => makeEnvelope({ key: bobOperator, workflowId: 'wf', changeId: change.id, lane: 'precheck', action: 'START_LANE', trustRoot: strict.fingerprint, specHash: SPEC, precheckValidForMs: ms, validForMs: 600_000, now: NOW });
    const c = ctx(strict, ['START_LANE'], { lane: 'precheck' });
    expect(verifyEnvelope(env(2 * 3_600_000), c, verifyEd25519Strict).ok).toBe(true);
    expect(verifyEnvelope(env(3 * 3_600_000), c, verifyEd25519Strict)).toMatchObject({ ok: false, code: 'TOO_LONG' });
  });
});

function idOfUnder(root: TrustRoot, env: unknown): string {
  const v = verifyEnvelope(env, ctx(root, ['START_LANE']), verifyEd25519Strict);
  if (!v.ok) throw new Error(v.reason);
  return v.envelope.id;
}
