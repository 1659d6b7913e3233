/**
 * The trust root: the people who may sign, each with their Ed25519 keys and roles (DESIGN.md §Words, §Grants).
 *
 * Authority counts *people*, not keys or names: "nobody approves their own lane" and "k distinct owners" compare
 * person ids, so one person holding an operator key and an owner key (or two owner keys) is still one person.
 * Version 2 lists people explicitly. Version 1 files (a flat list of named keys) keep working: their keys are grouped
 * into people by name, case-insensitively, so a v1 file never counts one name as two people (see README: migrating).
 *
 * It also sets the limits every signature lives under (longest grant, longest precheck validity). Weak or malformed
 * keys make the whole file invalid: a trust root that silently skipped a bad entry would be a different trust root
 * than the one reviewed. Its fingerprint, named in every envelope, pins exactly this file's meaning.
 */
import { z } from 'zod';
import { ROLES, GRANT_ACTIONS, type Role } from './vocabulary';
import { keyIdOf, publicKeyProblem } from './keys';
import { canonicalSha256 } from './hashing';
import { durationMs, formatDuration } from './duration';

/** Actions a trust root may ask k distinct owners for: every grant, and the owner's charter of a change's blockers. */
export const THRESHOLD_ACTIONS = [...GRANT_ACTIONS, 'CHARTER'] as const;
export type ThresholdAction = (typeof THRESHOLD_ACTIONS)[number];

/** The defaults, and the ceilings a trust root may not raise them above. */
export const DEFAULT_GRANT_LIFETIME_MS = 24 * 3_600_000;
export const MAX_GRANT_LIFETIME_MS = 7 * 24 * 3_600_000;
export const DEFAULT_PRECHECK_VALIDITY_MS = 24 * 3_600_000;
export const MAX_PRECHECK_VALIDITY_MS = 24 * 3_600_000;

const PERSON_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const WORKER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const thresholdsSchema = z.partialRecord(z.enum(THRESHOLD_ACTIONS), z.number().int().min(1)).optional();

/**
 * Worker hosts (v1 and v2): keys that attest what a worker wrote to the shared evidence store (src/evidence/attestation.ts).
 * They are not people's keys: they sign no envelope (findKey never returns one) and count toward nothing.
 */
const workersSchema = z
  .array(z.object({ id: z.string().regex(WORKER_ID, 'must be 1-64 letters, digits, ".", "_" or "-" (the worker host, e.g. host-a)'), publicKey: z.string(), keyId: z.string().optional() }).strict())
  .optional();

const v1Schema = z
  .object({
    v: z.literal(1),
    keys: z
      .array(z.object({ name: z.string().min(1).max(100).regex(/^[^\p{Cc}\p{Cf}]+$/u, 'must not contain control or invisible format characters'), role: z.enum(ROLES), publicKey: z.string(), keyId: z.string().optional() }).strict())
      .min(1, 'must list at least one key'),
    /** k-of-n distinct owners per action; absent means 1. */
    thresholds: thresholdsSchema,
    workers: workersSchema,
  })
  .strict();

const duration = (max: number) =>
  z
    .string()
    .refine((s) => durationMs(s) !== undefined, 'must be a duration like 30m, 12h or 1d')
    .refine((s) => (durationMs(s) ?? 0) <= max, `may be at most ${formatDuration(max)}`);

const v2Schema = z
  .object({
    v: z.literal(2),
    people: z
      .array(
        z
          .object({
            id: z.string().regex(PERSON_ID, 'must be 1-64 lowercase letters, digits, ".", "_" or "-" (a stable id, e.g. alice)'),
            name: z.string().min(1).max(100),
            keys: z
              .array(z.object({ role: z.enum(ROLES), publicKey: z.string(), keyId: z.string().optional(), label: z.string().max(100).optional() }).strict())
              .min(1, 'must list at least one key'),
          })
          .strict(),
      )
      .min(1, 'must list at least one person'),
    thresholds: thresholdsSchema,
    /** The longest a grant may live (expiresAt − issuedAt) and the longest a passed precheck may open execution. */
    limits: z.object({ grantLifetime: duration(MAX_GRANT_LIFETIME_MS).optional(), precheckValidity: duration(MAX_PRECHECK_VALIDITY_MS).optional() }).strict().optional(),
    workers: workersSchema,
  })
  .strict();

export interface TrustedKey {
  keyId: string;
  /** The display name of the person holding the key. */
  name: string;
  role: Role;
  publicKey: string;
  /** The id of the person holding the key: what "distinct owners" and "not the lane's operator" compare. */
  person: string;
}

/** A worker host's attestation key: never a person's, never able to sign an envelope. */
export interface TrustedWorker {
  id: string;
  keyId: string;
  publicKey: string;
}

export interface TrustLimits {
  grantLifetimeMs: number;
  precheckValidityMs: number;
}

export interface TrustRoot {
  version: 1 | 2;
  keys: TrustedKey[];
  people: { id: string; name: string }[];
  thresholds: Partial<Record<ThresholdAction, number>>;
  limits: TrustLimits;
  /**
   * Worker hosts whose attestations make a shared-store packet usable; present only when the file lists some, so a
   * trust root without workers is the very object (and fingerprint) earlier releases recorded in lane histories.
   */
  workers?: TrustedWorker[];
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

const byKeyId = (a: { keyId: string }, b: { keyId: string }) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0);

/** Parses and validates a trust root document (v1 or v2); throws TrustRootError naming every problem found. */
export function parseTrustRoot(doc: unknown): TrustRoot {
  const version = (doc as { v?: unknown } | null)?.v;
  const parsed = version === 2 ? v2Schema.safeParse(doc) : v1Schema.safeParse(doc);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new TrustRootError(`trust root is not valid:\n${lines.join('\n')}`);
  }
  const problems: string[] = [];
  const keys: TrustedKey[] = [];
  const seen = new Map<string, string>();
  const addKey = (where: string, k: { role: Role; publicKey: string; keyId?: string | undefined }, name: string, person: string) => {
    const problem = publicKeyProblem(k.publicKey);
    if (problem) return void problems.push(`${where}: ${problem}`);
    const keyId = keyIdOf(k.publicKey);
    if (k.keyId !== undefined && k.keyId !== keyId) return void problems.push(`${where}: keyId ${k.keyId} does not match its public key (expected ${keyId})`);
    const earlier = seen.get(keyId);
    if (earlier) return void problems.push(`${where}: same public key as ${earlier}; one key holds one role and belongs to one person`);
    seen.set(keyId, where);
    keys.push({ keyId, name, role: k.role, publicKey: k.publicKey, person });
  };

  let people: { id: string; name: string }[];
  let limits: TrustLimits = { grantLifetimeMs: DEFAULT_GRANT_LIFETIME_MS, precheckValidityMs: DEFAULT_PRECHECK_VALIDITY_MS };
  if (parsed.data.v === 1) {
    // v1 names keys, not people: keys of one name (case-insensitively) are one person, never two.
    parsed.data.keys.forEach((k, i) => addKey(`keys[${i}] (${JSON.stringify(k.name)})`, k, k.name, v1Person(k.name)));
    people = [...new Map(keys.map((k) => [k.person, { id: k.person, name: k.name }])).values()];
  } else {
    const ids = new Set<string>();
    for (const [i, p] of parsed.data.people.entries()) {
      if (ids.has(p.id)) problems.push(`people[${i}] (${p.id}): the id ${p.id} is listed twice; list each person once, with all their keys`);
      ids.add(p.id);
      p.keys.forEach((k, j) => addKey(`people[${i}].keys[${j}] (${p.id})`, k, p.name, p.id));
    }
    people = parsed.data.people.map((p) => ({ id: p.id, name: p.name }));
    const l = parsed.data.limits;
    limits = {
      grantLifetimeMs: l?.grantLifetime ? durationMs(l.grantLifetime)! : DEFAULT_GRANT_LIFETIME_MS,
      precheckValidityMs: l?.precheckValidity ? durationMs(l.precheckValidity)! : DEFAULT_PRECHECK_VALIDITY_MS,
    };
  }
  const workers: TrustedWorker[] = [];
  const workerIds = new Set<string>();
  for (const [i, w] of (parsed.data.workers ?? []).entries()) {
    const where = `workers[${i}] (${w.id})`;
    if (workerIds.has(w.id)) problems.push(`${where}: the worker id ${w.id} is listed twice`);
    workerIds.add(w.id);
    const problem = publicKeyProblem(w.publicKey);
    if (problem) {
      problems.push(`${where}: ${problem}`);
      continue;
    }
    const keyId = keyIdOf(w.publicKey);
    if (w.keyId !== undefined && w.keyId !== keyId) {
      problems.push(`${where}: keyId ${w.keyId} does not match its public key (expected ${keyId})`);
      continue;
    }
    // A worker key is a machine's, never a person's: one key that was both could sign grants with a stolen host's key.
    const earlier = seen.get(keyId);
    if (earlier) {
      problems.push(`${where}: same public key as ${earlier}; a worker key is a host's alone and never a person's key`);
      continue;
    }
    seen.set(keyId, where);
    workers.push({ id: w.id, keyId, publicKey: w.publicKey });
  }
  const owners = new Set(keys.filter((k) => k.role === 'owner').map((k) => k.person)).size;
  const thresholds = parsed.data.thresholds ?? {};
  for (const [action, k] of Object.entries(thresholds)) {
    if (k > owners) problems.push(`thresholds.${action}: needs ${k} distinct owners but the trust root lists ${owners} owner${owners === 1 ? '' : 's'} (people, not keys)`);
  }
  if (problems.length > 0) throw new TrustRootError(`trust root is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const sorted = [...keys].sort(byKeyId);
  // Listed only when there are workers: a file without them keeps exactly the fingerprint of earlier releases.
  const sortedWorkers = [...workers].sort(byKeyId);
  const listed = sortedWorkers.length > 0 ? { workers: sortedWorkers.map(({ id, keyId, publicKey }) => ({ id, keyId, publicKey })) } : {};
  const fingerprint =
    parsed.data.v === 1
      ? // Exactly the v1 fingerprint of earlier releases: envelopes signed under a v1 file stay valid.
        canonicalSha256({ v: 1, keys: sorted.map(({ keyId, name, role, publicKey }) => ({ keyId, name, role, publicKey })), thresholds, ...listed })
      : canonicalSha256({
          v: 2,
          people: [...people]
            .sort((a, b) => (a.id < b.id ? -1 : 1))
            .map((p) => ({ ...p, keys: sorted.filter((k) => k.person === p.id).map(({ keyId, role, publicKey }) => ({ keyId, role, publicKey })) })),
          thresholds,
          limits,
          ...listed,
        });
  return { version: parsed.data.v, keys: sorted, people, thresholds, limits, ...(sortedWorkers.length > 0 ? { workers: sortedWorkers } : {}), fingerprint };
}

/** A person's key by id. Worker keys live apart (root.workers) and are never found here: they sign no envelope. */
export function findKey(root: TrustRoot, keyId: string): TrustedKey | undefined {
  return root.keys.find((k) => k.keyId === keyId);
}

/** A worker host's attestation key by id (never a person's key). */
export function findWorker(root: Pick<TrustRoot, 'workers'>, keyId: string): TrustedWorker | undefined {
  return root.workers?.find((w) => w.keyId === keyId);
}

/**
 * The person holding a key. A trust root recorded in a lane's history by an earlier release has no person ids; its
 * keys are grouped by name as v1 files are, so a lane that began before an upgrade is judged the same way after it.
 */
export function personOf(key: Pick<TrustedKey, 'name'> & { person?: string | undefined }): string {
  return key.person ?? v1Person(key.name);
}

/**
 * A v1 name as a person id: compatibility form (NFKC), invisible characters dropped, spaces collapsed, lower case, so
 * "Bob", "bob", "Bob\u200b" and "B\u{FF4F}b" are one person.
 */
function v1Person(name: string): string {
  return `name:${name.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '').replace(/\s+/gu, ' ').trim().toLowerCase()}`;
}

/** The limits a trust root sets (defaults for one recorded by an earlier release, which had none). */
export function limitsOf(root: Pick<TrustRoot, 'limits'> | { limits?: TrustLimits }): TrustLimits {
  return root.limits ?? { grantLifetimeMs: DEFAULT_GRANT_LIFETIME_MS, precheckValidityMs: DEFAULT_PRECHECK_VALIDITY_MS };
}

/** How many distinct owners (people) an action needs. */
export function thresholdFor(root: Pick<TrustRoot, 'thresholds'>, action: ThresholdAction): number {
  // Chartering decides what production waits for: unless said otherwise, it takes as many owners as approving it does.
  if (action === 'CHARTER') return root.thresholds.CHARTER ?? Math.max(root.thresholds.OPT4_PRODUCTION ?? 1, root.thresholds.REAL_RUN ?? 1);
  return root.thresholds[action] ?? 1;
}

