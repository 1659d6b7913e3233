/** Sandbox-safe hashing helpers (pure JS), shared by workflow code and activities. */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { canonicalBytes } from './canonical-json';

export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === 'string' ? utf8ToBytes(data) : data));
}

/** sha256 of a value's RFC 8785 canonical form: a content address that does not depend on key order. */
export function canonicalSha256(value: unknown): string {
  return sha256Hex(canonicalBytes(value));
}
