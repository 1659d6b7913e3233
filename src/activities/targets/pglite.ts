/**
 * The embedded PostgreSQL target (PGlite): production lives under `<lanes home>/targets/<name>`, clones live in
 * memory. This is the simplest real engine the lanes can run against until the Targets issue adds `pg`.
 *
 * Each target gets a *database identity* (a random id in `gated_lanes.target_identity`) when created; a clone is
 * given a fresh one, so isolation can be checked by identity even when a clone is a byte copy of production.
 * `gated_lanes.applied_steps` is the idempotency ledger of production steps (workflow id + step id).
 *
 * A PGlite data directory can be opened by one instance at a time, so instances are shared process-wide.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { safeSegment } from '../evidence';

const open = new Map<string, Promise<PGlite>>();

const BOOKKEEPING = `
CREATE SCHEMA IF NOT EXISTS gated_lanes;
CREATE TABLE IF NOT EXISTS gated_lanes.target_identity (id text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS gated_lanes.applied_steps (
  workflow_id text NOT NULL,
  step_id text NOT NULL,
  change_id text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, step_id)
);`;

export function targetDir(lanesHome: string, name: string): string {
  return join(lanesHome, 'targets', safeSegment(name));
}

/** The production database of a change, created empty (with its identity) on first use. */
export function openProduction(lanesHome: string, name: string): Promise<PGlite> {
  const dir = targetDir(lanesHome, name);
  let db = open.get(dir);
  if (!db) {
    db = (async () => {
      mkdirSync(dir, { recursive: true });
      const pg = await PGlite.create(dir);
      await pg.exec(BOOKKEEPING);
      await pg.query('INSERT INTO gated_lanes.target_identity (id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM gated_lanes.target_identity)', [randomUUID()]);
      return pg;
    })();
    open.set(dir, db);
    db.catch(() => open.delete(dir));
  }
  return db;
}

/** An isolated in-memory clone: empty, or a copy of `source` (a production-shaped clone). Either way a new identity. */
export async function openClone(source?: PGlite): Promise<PGlite> {
  const pg = source ? await PGlite.create({ loadDataDir: await source.dumpDataDir('none') }) : await PGlite.create();
  await pg.exec(BOOKKEEPING);
  await pg.exec('DELETE FROM gated_lanes.target_identity');
  await pg.query('INSERT INTO gated_lanes.target_identity (id) VALUES ($1)', [randomUUID()]);
  return pg;
}

export async function identityOf(db: PGlite): Promise<string> {
  const r = await db.query<{ id: string }>('SELECT id FROM gated_lanes.target_identity');
  if (r.rows.length !== 1) throw new Error('target has no database identity');
  return r.rows[0]!.id;
}

/** Closes every production target this process opened (worker shutdown, tests). */
export async function closeTargets(): Promise<void> {
  const dbs = [...open.values()];
  open.clear();
  for (const db of dbs) await (await db.catch(() => undefined))?.close();
}

const queues = new WeakMap<PGlite, Promise<unknown>>();

/**
 * Runs `fn` with the target to itself. PGlite is a single session: two activities interleaving BEGIN/ROLLBACK
 * on it would share one transaction, so every multi-statement use of a shared target goes through here.
 */
export function exclusive<T>(db: PGlite, fn: (db: PGlite) => Promise<T>): Promise<T> {
  const prev = queues.get(db) ?? Promise.resolve();
  const run = prev.then(() => fn(db));
  queues.set(db, run.catch(() => undefined));
  return run;
}
