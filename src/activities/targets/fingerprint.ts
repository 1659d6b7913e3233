/**
 * A logical, deterministic fingerprint of a change's surface: for each surface table, whether it exists, its
 * columns (name, type, default, nullability) and its rows in a total order; for each surface function, its
 * definition. Never dump bytes: PGlite's are not reproducible (DESIGN.md §Targets and proofs).
 * The Targets issue extends this to constraints and indexes.
 */
import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { canonicalize } from '../../domain/canonical-json';

export interface SurfaceFingerprint {
  hash: string;
  tables: Record<string, { exists: boolean; columnsHash?: string; rows?: number; rowsHash?: string }>;
  functions: Record<string, { exists: boolean; definitionHash?: string }>;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

export async function surfaceFingerprint(db: PGlite, surface: { tables?: string[]; functions?: string[] } | undefined): Promise<SurfaceFingerprint> {
  const tables: SurfaceFingerprint['tables'] = {};
  for (const t of [...(surface?.tables ?? [])].sort()) {
    const cols = await db.query<{ column_name: string; data_type: string; column_default: string | null; is_nullable: string }>(
      `SELECT column_name, data_type, column_default, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
      [t],
    );
    if (cols.rows.length === 0) {
      tables[t] = { exists: false };
      continue;
    }
    // A total order independent of physical layout: the rows' JSON text, compared bytewise.
    const rows = await db.query<{ r: string }>(`SELECT row_to_json(x)::text AS r FROM public.${quoteIdent(t)} x ORDER BY row_to_json(x)::text COLLATE "C"`);
    tables[t] = {
      exists: true,
      columnsHash: sha(canonicalize(cols.rows)),
      rows: rows.rows.length,
      rowsHash: sha(rows.rows.map((r) => r.r).join('\n')),
    };
  }
  const functions: SurfaceFingerprint['functions'] = {};
  for (const f of [...(surface?.functions ?? [])].sort()) {
    const defs = await db.query<{ d: string }>(
      `SELECT pg_get_functiondef(p.oid) AS d FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'public' AND p.proname = $1 ORDER BY 1`,
      [f],
    );
    functions[f] = defs.rows.length === 0 ? { exists: false } : { exists: true, definitionHash: sha(defs.rows.map((r) => r.d).join('\n')) };
  }
  return { hash: sha(canonicalize({ tables, functions })), tables, functions };
}

/** Which surface objects differ between two fingerprints. */
export function fingerprintDiff(a: SurfaceFingerprint, b: SurfaceFingerprint): string[] {
  const diff: string[] = [];
  for (const t of new Set([...Object.keys(a.tables), ...Object.keys(b.tables)])) {
    if (canonicalize(a.tables[t] ?? null) !== canonicalize(b.tables[t] ?? null)) diff.push(`table ${t}`);
  }
  for (const f of new Set([...Object.keys(a.functions), ...Object.keys(b.functions)])) {
    if (canonicalize(a.functions[f] ?? null) !== canonicalize(b.functions[f] ?? null)) diff.push(`function ${f}`);
  }
  return diff;
}
