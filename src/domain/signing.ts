/** Signs an envelope payload (RFC 8785 canonical bytes, Ed25519). The counterpart of envelope-rules.ts. */
import { ed25519 } from '@noble/curves/ed25519';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils';
import { canonicalBytes } from './canonical-json';
import type { EnvelopePayload, SignedEnvelope } from './envelope';

export function signEnvelope(payload: EnvelopePayload, privateKeyHex: string): SignedEnvelope {
  return { payload, signature: bytesToHex(ed25519.sign(canonicalBytes(payload), hexToBytes(privateKeyHex))) };
}

export function publicKeyFromPrivate(privateKeyHex: string): string {
  return bytesToHex(ed25519.getPublicKey(hexToBytes(privateKeyHex)));
}

/** Signs any value's canonical bytes (a worker's attestation, src/evidence/attestation.ts); hex signature. */
export function signCanonical(value: unknown, privateKeyHex: string): string {
  return bytesToHex(ed25519.sign(canonicalBytes(value), hexToBytes(privateKeyHex)));
}
