/**
 * The gate no longer waits for the change entity to confirm a grant's nonce (gate-rules.ts, awaitNonceConfirmation):
 * a grant whose nonce nobody has claimed counts at once, one the entity says another lane used first never counts,
 * and lanes replaying a history from before the change still wait as they did.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyPair, readPrivateKey } from '../../src/cli/key-files';
import { makeEnvelope } from '../../src/cli/envelopes';
import { verifyEnvelope, type VerifiedEnvelope } from '../../src/domain/envelope-rules';
import { verifyEd25519Strict } from '../../src/domain/keys';
import { parseTrustRoot } from '../../src/domain/trust-root';
import { changeSpecSchema } from '../../src/domain/change-spec';
import { specHashOf } from '../../src/domain/bindings';
import { evaluateGate, type ChangeView } from '../../src/domain/gate-rules';

const dir = mkdtempSync(join(tmpdir(), 'lanes-gate-nonces-'));
const owner = readPrivateKey(createKeyPair(dir, 'alice', 'owner').keyPath);
const operator = readPrivateKey(createKeyPair(dir, 'bob', 'operator').keyPath);
const root = parseTrustRoot({ v: 1, keys: [owner, operator].map((k) => ({ name: k.name, role: k.role, publicKey: k.publicKey })) });
const NOW = Date.parse('2026-06-12T10:00:00Z');
const change = changeSpecSchema.parse({ v: 1, id: 'nonces', title: 'nonces', steps: [] });
const SPEC = specHashOf(change);
const grant: VerifiedEnvelope = (() => {
  const env = makeEnvelope({ key: owner, workflowId: 'wf', runId: 'run-1', startId: 'a'.repeat(64), changeId: change.id, lane: 'rehearsal', action: 'AUTHORIZE_REHEARSAL', trustRoot: root.fingerprint, specHash: SPEC, validForMs: 600_000, now: NOW - 1000 });
  const v = verifyEnvelope(env, { trustRoot: root, workflowId: 'wf', runId: 'run-1', startId: 'a'.repeat(64), changeId: change.id, lane: 'rehearsal', specHash: SPEC, acceptedActions: ['AUTHORIZE_REHEARSAL'], nowMs: NOW, usedNonces: new Set() }, verifyEd25519Strict);
  if (!v.ok) throw new Error(v.reason);
  return v.envelope;
})();

const gate = (nonceClaims: ChangeView['nonceClaims'], awaitNonceConfirmation?: boolean) =>
  evaluateGate({
    workflowId: 'wf', changeId: change.id, lane: 'rehearsal', required: ['AUTHORIZE_REHEARSAL'], thresholds: {}, grants: [grant], revoked: new Set(), nowMs: NOW, specHash: SPEC,
    change: { changeId: change.id, version: 1, nonceClaims },
    ...(awaitNonceConfirmation === undefined ? {} : { awaitNonceConfirmation }),
  });

describe('grant nonces at the gate', () => {
  it('a grant whose nonce nobody has claimed yet counts at once (the report goes out with the gated work)', () => {
    expect(gate({})).toMatchObject({ ready: true, grantsMissing: [] });
    expect(gate({ [grant.payload.nonce]: 'wf' })).toMatchObject({ ready: true });
  });

  it('a grant whose nonce the change entity says another lane used first never counts', () => {
    const v = gate({ [grant.payload.nonce]: 'another-lane' });
    expect(v.ready).toBe(false);
    expect(v.grantsMissing).toEqual(['AUTHORIZE_REHEARSAL']);
  });

  it('a lane replaying a history from before the change still waits for the confirmation', () => {
    const v = gate({}, true);
    expect(v.ready).toBe(false);
    expect(v.waitingFor).toContain('the change entity to confirm grant nonces are unused');
    expect(gate({ [grant.payload.nonce]: 'wf' }, true).ready).toBe(true);
  });
});
