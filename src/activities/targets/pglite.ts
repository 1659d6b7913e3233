/**
 * The embedded engine (PGlite): production lives under `<lanes home>/targets/<name>`; clones live in memory and
 * are made from production by dump and load (`dumpDataDir` → `loadDataDir`), then stamped with a new instance
 * id. PGlite has no system identifier, so its identity is that instance id.
 *
 * A PGlite data directory can be opened by one instance at a time, and an instance is a single session, so
 * production instances are shared process-wide and every use goes through `exclusive`.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { safeSegment } from '../evidence';
import { BOOKKEEPING_SQL, instanceOf, stampInstance, type CloneTarget, type Target, type TargetSession } from './target';

const open = new Map<string, Promise<PGlite>>();
const queues = new WeakMap<PGlite, Promise<unknown>>();

export function targetDir(lanesHome: string, name: string): string {
  return join(lanesHome, 'targets', safeSegment(name));
}

/**
 * Runs `fn` with the instance to itself. PGlite is a single session: two activities interleaving BEGIN/ROLLBACK
 * on it would share one transaction.
 */
export function exclusive<T>(db: PGlite, fn: (db: PGlite) => Promise<T>): Promise<T> {
  const prev = queues.get(db) ?? Promise.resolve();
  const run = prev.then(() => fn(db));
  queues.set(db, run.catch(() => undefined));
  return run;
}

export function pgliteSession(db: PGlite): TargetSession {
  return {
    query: async <R>(sql: string, params?: unknown[]) => (await db.query<R>(sql, params)).rows,
    exec: async (sql: string) => void (await db.exec(sql)),
  };
}

function targetOf(db: () => PGlite, label: string): Target {
  return {
    engine: 'pglite',
    label,
    session: (fn) => exclusive(db(), (d) => fn(pgliteSession(d))),
    identity: () => exclusive(db(), async (d) => ({ engine: 'pglite' as const, system: null, database: label, instance: await instanceOf(pgliteSession(d)) })),
  };
}

/** The production database of a change, created empty (with its instance id) on first use. */
export function openPgliteDb(lanesHome: string, name: string): Promise<PGlite> {
  const dir = targetDir(lanesHome, name);
  let db = open.get(dir);
  if (!db) {
    db = (async () => {
      mkdirSync(dir, { recursive: true });
      const pg = await PGlite.create(dir);
      await pg.exec(BOOKKEEPING_SQL);
      await pg.query('INSERT INTO gated_lanes.target_identity (id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM gated_lanes.target_identity)', [randomUUID()]);
      return pg;
    })();
    open.set(dir, db);
    db.catch(() => open.delete(dir));
  }
  return db;
}

export async function pgliteProduction(lanesHome: string, name: string): Promise<Target & { db: PGlite }> {
  const db = await openPgliteDb(lanesHome, name);
  return { ...targetOf(() => db, `pglite:${targetDir(lanesHome, name)}`), db };
}

/** An isolated in-memory clone: empty, or loaded from a dump of `source` (production-shaped). Always a new instance id. */
export async function pgliteClone(source?: Target & { db: PGlite }): Promise<CloneTarget> {
  const dump = source ? await exclusive(source.db, (d) => d.dumpDataDir('none')) : undefined;
  let db = await PGlite.create(dump ? { loadDataDir: dump } : {});
  await stampInstance(pgliteSession(db), randomUUID());
  let snapshot: File | Blob | undefined;
  const provenance = {
    kind: source ? ('production-shaped' as const) : ('empty' as const),
    method: source ? 'PGlite dumpDataDir → loadDataDir (in memory)' : 'new empty PGlite database (in memory)',
    source: source?.label ?? null,
    sourceIdentity: source ? await source.identity() : null,
    createdAt: new Date().toISOString(),
  };
  return {
    ...targetOf(() => db, 'pglite:memory (clone)'),
    provenance,
    snapshot: async () => {
      snapshot = await exclusive(db, (d) => d.dumpDataDir('none'));
    },
    restore: async () => {
      if (!snapshot) throw new Error('restore before any snapshot');
      const loaded = await PGlite.create({ loadDataDir: snapshot });
      const old = db;
      db = loaded;
      await exclusive(old, (d) => d.close());
    },
    dispose: () => exclusive(db, (d) => d.close()),
  };
}

/** Closes every production database this process opened (worker shutdown, tests). */
export async function closePgliteTargets(): Promise<void> {
  const dbs = [...open.values()];
  open.clear();
  for (const db of dbs) await (await db.catch(() => undefined))?.close();
}
