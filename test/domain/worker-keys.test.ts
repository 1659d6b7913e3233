/**
 * Worker keys in the trust root (provenance for the shared evidence store): listed apart from people, they change
 * the fingerprint only when present, and they sign nothing a lane counts — an envelope (a grant here) signed with a
 * worker key is refused, because findKey never returns one.
 */
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519';
import { bytesToHex } from '@noble/hashes/utils';
import { readFileSync } from 'node:fs';
import { findKey, findWorker, parseTrustRoot } from '../../src/domain/trust-root';
import { keyIdOf } from '../../src/domain/keys';
import { makeEnvelope } from '../../src/cli/envelopes';
import { readPrivateKey } from '../../src/cli/key-files';
import { verifyEnvelope } from '../../src/domain/envelope-rules';
import { verifyEd25519Node } from '../../src/worker/node-signature';
import { verifyEd25519Strict } from '../../src/domain/keys';
import { makeKeys } from '../support/lane-helpers';

const pub = (n: number) => bytesToHex(ed25519.getPublicKey(new Uint8Array(32).fill(n)));
const v1 = { v: 1, keys: [{ name: 'alice', role: 'owner', publicKey: pub(1) }, { name: 'olly', role: 'operator', publicKey: pub(2) }] };
const v2 = { v: 2, people: [{ id: 'alice', name: 'Alice', keys: [{ role: 'owner', publicKey: pub(1) }] }, { id: 'olly', name: 'Olly', keys: [{ role: 'operator', publicKey: pub(2) }] }] };

describe('worker keys in the trust root', () => {
  it('keeps the exact fingerprint of a trust root without workers (as the release before computed it), and changes it with workers', () => {
    // Computed by the trust-root.ts of commit 928dc07 (before worker keys) for these very documents.
    expect(parseTrustRoot(v1).fingerprint).toBe('c92b999c94c3a46b9bbaa74b8e06b2caadf856de3aeb0d39763a1123f5be3d8e');
    expect(parseTrustRoot(v2).fingerprint).toBe('587ae88718b0021b1a878190dce41a36498025d8881c700110e0c371c1c9ceec');
    expect(parseTrustRoot({ ...v1, workers: [] }).fingerprint).toBe(parseTrustRoot(v1).fingerprint);
    expect('workers' in parseTrustRoot(v1)).toBe(false); // the object earlier releases recorded in lane histories
    for (const doc of [v1, v2]) {
      const withWorkers = parseTrustRoot({ ...doc, workers: [{ id: 'host-a', publicKey: pub(3) }] });
      expect(withWorkers.fingerprint).not.toBe(parseTrustRoot(doc).fingerprint);
      expect(withWorkers.workers).toEqual([{ id: 'host-a', keyId: keyIdOf(pub(3)), publicKey: pub(3) }]);
      // Another worker key, another trust root.
      expect(parseTrustRoot({ ...doc, workers: [{ id: 'host-a', publicKey: pub(4) }] }).fingerprint).not.toBe(withWorkers.fingerprint);
    }
  });

  it("refuses a worker key that is also a person's, a weak one, a wrong key id and a duplicate worker id", () => {
    expect(() => parseTrustRoot({ ...v1, workers: [{ id: 'host-a', publicKey: pub(1) }] })).toThrow(/workers\[0\] \(host-a\): same public key as keys\[0\].*a worker key is a host's alone/);
    expect(() => parseTrustRoot({ ...v1, workers: [{ id: 'host-a', publicKey: '01'.padEnd(64, '0') }] })).toThrow(/small-order/);
    expect(() => parseTrustRoot({ ...v1, workers: [{ id: 'host-a', publicKey: pub(3), keyId: '0000000000000000' }] })).toThrow(/does not match/);
    expect(() => parseTrustRoot({ ...v2, workers: [{ id: 'h', publicKey: pub(3) }, { id: 'h', publicKey: pub(4) }] })).toThrow(/the worker id h is listed twice/);
    expect(() => parseTrustRoot({ ...v2, workers: [{ id: 'h', publicKey: pub(3), role: 'owner' }] })).toThrow(/trust root is not valid/);
  });

  it('never finds a worker key as a signer: a grant signed with a worker key is refused as an unknown key', () => {
    const keys = makeKeys({ workers: ['host-a'] });
    const root = parseTrustRoot(JSON.parse(readFileSync(keys.trustRootPath, 'utf8')));
    const worker = readPrivateKey(keys.workerKeys['host-a']!);
    expect(worker.role).toBe('worker');
    expect(findWorker(root, worker.keyId)?.id).toBe('host-a');
    expect(findKey(root, worker.keyId)).toBeUndefined();
    const now = Date.parse('2026-06-01T10:00:00Z');
    const grant = (key: typeof worker) =>
      makeEnvelope({ key, workflowId: 'w', runId: 'r', startId: '5'.repeat(64), changeId: 'c', lane: 'rehearsal', action: 'AUTHORIZE_REHEARSAL', trustRoot: root.fingerprint, specHash: 'a'.repeat(64), validForMs: 600_000, now });
    const ctx = { trustRoot: root, workflowId: 'w', runId: 'r', startId: '5'.repeat(64), changeId: 'c', lane: 'rehearsal' as const, specHash: 'a'.repeat(64), acceptedActions: ['AUTHORIZE_REHEARSAL' as const], nowMs: now, usedNonces: new Set<string>() };
    // The same grant by an owner counts (the context is right), by the worker key it does not, under either verifier.
    const owners = verifyEnvelope(grant(keys.owner), ctx, verifyEd25519Node);
    expect(owners.ok ? 'ok' : owners.reason).toBe('ok');
    for (const check of [verifyEd25519Node, verifyEd25519Strict]) {
      const v = verifyEnvelope(grant(worker), ctx, check);
      expect(v).toMatchObject({ ok: false, code: 'UNKNOWN_KEY' });
    }
  });
});
