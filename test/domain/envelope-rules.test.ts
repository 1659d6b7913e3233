import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { verifyEnvelope, type EnvelopeContext, type RejectCode } from '../../src/domain/envelope-rules';
import { verifyEd25519Strict } from '../../src/domain/keys';
import { parseTrustRoot, type TrustRoot } from '../../src/domain/trust-root';
import { canonicalSha256 } from '../../src/domain/hashing';
import { makeEnvelope, type EnvelopeRequest } from '../../src/cli/envelopes';
import type { SignedEnvelope } from '../../src/domain/envelope';
import { makeKeys, type Keys } from '../support/lanes';

const NOW = Date.parse('2026-06-12T10:00:00Z');
const SPEC = 'a'.repeat(64);
const START = '9'.repeat(64);
let keys: Keys;
let trustRoot: TrustRoot;

beforeAll(() => {
  keys = makeKeys();
  trustRoot = parseTrustRoot(JSON.parse(readFileSync(keys.trustRootPath, 'utf8')));
});

function ctx(over: Partial<EnvelopeContext> = {}): EnvelopeContext {
  return {
    trustRoot,
    workflowId: 'wf-1',
    runId: 'run-1',
    startId: START,
    specHash: SPEC,
    changeId: 'chg-1',
    lane: 'rehearsal',
    acceptedActions: ['AUTHORIZE_REHEARSAL'],
    laneOperator: { keyId: keys.operator.keyId, name: keys.operator.name },
    nowMs: NOW,
    usedNonces: new Set(),
    ...over,
  };
}

function grant(over: Partial<EnvelopeRequest> = {}): SignedEnvelope {
  return makeEnvelope({
    key: keys.owner,
    workflowId: 'wf-1',
    runId: 'run-1',
    startId: START,
    specHash: SPEC,
    trustRoot: keys.trustRoot,
    changeId: 'chg-1',
    lane: 'rehearsal',
    action: 'AUTHORIZE_REHEARSAL',
    validForMs: 3_600_000,
    now: NOW - 1000,
    ...over,
  });
}

function code(raw: unknown, c: EnvelopeContext = ctx()): RejectCode | 'OK' {
  const v = verifyEnvelope(raw, c, verifyEd25519Strict);
  return v.ok ? 'OK' : v.code;
}

describe('envelope rules', () => {
  it('accepts a valid owner grant and identifies it by its canonical payload hash', () => {
    const env = grant();
    const v = verifyEnvelope(env, ctx(), verifyEd25519Strict);
    expect(v.ok).toBe(true);
    if (v.ok) {
      expect(v.envelope.id).toBe(canonicalSha256(env.payload));
      expect(v.envelope.signer).toEqual({ keyId: keys.owner.keyId, name: 'owner', role: 'owner', person: 'name:owner' });
    }
  });

  it('accepts the operator-signed START_LANE only from an operator', () => {
    const start = grant({ key: keys.operator, action: 'START_LANE', runId: undefined, startId: undefined });
    expect(code(start, ctx({ acceptedActions: ['START_LANE'], laneOperator: undefined }))).toBe('OK');
    expect(code(grant({ action: 'START_LANE', runId: undefined, startId: undefined }), ctx({ acceptedActions: ['START_LANE'] }))).toBe('WRONG_ROLE');
    // The start is signed before the run exists: one naming a run is malformed, not silently accepted.
    expect(code(grant({ key: keys.operator, action: 'START_LANE', startId: undefined }), ctx({ acceptedActions: ['START_LANE'], laneOperator: undefined }))).toBe('MALFORMED');
  });

  it.each<[string, () => unknown, RejectCode]>([
    ['not an object', () => 'grant please', 'MALFORMED'],
    ['no signature', () => ({ payload: grant().payload }), 'MALFORMED'],
    ['an extra envelope field', () => ({ ...grant(), note: 'x' }), 'MALFORMED'],
    ['an extra payload field (would be unsigned meaning)', () => ({ ...grant(), payload: { ...grant().payload, scope: 'all' } }), 'MALFORMED'],
    ['a bad nonce', () => ({ ...grant(), payload: { ...grant().payload, nonce: 'xyz' } }), 'MALFORMED'],
    ['an oversized envelope', () => ({ ...grant(), payload: { ...grant().payload, workflowId: 'w'.repeat(5000) } }), 'MALFORMED'],
    ['a key outside the trust root', () => grant({ key: keys.stranger }), 'UNKNOWN_KEY'],
    ['an operator-signed grant', () => grant({ key: keys.operator }), 'WRONG_ROLE'],
    ['a payload changed after signing', () => ({ ...grant(), payload: { ...grant().payload, expiresAt: '2027-01-01T00:00:00Z' } }), 'BAD_SIGNATURE'],
    ['a flipped signature bit', () => flipSignature(grant()), 'BAD_SIGNATURE'],
    ['another workflow', () => grant({ workflowId: 'wf-2' }), 'OTHER_WORKFLOW'],
    ['another change', () => grant({ changeId: 'chg-2' }), 'OTHER_CHANGE'],
    ['another lane', () => grant({ lane: 'dry-run' }), 'OTHER_LANE'],
    ['another action', () => grant({ action: 'PERMIT' }), 'ACTION_NOT_HERE'],
    ['another run of the same workflow id', () => grant({ runId: 'run-2' }), 'OTHER_RUN'],
    ['a lane started by another START (another operator, a reused id)', () => grant({ startId: '8'.repeat(64) }), 'OTHER_START'],
    ['a grant without the START it approves', () => grant({ startId: undefined }), 'MALFORMED'],
    ['shaped on a grant (only a rehearsal START signs it)', () => grant({ shaped: true }), 'MALFORMED'],
    ['another change spec (other SQL or target)', () => grant({ specHash: 'b'.repeat(64) }), 'OTHER_SPEC'],
    ['another trust root', () => grant({ trustRoot: 'c'.repeat(64) }), 'OTHER_TRUST_ROOT'],
    ['a grant without a run id', () => grant({ runId: undefined }), 'MALFORMED'],
    ['a grant without a spec hash', () => grant({ specHash: undefined }), 'MALFORMED'],
    ['a v1 envelope (bound to neither spec nor run)', () => ({ ...grant(), payload: { ...grant().payload, v: 1 } }), 'MALFORMED'],
    ['REAL_RUN without the precheck it rests on', () => grant({ action: 'REAL_RUN', evidenceTree: 'd'.repeat(64) }), 'MALFORMED'],
    ['OPT4_PRODUCTION for an execution without the blocker state it approves', () => grant({ action: 'OPT4_PRODUCTION', lane: 'execution' }), 'MALFORMED'],
    ['a future issue time', () => grant({ now: NOW + 10 * 60_000 }), 'NOT_YET_VALID'],
    ['an expired grant', () => grant({ now: NOW - 7_200_000 }), 'EXPIRED'],
  ])('rejects %s', (_name, make, expected) => {
    expect(code(make())).toBe(expected);
  });

  it('rejects a replayed nonce', () => {
    const env = grant();
    expect(code(env, ctx({ usedNonces: new Set([env.payload.nonce]) }))).toBe('REPLAYED');
  });

  it('never lets the operator who started the lane authorise on it', () => {
    expect(code(grant(), ctx({ laneOperator: { keyId: keys.owner.keyId, name: 'someone' } }))).toBe('LANE_OPERATOR');
  });

  it('lets any owner stop a lane, its starter included: HOLD and REVOKE approve nothing', () => {
    const starter = { laneOperator: { keyId: keys.owner.keyId, name: 'owner' } };
    expect(code(grant({ action: 'HOLD' }), ctx({ ...starter, acceptedActions: ['HOLD'] }))).toBe('OK');
    expect(code(grant({ action: 'REVOKE', revokes: 'a'.repeat(64) }), ctx({ ...starter, acceptedActions: ['REVOKE'] }))).toBe('OK');
  });

  it('gives reasons a person can act on', () => {
    const v = verifyEnvelope(grant({ key: keys.operator }), ctx(), verifyEd25519Strict);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(/must be signed by an owner; key [0-9a-f]{16} \(operator\) is an operator/);
  });
});

function flipSignature(env: SignedEnvelope): SignedEnvelope {
  const last = env.signature.at(-1) === '0' ? '1' : '0';
  return { ...env, signature: env.signature.slice(0, -1) + last };
}
