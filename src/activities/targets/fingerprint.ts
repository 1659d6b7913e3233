/**
 * A logical, deterministic fingerprint of a change's surface (DESIGN.md §Targets and proofs), the same on
 * PGlite and on PostgreSQL for the same data: for each surface table its schema (columns with type, default,
 * nullability, identity and generation; constraints; indexes; triggers) and its rows in a total order; for each
 * surface function its definition. Never dump bytes: PGlite's are not reproducible.
 *
 * Rows are compared as their text, sorted bytewise (`COLLATE "C"`), under fixed output settings (UTC, ISO
 * dates, shortest-exact floats, hex bytea), so neither the engine, its locale nor a client setting changes the
 * hash. Everything is read in one REPEATABLE READ snapshot, so a fingerprint is of one moment.
 */
import { createHash } from 'node:crypto';
import { canonicalize } from '../../domain/canonical-json';
import { inRolledBackTransaction, type TargetSession } from './target';

export interface TableSchema {
  columns: { name: string; type: string; notNull: boolean; default: string | null; identity: string; generated: string }[];
  constraints: { name: string; def: string }[];
  indexes: { name: string; def: string }[];
  triggers: { name: string; def: string }[];
}

export interface TableFingerprint {
  exists: boolean;
  schemaHash?: string;
  rows?: number;
  rowsHash?: string;
  schema?: TableSchema;
}

export interface SurfaceFingerprint {
  /** Schema and rows of every surface object. */
  hash: string;
  /** Schema only: what a production-shaped clone must share with production. */
  schemaHash: string;
  tables: Record<string, TableFingerprint>;
  functions: Record<string, { exists: boolean; definitionHash?: string }>;
}

export interface Surface {
  tables?: string[];
  functions?: string[];
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
export const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

const SETTINGS = `SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres';
SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'`;

async function tableSchema(s: TargetSession, oid: string): Promise<TableSchema> {
  const columns = await s.query<{ name: string; type: string; not_null: boolean; default: string | null; identity: string; generated: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS default, a.attidentity::text AS identity, a.attgenerated::text AS generated
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  // NOT NULL is already a column property; newer engines also list it as a constraint, older ones do not.
  const constraints = await s.query<{ name: string; def: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
     WHERE conrelid = $1::oid AND contype <> 'n' ORDER BY conname COLLATE "C"`,
    [oid],
  );
  const indexes = await s.query<{ name: string; def: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = $1::oid ORDER BY c.relname COLLATE "C"`,
    [oid],
  );
  const triggers = await s.query<{ name: string; def: string }>(
    `SELECT tgname AS name, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1::oid AND NOT tgisinternal ORDER BY tgname COLLATE "C"`,
    [oid],
  );
  return {
    columns: columns.map((c) => ({ name: c.name, type: c.type, notNull: c.not_null, default: c.default, identity: c.identity, generated: c.generated })),
    constraints,
    indexes,
    triggers,
  };
}

async function tableFingerprint(s: TargetSession, table: string, rowsToo: boolean): Promise<TableFingerprint> {
  const [rel] = await s.query<{ oid: string }>(
    `SELECT c.oid::text AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relname = $1 AND c.relkind IN ('r', 'p')`,
    [table],
  );
  if (!rel) return { exists: false };
  const schema = await tableSchema(s, rel.oid);
  if (!rowsToo) return { exists: true, schemaHash: sha(canonicalize(schema)), schema };
  const [rows] = await s.query<{ n: string; h: string }>(
    // Each row's text is computed once (the inner query), then sorted and hashed in the engine: one value comes back.
    `SELECT count(*)::text AS n, encode(sha256(convert_to(coalesce(string_agg(r, E'\\n' ORDER BY r COLLATE "C"), ''), 'UTF8')), 'hex') AS h
     FROM (SELECT x::text AS r FROM public.${quoteIdent(table)} x) rows`,
  );
  return { exists: true, schemaHash: sha(canonicalize(schema)), rows: Number(rows!.n), rowsHash: rows!.h, schema };
}

/** `schemaOnly` skips the rows (and leaves `hash` covering only the schema): for comparing shapes without reading data. */
export async function surfaceFingerprint(s: TargetSession, surface: Surface | undefined, opts: { schemaOnly?: boolean } = {}): Promise<SurfaceFingerprint> {
  return inRolledBackTransaction(s, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async () => {
    await s.exec(SETTINGS);
    const tables: SurfaceFingerprint['tables'] = {};
    for (const t of [...(surface?.tables ?? [])].sort()) tables[t] = await tableFingerprint(s, t, !opts.schemaOnly);
    const functions: SurfaceFingerprint['functions'] = {};
    for (const f of [...(surface?.functions ?? [])].sort()) {
      const defs = await s.query<{ d: string }>(
        `SELECT pg_get_functiondef(p.oid) AS d FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.proname = $1 ORDER BY pg_get_functiondef(p.oid) COLLATE "C"`,
        [f],
      );
      functions[f] = defs.length === 0 ? { exists: false } : { exists: true, definitionHash: sha(defs.map((r) => r.d).join('\n')) };
    }
    const schemaOnly = Object.fromEntries(Object.entries(tables).map(([t, v]) => [t, { exists: v.exists, schemaHash: v.schemaHash ?? null }]));
    return { hash: sha(canonicalize({ tables, functions })), schemaHash: sha(canonicalize({ tables: schemaOnly, functions })), tables, functions };
  });
}

/** Which surface objects differ between two fingerprints, and in what (existence, schema, rows, definition). */
export function fingerprintDiff(a: SurfaceFingerprint, b: SurfaceFingerprint): string[] {
  const diff: string[] = [];
  for (const t of [...new Set([...Object.keys(a.tables), ...Object.keys(b.tables)])].sort()) {
    const [x, y] = [a.tables[t], b.tables[t]];
    if (!x || !y || x.exists !== y.exists) diff.push(`table ${t} (${x?.exists ? 'exists' : 'absent'} → ${y?.exists ? 'exists' : 'absent'})`);
    else if (x.schemaHash !== y.schemaHash) diff.push(`table ${t} (schema)`);
    else if (x.rowsHash !== y.rowsHash) diff.push(`table ${t} (rows: ${x.rows} → ${y.rows}${x.rows === y.rows ? ', contents differ' : ''})`);
  }
  for (const f of [...new Set([...Object.keys(a.functions), ...Object.keys(b.functions)])].sort()) {
    if (canonicalize(a.functions[f] ?? null) !== canonicalize(b.functions[f] ?? null)) diff.push(`function ${f}`);
  }
  return diff;
}
