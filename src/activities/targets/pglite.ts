/**
 * The embedded engine (PGlite): production lives under `<lanes home>/targets/<name>`; clones live in memory and
 * are made from production by dump and load (`dumpDataDir` → `loadDataDir`), then stamped with a new instance
 * id. PGlite has no system identifier, so its identity is that instance id.
 *
 * A PGlite data directory can be opened by one instance at a time, and an instance is a single session, so
 * production instances are shared process-wide and every use goes through `exclusive`.
 *
 * Making instances is what a rehearsal costs: every empty clone and every new production starts from this process's
 * pristine image instead of initdb, a production-shaped clone from a copy of production made once per production
 * version (`currentCopy`), and a restore from the snapshot's image (pglite-images.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { CHANGE_ID } from '../../domain/envelope';
import { copyOf, emptyDatabase, forgetPristineImage, imagesOn, isImage, loadCopy, pristineImage, writeImage, type Copy } from './pglite-images';
import { BOOKKEEPING_SQL, instanceOf, stampInstance, type CloneTarget, type Target, type TargetIdentity, type TargetSession } from './target';

/**
 * Open production instances, by data directory. A PGlite instance costs hundreds of MiB, and a worker serves many
 * changes (each with its own production), so at most MAX_OPEN stay open: the least recently used idle one is
 * closed when another opens, and reopened from disk when next needed. Instances in use are never closed.
 */
const MAX_OPEN = 4;
interface OpenDb {
  db: Promise<PGlite>;
  inUse: number;
  lastUsed: number;
}
const open = new Map<string, OpenDb>();
const queues = new WeakMap<PGlite, Promise<unknown>>();

/**
 * Uses of each open production that may have written, since it opened: a copy stays production's current state
 * while this count is unchanged. Every use through `withPgliteDb` counts except those run read-only.
 */
const writes = new WeakMap<PGlite, number>();
interface ProductionCopy {
  copy: Copy;
  at: string;
  reused: boolean;
}
const copies = new WeakMap<PGlite, ProductionCopy & { writes: number }>();

/** A copy of `db` as it is now: the last one while nothing may have written since, else a new one. */
async function currentCopy(db: PGlite): Promise<ProductionCopy> {
  const n = writes.get(db) ?? 0;
  const last = copies.get(db);
  if (last && last.writes === n && imagesOn()) return { copy: last.copy, at: last.at, reused: true };
  const made = { copy: await copyOf(db), at: new Date().toISOString(), reused: false };
  copies.set(db, { ...made, writes: n });
  return made;
}

export function targetDir(lanesHome: string, name: string): string {
  // The spec schema allows only these names; checked again here because this name becomes a path.
  if (!CHANGE_ID.test(name)) throw new Error(`PGlite target name ${JSON.stringify(name)} is not 1-100 chars of letters, digits, ".", "_" or "-"`);
  return join(lanesHome, 'targets', name);
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
    // PGlite's query() always uses the extended protocol (exec() is the simple one).
    statement: async <R>(sql: string) => (await db.query<R>(sql, [])).rows,
  };
}

/** PGlite has no system identifier: its identity is the instance id stamped into it. */
export async function pgliteIdentity(label: string, db: PGlite): Promise<TargetIdentity> {
  return { engine: 'pglite', system: null, database: label, instance: await instanceOf(pgliteSession(db)) };
}

function openDir(dir: string): Promise<PGlite> {
  const db = (async () => {
    // A new production starts from the pristine image; a directory holding anything is opened as it is.
    if (!(imagesOn() && (await writeImage(dir, pristineImage)))) mkdirSync(dir, { recursive: true });
    const pg = await PGlite.create(dir);
    await pg.exec(BOOKKEEPING_SQL);
    await pg.query('INSERT INTO gated_lanes.target_identity (id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM gated_lanes.target_identity)', [randomUUID()]);
    return pg;
  })();
  db.catch(() => open.delete(dir));
  return db;
}

/** How many production instances this process holds open (bounded by MAX_OPEN while idle). */
export function openPgliteCount(): number {
  return open.size;
}

function evictIdle(): void {
  const idle = [...open.entries()].filter(([, o]) => o.inUse === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
  for (const [dir, o] of idle.slice(0, Math.max(0, open.size - MAX_OPEN))) {
    open.delete(dir);
    void o.db.then((d) => exclusive(d, (x) => x.close())).catch(() => undefined);
  }
}

/**
 * Runs `fn` exclusively on the production database in `dir` (created empty, with its instance id, on first use),
 * keeping it open while `fn` runs. `readOnly`: under `default_transaction_read_only`, so the server refuses
 * `fn`'s writes and the last copy stays current; any other use counts as a write.
 */
export async function withPgliteDb<T>(dir: string, fn: (db: PGlite) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
  let o = open.get(dir);
  if (!o) {
    o = { db: openDir(dir), inUse: 0, lastUsed: 0 };
    open.set(dir, o);
  }
  o.inUse++;
  o.lastUsed = Date.now();
  try {
    return await exclusive(await o.db, async (d) => {
      if (!opts.readOnly) {
        writes.set(d, (writes.get(d) ?? 0) + 1);
        return fn(d);
      }
      await d.exec('SET default_transaction_read_only = on');
      try {
        return await fn(d);
      } finally {
        await d.exec('RESET default_transaction_read_only');
      }
    });
  } finally {
    o.inUse--;
    o.lastUsed = Date.now();
    evictIdle();
  }
}

/** `label` is what evidence shows: a path relative to LANES_HOME, so a packet names no machine's home directory. */
type PgliteProduction = Target & { copy(): Promise<ProductionCopy> };

function productionTarget(dir: string, label: string): PgliteProduction {
  return {
    engine: 'pglite',
    label,
    session: (fn, opts) => withPgliteDb(dir, (d) => fn(pgliteSession(d)), opts),
    identity: () => withPgliteDb(dir, (d) => pgliteIdentity(label, d), { readOnly: true }),
    copy: () => withPgliteDb(dir, currentCopy, { readOnly: true }),
  };
}

/** A change's production on PGlite, under `<lanes home>/targets/<name>`. */
export function pgliteProduction(lanesHome: string, name: string): PgliteProduction {
  return productionTarget(targetDir(lanesHome, name), `pglite:$LANES_HOME/targets/${name}`);
}

/** An isolated in-memory clone: empty, or loaded from a dump of `source` (production-shaped). Always a new instance id. */
export async function pgliteClone(source?: PgliteProduction): Promise<CloneTarget> {
  const from = source ? await source.copy() : undefined;
  let db = from ? await loadCopy(from.copy) : await emptyDatabase();
  await stampInstance(pgliteSession(db), randomUUID());
  let snapshot: Copy | undefined;
  const provenance = {
    kind: source ? ('production-shaped' as const) : ('empty' as const),
    method: !from
      ? `new empty PGlite database (in memory${imagesOn() ? ", loaded from this worker's pristine initdb image, checked empty" : ''})`
      : isImage(from.copy)
        ? `copy of production's PGlite data directory, loaded into a new in-memory instance; copied ${from.at}${from.reused ? ' (reused: production unchanged since then)' : ''}`
        : 'PGlite dumpDataDir → loadDataDir (in memory)',
    source: source?.label ?? null,
    sourceIdentity: source ? await source.identity() : null,
    createdAt: new Date().toISOString(),
  };
  const label = 'pglite:memory (clone)';
  return {
    engine: 'pglite',
    label,
    session: (fn) => exclusive(db, (d) => fn(pgliteSession(d))),
    identity: () => exclusive(db, (d) => pgliteIdentity(label, d)),
    provenance,
    snapshot: async () => {
      snapshot = await exclusive(db, copyOf);
    },
    restore: async () => {
      if (!snapshot) throw new Error('restore before any snapshot');
      const loaded = await loadCopy(snapshot);
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
  forgetPristineImage();
  for (const o of dbs) {
    const d = await o.db.catch(() => undefined);
    if (d) await exclusive(d, (x) => x.close()).catch(() => undefined);
  }
}
