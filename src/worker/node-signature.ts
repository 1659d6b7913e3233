/**
 * Ed25519 verification with node:crypto (OpenSSL), for the production worker's interceptor: a second, independent
 * implementation from the workflow's @noble/curves check, so one library's bug cannot open the gate alone.
 * Weak keys are refused here too, not only when the trust root loads: OpenSSL verifies cofactorless and does
 * not reject small-order keys, so under one it accepts forgeries such as R = identity, S = 0 (grant fuzzing
 * found it). The key check is the shared one; the signature equation stays OpenSSL's.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { PUBLIC_KEY_HEX, SIGNATURE_HEX, publicKeyProblem, type SignatureCheck } from '../domain/keys';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Keys already judged: a trust root has a handful, and the torsion check costs a scalar multiplication. */
const judged = new Map<string, boolean>();
function keyIsSound(publicKeyHex: string): boolean {
  let sound = judged.get(publicKeyHex);
  if (sound === undefined) {
    sound = publicKeyProblem(publicKeyHex) === null;
    if (judged.size >= 1024) judged.clear();
    judged.set(publicKeyHex, sound);
  }
  return sound;
}

/** OpenSSL key objects by public key: importing one costs more than the verification itself (bench P7). */
const imported = new Map<string, KeyObject>();
function keyObject(publicKeyHex: string): KeyObject {
  let key = imported.get(publicKeyHex);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
    if (imported.size >= 1024) imported.clear();
    imported.set(publicKeyHex, key);
  }
  return key;
}

export const verifyEd25519Node: SignatureCheck = (publicKeyHex, message, signatureHex) => {
  if (!PUBLIC_KEY_HEX.test(publicKeyHex) || !SIGNATURE_HEX.test(signatureHex) || !keyIsSound(publicKeyHex)) return false;
  try {
    return verify(null, message, keyObject(publicKeyHex), Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
};
