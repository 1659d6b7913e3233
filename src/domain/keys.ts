/**
 * Ed25519 public keys as the trust root lists them, and the checks that refuse weak ones.
 *
 * Keys travel as lowercase hex (64 chars). A key's id is derived from its bytes, so a trust root cannot label a
 * key with somebody else's id.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { hexToBytes } from '@noble/hashes/utils';
import { sha256Hex } from './hashing';

export const PUBLIC_KEY_HEX = /^[0-9a-f]{64}$/;
export const SIGNATURE_HEX = /^[0-9a-f]{128}$/;
export const KEY_ID = /^[0-9a-f]{16}$/;

/** The first 16 hex chars (64 bits) of sha256(public key). Collisions cannot forge: signatures are checked against the listed key. */
export function keyIdOf(publicKeyHex: string): string {
  return sha256Hex(hexToBytes(publicKeyHex)).slice(0, 16);
}

/**
 * Why a public key is unfit to authorise anything, or null when it is fine.
 * Refused: wrong length/encoding, non-canonical encodings, points not on the curve, and small-order or
 * mixed-order points. A small-order key lets anyone make "valid" signatures under lax verifiers.
 */
export function publicKeyProblem(publicKeyHex: string): string | null {
  if (!PUBLIC_KEY_HEX.test(publicKeyHex)) return 'public key must be 64 lowercase hex characters (32 bytes)';
  let point;
  try {
    point = ed25519.ExtendedPoint.fromHex(publicKeyHex, false);
  } catch {
    return 'public key is not a canonical encoding of a point on Ed25519';
  }
  if (point.isSmallOrder()) return 'public key is a small-order point (weak key)';
  if (!point.isTorsionFree()) return 'public key has a torsion component (mixed-order point)';
  return null;
}

/** Strict (RFC 8032 / FIPS 186-5) verification: refuses non-canonical encodings and small-order keys. */
export function verifyEd25519Strict(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  if (!PUBLIC_KEY_HEX.test(publicKeyHex) || !SIGNATURE_HEX.test(signatureHex)) return false;
  try {
    return ed25519.verify(hexToBytes(signatureHex), message, hexToBytes(publicKeyHex), { zip215: false });
  } catch {
    return false;
  }
}

/** The signature check the rules use; the production worker passes a node:crypto one (DESIGN.md §The gate). */
export type SignatureCheck = (publicKeyHex: string, message: Uint8Array, signatureHex: string) => boolean;
