/**
 * The development trust root `npm start` creates when LANES_TRUST_ROOT is unset: one owner and one operator key
 * under `.lanes/keys/`, so the README's commands work on a fresh clone. They are development keys: anyone with
 * the checkout can sign with them, which is why `lanes dev` says so every time it starts.
 */
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createKeyPair, readPrivateKey } from '../cli/key-files';

export interface DevTrustRoot {
  trustRootPath: string;
  ownerKeyPath: string;
  operatorKeyPath: string;
  created: boolean;
}

export function ensureDevTrustRoot(lanesHome: string): DevTrustRoot {
  const keysDir = join(lanesHome, 'keys');
  const trustRootPath = join(lanesHome, 'trust-root.json');
  const ownerKeyPath = join(keysDir, 'dev-owner.key');
  const operatorKeyPath = join(keysDir, 'dev-operator.key');
  if (existsSync(trustRootPath)) return { trustRootPath, ownerKeyPath, operatorKeyPath, created: false };
  mkdirSync(keysDir, { recursive: true });
  const owner = existsSync(ownerKeyPath) ? readPrivateKey(ownerKeyPath) : createKeyPair(keysDir, 'dev-owner', 'owner').entry;
  const operator = existsSync(operatorKeyPath)
    ? readPrivateKey(operatorKeyPath)
    : createKeyPair(keysDir, 'dev-operator', 'operator').entry;
  // Two people, one key each (trust root v2): the development owner is never the development operator.
  const people = [owner, operator].map(({ name, role, keyId, publicKey }) => ({ id: name, name, keys: [{ role, keyId, publicKey }] }));
  writeFileSync(trustRootPath, `${JSON.stringify({ v: 2, people }, null, 2)}\n`, { flag: 'wx' });
  return { trustRootPath, ownerKeyPath, operatorKeyPath, created: true };
}
