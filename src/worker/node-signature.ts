/**
 * Ed25519 verification with node:crypto (OpenSSL), for the production worker's interceptor: a second, independent
 * implementation from the workflow's @noble/curves check, so one library's bug cannot open the gate alone.
 * Weak keys never reach it: the trust root refuses them when it loads.
 */
import { createPublicKey, verify } from 'node:crypto';
import { PUBLIC_KEY_HEX, SIGNATURE_HEX, type SignatureCheck } from '../domain/keys';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const verifyEd25519Node: SignatureCheck = (publicKeyHex, message, signatureHex) => {
  if (!PUBLIC_KEY_HEX.test(publicKeyHex) || !SIGNATURE_HEX.test(signatureHex)) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
    return verify(null, message, key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
};
