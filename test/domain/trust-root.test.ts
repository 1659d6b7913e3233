import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519';
import { bytesToHex } from '@noble/hashes/utils';
import { parseTrustRoot, TrustRootError } from '../../src/domain/trust-root';
import { keyIdOf, publicKeyProblem } from '../../src/domain/keys';

const goodKey = () => bytesToHex(ed25519.getPublicKey(ed25519.utils.randomPrivateKey()));
const IDENTITY = '0100000000000000000000000000000000000000000000000000000000000000'; // order 1
const ORDER_TWO = 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'; // (0, -1)
const NON_CANONICAL = 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'; // y = p

function mixedOrder(): string {
  const p = ed25519.ExtendedPoint.fromHex(goodKey());
  return p.add(ed25519.ExtendedPoint.fromHex(ORDER_TWO)).toHex();
}

describe('trust root', () => {
  it('accepts valid keys, derives key ids and fingerprints independent of order', () => {
    const a = { name: 'alice', role: 'owner', publicKey: goodKey() };
    const b = { name: 'olly', role: 'operator', publicKey: goodKey() };
    const one = parseTrustRoot({ v: 1, keys: [a, b] });
    const two = parseTrustRoot({ v: 1, keys: [b, a] });
    expect(one.keys.map((k) => k.keyId).sort()).toEqual([keyIdOf(a.publicKey), keyIdOf(b.publicKey)].sort());
    expect(one.fingerprint).toBe(two.fingerprint);
    expect(one.fingerprint).not.toBe(parseTrustRoot({ v: 1, keys: [a] }).fingerprint);
  });

  it.each([
    ['the identity point (small order)', IDENTITY, /small-order/],
    ['an order-2 point', ORDER_TWO, /small-order/],
    ['a non-canonical encoding', NON_CANONICAL, /canonical encoding|small-order/],
    ['a mixed-order point', 'MIXED', /torsion/],
    ['a short key', 'abcd', /64 lowercase hex/],
    ['upper-case hex', 'AB'.repeat(32), /64 lowercase hex/],
  ])('refuses %s when the trust root loads', (_name, key, message) => {
    const publicKey = key === 'MIXED' ? mixedOrder() : key;
    expect(publicKeyProblem(publicKey)).toMatch(message);
    expect(() => parseTrustRoot({ v: 1, keys: [{ name: 'bad', role: 'owner', publicKey }] })).toThrow(TrustRootError);
  });

  it('refuses a key id that does not match its key, duplicate keys, and impossible thresholds', () => {
    const k = goodKey();
    expect(() => parseTrustRoot({ v: 1, keys: [{ name: 'a', role: 'owner', publicKey: k, keyId: '0000000000000000' }] })).toThrow(/does not match/);
    expect(() =>
      parseTrustRoot({ v: 1, keys: [{ name: 'a', role: 'owner', publicKey: k }, { name: 'b', role: 'operator', publicKey: k }] }),
    ).toThrow(/one key holds one role/);
    expect(() => parseTrustRoot({ v: 1, keys: [{ name: 'a', role: 'owner', publicKey: k }], thresholds: { APPLY: 2 } })).toThrow(
      /needs 2 distinct owners/,
    );
  });

  it('refuses unknown fields and roles', () => {
    expect(() => parseTrustRoot({ v: 1, keys: [{ name: 'a', role: 'admin', publicKey: goodKey() }] })).toThrow(TrustRootError);
    expect(() => parseTrustRoot({ v: 1, keys: [{ name: 'a', role: 'owner', publicKey: goodKey() }], extra: 1 })).toThrow(TrustRootError);
  });
});
