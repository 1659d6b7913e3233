/**
 * The trust root: which Ed25519 keys are owners and which are operators (DESIGN.md §Words, §Grants).
 *
 * It is parsed once, by an activity at lane start; its fingerprint is recorded in history so anyone reading the
 * lane later can tell exactly which set of keys authorised it. Weak or malformed keys make the whole file
 * invalid: a trust root that silently skipped a bad entry would be a different trust root than the one reviewed.
 */
import { z } from 'zod';
import { ROLES, GRANT_ACTIONS, type Role } from './vocabulary';
import { keyIdOf, publicKeyProblem } from './keys';
import { canonicalSha256 } from './hashing';

const trustRootFileSchema = z
  .object({
    v: z.literal(1),
    keys: z
      .array(
        z
          .object({
            name: z.string().min(1).max(100),
            role: z.enum(ROLES),
            publicKey: z.string(),
            keyId: z.string().optional(),
          })
          .strict(),
      )
      .min(1, 'must list at least one key'),
    /** k-of-n distinct owners per action; absent means 1. Enforced by the Lane-engine. */
    thresholds: z.partialRecord(z.enum(GRANT_ACTIONS), z.number().int().min(1)).optional(),
  })
  .strict();

export interface TrustedKey {
  keyId: string;
  name: string;
  role: Role;
  publicKey: string;
}

export interface TrustRoot {
  keys: TrustedKey[];
  thresholds: Partial<Record<(typeof GRANT_ACTIONS)[number], number>>;
  /** sha256 of the canonical, normalised trust root. */
  fingerprint: string;
}

export class TrustRootError extends Error {
  override readonly name = 'TrustRootError';
  /** True when the file could not be read at all (missing, unreadable), as opposed to read but invalid. */
  constructor(message: string, readonly unreadable = false) {
    super(message);
  }
}

/** Parses and validates a trust root document; throws TrustRootError naming every problem found. */
export function parseTrustRoot(doc: unknown): TrustRoot {
  const parsed = trustRootFileSchema.safeParse(doc);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new TrustRootError(`trust root is not valid:\n${lines.join('\n')}`);
  }
  const problems: string[] = [];
  const keys: TrustedKey[] = [];
  const seen = new Map<string, string>();
  parsed.data.keys.forEach((k, i) => {
    const where = `keys[${i}] (${k.name})`;
    const problem = publicKeyProblem(k.publicKey);
    if (problem) return void problems.push(`${where}: ${problem}`);
    const keyId = keyIdOf(k.publicKey);
    if (k.keyId !== undefined && k.keyId !== keyId) {
      return void problems.push(`${where}: keyId ${k.keyId} does not match its public key (expected ${keyId})`);
    }
    const earlier = seen.get(keyId);
    if (earlier) return void problems.push(`${where}: same public key as ${earlier}; one key holds one role`);
    seen.set(keyId, where);
    keys.push({ keyId, name: k.name, role: k.role, publicKey: k.publicKey });
  });
  const owners = keys.filter((k) => k.role === 'owner').length;
  const thresholds = parsed.data.thresholds ?? {};
  for (const [action, k] of Object.entries(thresholds)) {
    if (k > owners) problems.push(`thresholds.${action}: needs ${k} distinct owners but the trust root lists ${owners}`);
  }
  if (problems.length > 0) throw new TrustRootError(`trust root is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const sorted = [...keys].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
  return { keys: sorted, thresholds, fingerprint: canonicalSha256({ v: 1, keys: sorted, thresholds }) };
}

export function findKey(root: TrustRoot, keyId: string): TrustedKey | undefined {
  return root.keys.find((k) => k.keyId === keyId);
}
