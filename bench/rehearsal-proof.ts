/**
 * P5 (Targets issue): fingerprint + snapshot/restore of a 1M-row surface ÷ a plain `COPY … TO` + `COPY … FROM`
 * of the same rows on the same engine (goal <= 1.5). The subject is what the rehearsal's second path does: one
 * surface fingerprint, the clone's snapshot (the engine's dump) and its restore. The baseline copies the rows out
 * and into an identical table (same indexes), which is the least a row-exact restore can cost.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { surfaceFingerprint } from '../src/activities/targets/fingerprint';
import { pgliteClone } from '../src/activities/targets/pglite';
import { postgresClone, urlForDatabase } from '../src/activities/targets/postgres';
import { measured, seconds, type BenchResult, type Log } from './measure';

const SURFACE = { tables: ['surface_rows'], functions: [] };
const FILL = (rows: number) => `
CREATE TABLE surface_rows (id bigint PRIMARY KEY, object_id text NOT NULL, origin text NOT NULL, born_at timestamptz NOT NULL, weight numeric(10,3));
INSERT INTO surface_rows SELECT g, 'obj-' || g, CASE WHEN g % 3 = 0 THEN 'legacy' ELSE 'lane' END,
  timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', (g % 1000) / 7.0 FROM generate_series(1, ${rows}) g;`;

interface CopyBaseline {
  /** COPY the surface table out and into a fresh identical table; returns when both are done. */
  copyOutAndIn(): Promise<void>;
  close(): Promise<void>;
}

/** A PGlite instance of its own, filled like the clone. */
async function pgliteBaseline(rows: number): Promise<CopyBaseline> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  await db.exec(FILL(rows));
  return {
    async copyOutAndIn() {
      await db.exec('DROP TABLE IF EXISTS surface_copy; CREATE TABLE surface_copy (LIKE surface_rows INCLUDING ALL)');
      const out = await db.query("COPY surface_rows TO '/dev/blob'");
      await db.query("COPY surface_copy FROM '/dev/blob'", [], { blob: out.blob! });
    },
    close: () => db.close(),
  };
}

/** A database of its own on the same server, filled like the clone. */
async function postgresBaseline(adminUrl: string, rows: number): Promise<CopyBaseline> {
  const name = `gl_bench_copy_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const client = new pg.Client({ connectionString: urlForDatabase(adminUrl, name) });
  await client.connect();
  await client.query(FILL(rows));
  return {
    async copyOutAndIn() {
      await client.query('DROP TABLE IF EXISTS surface_copy; CREATE TABLE surface_copy (LIKE surface_rows INCLUDING ALL)');
      const chunks: Buffer[] = [];
      await pipeline(client.query(copyTo('COPY surface_rows TO STDOUT')), async function* (source) {
        for await (const c of source) chunks.push(c as Buffer);
      });
      await pipeline(Readable.from(chunks), client.query(copyFrom('COPY surface_copy FROM STDIN')));
    },
    async close() {
      await client.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    },
  };
}

export async function rehearsalProof(opts: { repeat: number; log: Log; rows?: number; engine: 'pglite' | 'postgres'; postgresUrl?: string }): Promise<BenchResult> {
  const rows = opts.rows ?? 1_000_000;
  const clone = opts.engine === 'pglite' ? await pgliteClone() : await postgresClone(opts.postgresUrl!);
  try {
    opts.log(`P5 ${opts.engine}: filling ${rows} rows`);
    await clone.session((s) => s.exec(FILL(rows)));
    await clone.session((s) => s.exec('ANALYZE surface_rows'));
    const baseline = opts.engine === 'pglite' ? await pgliteBaseline(rows) : await postgresBaseline(opts.postgresUrl!, rows);
    const runs = async () => {
      const ours: number[] = [];
      const copies: number[] = [];
      let fingerprint = '';
      for (let r = 0; r < opts.repeat; r++) {
        ours.push(await seconds(async () => {
          const fp = await clone.session((s) => surfaceFingerprint(s, SURFACE));
          if (fp.tables.surface_rows!.rows !== rows) throw new Error(`fingerprint counted ${fp.tables.surface_rows!.rows} rows`);
          if (fingerprint && fp.hash !== fingerprint) throw new Error('fingerprint changed between runs');
          fingerprint = fp.hash;
          await clone.snapshot();
          await clone.restore();
        }));
        copies.push(await seconds(() => baseline.copyOutAndIn()));
        opts.log(`P5 ${opts.engine}: run ${r + 1}: ours ${ours.at(-1)!.toFixed(2)} s, COPY ${copies.at(-1)!.toFixed(2)} s`);
      }
      return { ours, copies };
    };
    const { ours, copies } = await runs().finally(() => baseline.close());
    const subject = measured('fingerprint + snapshot + restore', ours);
    const base = measured('COPY … TO + COPY … FROM (same rows, same indexes)', copies);
    const ratio = subject.median / base.median;
    return {
      id: `P5-${opts.engine}`,
      title: `Rehearsal fingerprint + restore of a ${rows.toLocaleString('en')}-row surface vs plain COPY out and in (${opts.engine})`,
      goal: 'ratio <= 1.5',
      ratioIs: 'subject seconds / baseline seconds',
      subject,
      baseline: base,
      ratio,
      met: ratio <= 1.5,
      notes: [`snapshot/restore: ${opts.engine === 'pglite' ? 'PGlite dumpDataDir → new instance from the dump' : 'CREATE DATABASE … TEMPLATE (snapshot) / DROP + CREATE … TEMPLATE (restore)'}`],
    };
  } finally {
    await clone.dispose();
  }
}
