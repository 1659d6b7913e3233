/**
 * What the SQL analysis reports: the objects a statement touches, and the classes of statement it is, each with
 * why a lane refuses it and how to fix that. The classes that name an exception in SQL_ALLOWANCES can be allowed
 * by the spec's `surface.allow`; the others never are.
 */
import type { SqlAllowance } from '../domain/change-spec';

export type ObjectKind = 'relation' | 'function' | 'schema' | 'role' | 'database';

/** One database object a statement names. `schema` is null when the SQL leaves it to the search path. */
export interface TouchedObject {
  kind: ObjectKind;
  schema: string | null;
  name: string;
}

/** Statement classes no spec can allow. */
export type NeverAllowed = 'transaction' | 'session' | 'system' | 'cascade' | 'unsupported' | 'unparseable';

export type StatementClass = NeverAllowed | SqlAllowance;

export interface Finding {
  class: StatementClass;
  /** What in the statement puts it in that class, e.g. "COMMIT", "EXECUTE in a PL/pgSQL body". */
  what: string;
  /** A fix more precise than the class's own, when the finding knows one. */
  fix?: string;
}

/** How a class is named in messages: "COMMIT is transaction control". */
export const CLASS_LABEL: Record<StatementClass, string> = {
  transaction: 'transaction control',
  session: 'session state',
  system: 'a server-level operation',
  cascade: 'a cascade to objects the step does not name',
  unsupported: 'not supported in a step',
  unparseable: 'not parseable',
  'dynamic-sql': 'dynamic SQL (what it runs cannot be read from the step)',
  roles: 'a role or privilege statement',
  database: 'a database-level statement',
  extensions: 'an extension statement',
  maintenance: 'a maintenance statement',
};

const FIX: Record<NeverAllowed, string> = {
  transaction: 'remove it: a lane runs each step inside a transaction of its own (dry-run: BEGIN READ ONLY), and transaction control in the step would end or change that transaction',
  session: 'remove it: the lane sets who runs the step, whether it may write, how names resolve, its timeouts and how strings are read, and session state would outlive the step on the connection',
  system: 'remove it: server-level statements and functions (files, programs, other connections, other sessions, configuration) are never run by a lane',
  cascade: 'drop the dependent objects explicitly: CASCADE reaches objects the step does not name',
  unsupported: 'this kind of statement is not analysed, so a lane refuses it; run it outside Gated Lanes or express the change with other statements',
  unparseable: "fix the SQL: PostgreSQL's parser refuses it",
};

/** How to fix a finding of class `c`. */
export function fixFor(c: StatementClass, precise?: string): string {
  if (precise) return precise;
  if (c in FIX) return FIX[c as NeverAllowed];
  return `add "${c}" to surface.allow (an exception the owner signs with the spec), or change the SQL`;
}

/** How an object is written in messages: schema-qualified when the SQL qualified it. */
export function objectName(o: TouchedObject): string {
  return o.schema ? `${o.schema}.${o.name}` : o.name;
}
