/**
 * Owner/operator key files, and worker keys (role "worker": a host's attestation key for the shared evidence store,
 * listed under the trust root's `workers`, never under people, and never able to sign an envelope). `<name>.key` holds the private key (mode 0600, never overwritten); `<name>.pub` holds
 * the public half in exactly the shape a trust root lists keys, so publishing a key is a copy, not a rewrite.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { keyIdOf } from '../domain/keys';
import { publicKeyFromPrivate } from '../domain/signing';
import { ROLES } from '../domain/vocabulary';
import { UserError } from './user-error';

/** What a key file may hold: a person's role, or a worker host's key. */
export const KEY_FILE_ROLES = [...ROLES, 'worker'] as const;
export type KeyFileRole = (typeof KEY_FILE_ROLES)[number];

const privateKeyFileSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('gated-lanes-private-key'),
    name: z.string().min(1),
    role: z.enum(KEY_FILE_ROLES),
    keyId: z.string(),
    publicKey: z.string().regex(/^[0-9a-f]{64}$/),
    privateKey: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export type PrivateKeyFile = z.infer<typeof privateKeyFileSchema>;
export interface PublicKeyEntry {
  name: string;
  role: KeyFileRole;
  keyId: string;
  publicKey: string;
}

export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Creates `<dir>/<name>.key` and `<dir>/<name>.pub`; refuses to touch either if one already exists. */
export function createKeyPair(dir: string, name: string, role: KeyFileRole): { keyPath: string; pubPath: string; entry: PublicKeyEntry } {
  if (!KEY_NAME.test(name)) throw new UserError(`key name "${name}" must be 1-64 letters, digits, ".", "_" or "-"`, 2);
  const keyPath = join(dir, `${name}.key`);
  const pubPath = join(dir, `${name}.pub`);
  for (const p of [keyPath, pubPath]) {
    if (existsSync(p)) throw new UserError(`${p} already exists; keys are never overwritten — choose another --name or --out`);
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const priv = Buffer.from(jwk.d as string, 'base64url').toString('hex');
  const publicKey = publicKeyFromPrivate(priv);
  const entry: PublicKeyEntry = { name, role, keyId: keyIdOf(publicKey), publicKey };
  mkdirSync(dir, { recursive: true });
  const file: PrivateKeyFile = { v: 1, kind: 'gated-lanes-private-key', ...entry, privateKey: priv };
  // 'wx' fails if the file appeared meanwhile: two concurrent runs cannot overwrite each other's key.
  writeFileSync(keyPath, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  writeFileSync(pubPath, `${JSON.stringify({ v: 1, kind: 'gated-lanes-public-key', ...entry }, null, 2)}\n`, { flag: 'wx' });
  return { keyPath, pubPath, entry };
}

/**
 * Reads a private key file and checks it is whole: its public key must match its private key. Like ssh, it refuses
 * a key file that group or others may read or write: a key others can read may already sign for somebody else.
 */
export function readPrivateKey(path: string): PrivateKeyFile {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserError(`key file ${path} is not JSON (${(err as Error).message}); pass a .key file made by \`lanes keys new\``);
  }
  const parsed = privateKeyFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const hint = (doc as { kind?: string })?.kind === 'gated-lanes-public-key' ? ' (this is a .pub file; pass the .key file)' : '';
    throw new UserError(`key file ${path} is not a private key file: ${issue?.path.join('.') || '(root)'} ${issue?.message}${hint}`);
  }
  // Checked once the file is known to hold a private key (a .pub file gets the hint above instead).
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new UserError(`key file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); a private key must be yours alone. Fix it with: chmod 600 ${path}`);
  }
  const k = parsed.data;
  if (publicKeyFromPrivate(k.privateKey) !== k.publicKey || keyIdOf(k.publicKey) !== k.keyId) {
    throw new UserError(`key file ${path} is inconsistent: its public key or key id does not match its private key`);
  }
  return k;
}

export function requireRole(key: PrivateKeyFile, role: KeyFileRole, path: string, why: string): void {
  if (key.role !== role) {
    throw new UserError(`${path} is an ${key.role} key (${key.name}); ${why} needs an ${role} key`);
  }
}
