/**
 * One interface for every database engine a lane works on (DESIGN.md §Targets and proofs). The proofs —
 * fingerprint, rehearsal, dry-run, precheck, production steps — are written once against it; the adapters
 * (`pglite.ts`, `postgres.ts`) only connect, identify, clone, snapshot and restore.
 */

import type { TargetIdentity } from '../../domain/isolation';

export type { TargetIdentity };

/** One connection, used by one piece of work at a time: statements run in order, in its transactions. */
export interface TargetSession {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** One or more statements, no parameters. */
  exec(sql: string): Promise<void>;
  /**
   * Exactly one statement, through the extended query protocol, which refuses a text holding several ("cannot
   * insert multiple commands into a prepared statement"): for running statements someone else wrote one at a time.
   */
  statement<R = Record<string, unknown>>(sql: string): Promise<R[]>;
}

export interface Target {
  readonly engine: TargetIdentity['engine'];
  /** Where it is, without secrets: safe for evidence, logs and history. */
  readonly label: string;
  /**
   * Runs `fn` on a session of its own: nothing else interleaves statements with it. `readOnly` declares that `fn`
   * only reads; an engine may enforce and rely on it (a PGlite production keeps its last copy for the next
   * production-shaped clone while only read-only sessions used it).
   */
  session<T>(fn: (s: TargetSession) => Promise<T>, opts?: { readOnly?: boolean }): Promise<T>;
  identity(): Promise<TargetIdentity>;
}

/** Where a clone came from: recorded in the rehearsal's evidence (seeds' clone-provenance.json). */
export interface CloneProvenance {
  kind: 'empty' | 'production-shaped';
  /** How the clone was made, e.g. "pg_dump | pg_restore" or "PGlite dumpDataDir → loadDataDir". */
  method: string;
  source: string | null;
  sourceIdentity: TargetIdentity | null;
  createdAt: string;
}

/** A throwaway copy the rehearsal may change, snapshot and restore, then dispose of. */
export interface CloneTarget extends Target {
  readonly provenance: CloneProvenance;
  /** Captures the whole clone as it is now (the engine's own dump). */
  snapshot(): Promise<void>;
  /** Puts the clone back to the last snapshot, discarding everything since. */
  restore(): Promise<void>;
  dispose(): Promise<void>;
}

export const BOOKKEEPING_SCHEMA = 'gated_lanes';

/**
 * The bookkeeping tables Gated Lanes keeps in a target: its instance id, the production steps it applied (by which
 * lane run), and the grant nonces those steps consumed. Claims live in the database that changes, in the same
 * transaction as the step, so single use holds whatever workflow carries a grant (src/activities/production-ledger.ts).
 */
export const BOOKKEEPING_SQL = `
CREATE SCHEMA IF NOT EXISTS gated_lanes;
CREATE TABLE IF NOT EXISTS gated_lanes.target_identity (id text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS gated_lanes.applied_steps (
  change_id text NOT NULL,
  step_id text NOT NULL,
  workflow_id text NOT NULL,
  run_id text,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (change_id, step_id)
);
ALTER TABLE gated_lanes.applied_steps ADD COLUMN IF NOT EXISTS run_id text;
ALTER TABLE gated_lanes.applied_steps ADD COLUMN IF NOT EXISTS spec_hash text;
CREATE UNIQUE INDEX IF NOT EXISTS applied_steps_once_per_change ON gated_lanes.applied_steps (change_id, step_id);
CREATE TABLE IF NOT EXISTS gated_lanes.grant_claims (
  nonce text PRIMARY KEY,
  grant_id text NOT NULL,
  action text NOT NULL,
  change_id text NOT NULL,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS gated_lanes.change_baseline (
  change_id text PRIMARY KEY,
  spec_hash text NOT NULL,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  fingerprint text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS gated_lanes.rolled_back_steps (
  change_id text NOT NULL,
  step_id text NOT NULL,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  fingerprint_before text NOT NULL,
  rolled_back_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (change_id, step_id)
);`;

/** Gives a database a new instance id (a clone must not carry its source's). */
export async function stampInstance(s: TargetSession, id: string): Promise<void> {
  await s.exec(BOOKKEEPING_SQL);
  await s.exec('DELETE FROM gated_lanes.target_identity');
  await s.query('INSERT INTO gated_lanes.target_identity (id) VALUES ($1)', [id]);
}

/** The instance id stored in the database, or null when Gated Lanes never stamped it. */
export async function instanceOf(s: TargetSession): Promise<string | null> {
  const [table] = await s.query<{ t: string | null }>("SELECT to_regclass('gated_lanes.target_identity')::text AS t");
  if (!table?.t) return null;
  const rows = await s.query<{ id: string }>('SELECT id FROM gated_lanes.target_identity');
  return rows.length === 1 ? rows[0]!.id : null;
}

/** Runs `fn` inside `begin` (e.g. `BEGIN READ ONLY`), always rolled back: for work that must leave nothing. */
export async function inRolledBackTransaction<T>(s: TargetSession, begin: string, fn: () => Promise<T>): Promise<T> {
  await s.exec(begin);
  try {
    return await fn();
  } finally {
    await s.exec('ROLLBACK');
  }
}

/**
 * Runs `fn` in a transaction that commits only if `fn` returns. READ COMMITTED whatever the server's default: the
 * ledger's claims read what committed before their lock was granted, never an older snapshot.
 */
export async function inTransaction<T>(s: TargetSession, fn: () => Promise<T>): Promise<T> {
  await s.exec('BEGIN ISOLATION LEVEL READ COMMITTED');
  try {
    const result = await fn();
    await s.exec('COMMIT');
    return result;
  } catch (err) {
    await s.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
