/**
 * Images of PGlite data directories, in memory: what clones, snapshots and new productions are made from
 * (issue 14; bench/NOTES.md, R1). Making a PGlite database with `initdb` takes seconds (PGlite runs initdb in a
 * second instance of its own); PGlite's own tarball round trip (`dumpDataDir` → `loadDataDir`) about 0.5 s;
 * copying the data directory's files out of an instance and into a new instance's file system before PostgreSQL
 * starts, about 0.25 s. So a process runs initdb once, for its pristine image, and every other database starts
 * from an image.
 *
 * An image is a list of copies: capturing reads each file into a new array, loading writes each into the new
 * instance's own in-memory file system (Emscripten's MEMFS copies what it is given), and nothing writes to an
 * image afterwards. Each load is a new instance, with its own WebAssembly memory, so nothing one database does
 * reaches another or the image it came from.
 *
 * LANES_PGLITE_IMAGES=off takes the path before images: initdb for every empty clone and every new production,
 * and PGlite's tarballs for production-shaped clones and snapshots (bench R1's baseline, measured in the same run).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MemoryFS, PGlite } from '@electric-sql/pglite';
import { BOOKKEEPING_SQL } from './target';

/** Where every PGlite instance keeps its data directory in its own file system (PGDATA in PGlite's initdb.ts). */
const PGDATA = '/pglite/data';

/** A data directory: its directories and files, paths relative to it, each directory before what it holds. */
export type Image = readonly { path: string; data?: Uint8Array }[];

interface EmscriptenFS {
  readdir(path: string): string[];
  stat(path: string): { mode: number };
  isDir(mode: number): boolean;
  readFile(path: string): Uint8Array;
  writeFile(path: string, data: Uint8Array): void;
  mkdir(path: string, mode?: number): void;
  mkdirTree(path: string, mode?: number): void;
}
const fsOf = (db: PGlite) => (db.Module as unknown as { FS: EmscriptenFS }).FS;

export const imagesOn = () => process.env.LANES_PGLITE_IMAGES !== 'off';

/** Copies `db`'s data directory into memory. The caller holds `db` exclusively (nothing runs on it meanwhile). */
export function captureImage(db: PGlite): Image {
  const FS = fsOf(db);
  const image: { path: string; data?: Uint8Array }[] = [];
  const walk = (rel: string) => {
    for (const name of FS.readdir(PGDATA + rel)) {
      if (name === '.' || name === '..') continue;
      const path = `${rel}/${name}`;
      if (FS.isDir(FS.stat(PGDATA + path).mode)) {
        image.push({ path });
        walk(path);
      } else image.push({ path, data: FS.readFile(PGDATA + path) });
    }
  };
  walk('');
  if (!image.some((e) => e.path === '/PG_VERSION')) throw new Error(`no PG_VERSION in ${PGDATA}: this PGlite keeps its data directory elsewhere`);
  return image;
}

/** An in-memory file system holding `image` as the data directory when PostgreSQL starts: PGlite finds a database. */
class ImageFS extends MemoryFS {
  constructor(private readonly image: Image) {
    super();
  }
  override async initialSyncFs(): Promise<void> {
    const FS = fsOf(this.pg!);
    FS.mkdirTree(PGDATA, 0o700);
    for (const e of this.image) {
      if (e.data) FS.writeFile(PGDATA + e.path, e.data);
      else FS.mkdir(PGDATA + e.path, 0o700);
    }
  }
}

/** A new in-memory instance whose data directory starts as `image`. */
export function loadImage(image: Image): Promise<PGlite> {
  return PGlite.create({ fs: new ImageFS(image) });
}

/**
 * Writes `image` as the data directory `dir` on disk, whole or not at all (made beside it, then renamed), if `dir`
 * is missing or empty; returns false, writing nothing, if `dir` holds anything.
 */
export async function writeImage(dir: string, imageOf: () => Promise<Image>): Promise<boolean> {
  if (existsSync(dir) && readdirSync(dir).length > 0) return false;
  const image = await imageOf();
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.${randomUUID()}.tmp`;
  try {
    mkdirSync(tmp, { mode: 0o700 });
    for (const e of image) {
      if (e.data) writeFileSync(join(tmp, e.path), e.data, { mode: 0o600 });
      else mkdirSync(join(tmp, e.path), { mode: 0o700 });
    }
    if (existsSync(dir)) rmdirSync(dir); // empty: refuses otherwise
    renameSync(tmp, dir);
    return true;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

let pristine: Promise<Image> | undefined;
/**
 * The pristine image: a database fresh from initdb with the bookkeeping tables and no instance id, checkpointed
 * (a load replays no WAL). Made once per process, in an instance of its own that no change's SQL ever reaches.
 */
export function pristineImage(): Promise<Image> {
  pristine ??= (async () => {
    const db = await PGlite.create();
    try {
      await db.exec(BOOKKEEPING_SQL);
      await db.exec('CHECKPOINT');
      return captureImage(db);
    } finally {
      await db.close();
    }
  })();
  pristine.catch(() => (pristine = undefined));
  return pristine;
}

/** Lets the pristine image go (worker shutdown, tests); the next use makes it again. */
export function forgetPristineImage(): void {
  pristine = undefined;
}

/**
 * What a database holds beyond a fresh one: relations, functions and types outside the system schemas and the
 * bookkeeping schema, further schemas, and bookkeeping rows (an instance id among them).
 */
const LEFTOVERS_SQL = `SELECT
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'gated_lanes'))
  + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
  + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'gated_lanes'))
  + (SELECT count(*) FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'public', 'gated_lanes') AND nspname !~ '^pg_(toast_)?temp_')
  + (SELECT count(*) FROM gated_lanes.target_identity) + (SELECT count(*) FROM gated_lanes.applied_steps) + (SELECT count(*) FROM gated_lanes.grant_claims)
  + (SELECT count(*) FROM gated_lanes.change_baseline) + (SELECT count(*) FROM gated_lanes.rolled_back_steps) AS n`;

/**
 * A new empty in-memory database, not yet stamped: loaded from the pristine image and checked to hold nothing
 * beyond a fresh database (else refused), or made by initdb with images off.
 */
export async function emptyDatabase(): Promise<PGlite> {
  if (!imagesOn()) return PGlite.create();
  const db = await loadImage(await pristineImage());
  const [row] = (await db.query<{ n: number | string }>(LEFTOVERS_SQL)).rows;
  if (Number(row?.n) !== 0) {
    await db.close();
    throw new Error(`an empty PGlite clone loaded from the pristine image holds ${row?.n} objects or bookkeeping rows beyond a fresh database; refusing it`);
  }
  return db;
}

/** A copy of a database, for a clone or a snapshot: an image, or PGlite's tarball with images off. */
export type Copy = Image | File | Blob;
export const isImage = (copy: Copy): copy is Image => Array.isArray(copy);

export async function copyOf(db: PGlite): Promise<Copy> {
  return imagesOn() ? captureImage(db) : db.dumpDataDir('none');
}

export function loadCopy(copy: Copy): Promise<PGlite> {
  return isImage(copy) ? loadImage(copy) : PGlite.create({ loadDataDir: copy });
}
