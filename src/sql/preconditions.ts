/**
 * An armed step's preconditions are run on production by the production worker right before the step applies, so
 * they must only read: each is one plain SELECT, read with PostgreSQL's own parser — no locking clause, no
 * data-modifying WITH, no refused class (system or dynamic-SQL functions, session or transaction control), only
 * built-in or surface functions, and only relations of the surface or of the system catalog (pg_stat_activity,
 * pg_locks, pg_stat_replication … are what such checks read). The worker also runs them in a READ ONLY transaction;
 * this check is what keeps a function with side effects that a read-only transaction allows out of them.
 */
import type { ChangeSpec } from '../domain/change-spec';
import { analyzeSqlLoaded } from './analyze';
import { CLASS_LABEL, objectName } from './findings';
import { SqlSyntaxError } from './parser';
import { outsideSurface } from './surface';

const MODIFYING = /"(InsertStmt|UpdateStmt|DeleteStmt|MergeStmt)"/;

/** A catalog relation: pg_catalog's, or an unqualified pg_* name (pg_catalog comes first on every search path). */
const catalogRelation = (schema: string | null, name: string) => schema === 'pg_catalog' || (schema === null && name.startsWith('pg_'));

/**
 * Catalog relations holding secrets: a failing precondition's result is written into the lane's history, so these are
 * never read by one (password hashes, user-mapping options).
 */
const SECRET_CATALOG = /^(pg_authid|pg_shadow|pg_user_mapping|pg_user_mappings)$/;

/**
 * Built-in functions with effects a READ ONLY transaction does not stop or undo (sequences, notifications, sleeping on
 * the connection): a precondition is a read, made again every few seconds while armed.
 */
const EFFECTFUL_FUNCTION = /^(nextval|setval|currval|lastval|pg_notify|pg_sleep.*|set_config|txid_current|pg_current_xact_id|pg_current_snapshot)$/;

/** Why one precondition's SQL is not a plain read; empty when it is. The parser must be loaded. */
export function preconditionProblems(sql: string, surface: ChangeSpec['surface']): string[] {
  let analysed;
  try {
    analysed = analyzeSqlLoaded(sql);
  } catch (err) {
    if (!(err instanceof SqlSyntaxError)) throw err;
    return [`PostgreSQL's parser refuses it: ${err.message}`];
  }
  if (analysed.length !== 1) return [`is ${analysed.length} statements; a precondition is exactly one SELECT`];
  const [a] = analysed;
  const { statement } = a!;
  if (statement.kind !== 'SelectStmt') return [`is a ${statement.kind.replace(/Stmt$/, '').toUpperCase()} statement; a precondition is one SELECT that only reads`];
  const out: string[] = [];
  const tree = JSON.stringify(statement.node);
  if (tree.includes('"lockingClause"')) out.push('takes row locks (FOR UPDATE/SHARE); a precondition only reads');
  if (MODIFYING.test(tree)) out.push('modifies data in a WITH clause; a precondition only reads');
  for (const f of a!.findings) out.push(`${f.what} (${CLASS_LABEL[f.class]}); a precondition only reads`);
  for (const o of a!.objects) {
    if (o.kind === 'relation' && SECRET_CATALOG.test(o.name)) {
      out.push(`reads ${objectName(o)}, which holds secrets; a precondition's result is kept in the lane's history`);
      continue;
    }
    if (o.kind === 'function' && EFFECTFUL_FUNCTION.test(o.name)) {
      out.push(`calls ${objectName(o)}, which has effects a read-only transaction does not stop; a precondition only reads`);
      continue;
    }
    if (o.kind === 'relation' && catalogRelation(o.schema, o.name)) continue;
    const outside = outsideSurface(o, surface);
    if (outside) out.push(`${outside.what}; a precondition reads the surface or the system catalog (${objectName(o)})`);
    else if (o.kind !== 'relation' && o.kind !== 'function') out.push(`names ${o.kind} ${objectName(o)}; a precondition only reads`);
  }
  return [...new Set(out)];
}
