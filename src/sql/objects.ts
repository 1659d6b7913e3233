/**
 * Every object a parse tree names, found by walking the whole tree generically (so a relation inside a subquery,
 * a CTE, a trigger's WHEN or a default expression is found like any other) and recognising nodes by shape:
 * a RangeVar has `relname`, a RoleSpec `roletype`, a function call or definition `funcname`, a function
 * reference `objname`. Statements that name objects in plain strings (DROP, COMMENT, RENAME, ALTER … SET SCHEMA,
 * database and schema statements) are read by their object type. A CTE's name is not an object, within the
 * statement that defines it.
 *
 * Calls of built-in functions that escape a step (files, other connections, SQL given as text) and `CASCADE`
 * are reported as findings here too, since they are found in the same walk.
 */
import { DYNAMIC_SQL_FUNCTION, SYSTEM_FUNCTION } from './builtin-functions';
import type { Finding, ObjectKind, TouchedObject } from './findings';
import { isTreeObject, nameList, stringConstant, type TreeObject } from './parse-tree';
import { GUARDED_SETTINGS } from './settings';

export interface Collected {
  objects: TouchedObject[];
  findings: Finding[];
}

const RELATION_TYPES = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_INDEX', 'OBJECT_SEQUENCE', 'OBJECT_FOREIGN_TABLE']);
/** Objects that belong to a relation and are named after it: `[schema.]table.member`. */
const MEMBER_TYPES = new Set(['OBJECT_COLUMN', 'OBJECT_TRIGGER', 'OBJECT_RULE', 'OBJECT_POLICY', 'OBJECT_TABCONSTRAINT']);
/** Named by an ObjectWithArgs node, which the walk finds by shape. */
const FUNCTION_TYPES = new Set(['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE', 'OBJECT_AGGREGATE']);

function qualified(kind: ObjectKind, parts: string[], c: Collected): void {
  if (parts.length === 0) return;
  // A three-part name reaches another database; PostgreSQL refuses it, and so do we, by naming the database.
  if (parts.length > 2) c.objects.push({ kind: 'database', schema: null, name: parts[parts.length - 3]! });
  c.objects.push({ kind, schema: parts.length > 1 ? parts[parts.length - 2]! : null, name: parts[parts.length - 1]! });
}

/** An object named in plain strings, by its object type; unknown types are reported unsupported. */
function namedObject(objtype: unknown, object: unknown, statement: string, c: Collected): void {
  const type = String(objtype);
  const parts = nameList(object);
  if (RELATION_TYPES.has(type)) qualified('relation', parts, c);
  else if (MEMBER_TYPES.has(type)) qualified('relation', parts.slice(0, -1), c);
  else if (FUNCTION_TYPES.has(type)) return; // the ObjectWithArgs node is walked
  else if (type === 'OBJECT_SCHEMA') for (const s of parts) c.objects.push({ kind: 'schema', schema: null, name: s });
  else if (type === 'OBJECT_DATABASE') for (const d of parts) c.objects.push({ kind: 'database', schema: null, name: d });
  else if (type === 'OBJECT_ROLE') for (const r of parts) c.objects.push({ kind: 'role', schema: null, name: r });
  else if (type === 'OBJECT_EXTENSION') c.findings.push({ class: 'extensions', what: `${statement} of extension ${parts.join(', ')}` });
  else c.findings.push({ class: 'unsupported', what: `${statement} of ${type.replace(/^OBJECT_/, '').toLowerCase()} objects` });
}

/** The name a RENAME gives, as an object of the same kind and schema as the one renamed. */
function renamed(n: TreeObject, c: Collected): void {
  const type = String(n.renameType);
  const newname = String(n.newname ?? '');
  const relation = isTreeObject(n.relation) ? n.relation : undefined;
  if (RELATION_TYPES.has(type)) {
    const schema = relation ? ((relation.schemaname as string | undefined) ?? null) : (nameList(n.object).slice(-2, -1)[0] ?? null);
    c.objects.push({ kind: 'relation', schema, name: newname });
  } else if (FUNCTION_TYPES.has(type)) {
    const objname = isTreeObject(n.object) && isTreeObject(n.object.ObjectWithArgs) ? nameList(n.object.ObjectWithArgs.objname) : [];
    c.objects.push({ kind: 'function', schema: objname.length > 1 ? objname[objname.length - 2]! : null, name: newname });
  } else if (type === 'OBJECT_SCHEMA' || type === 'OBJECT_DATABASE' || type === 'OBJECT_ROLE') {
    const kind = type === 'OBJECT_SCHEMA' ? 'schema' : type === 'OBJECT_DATABASE' ? 'database' : 'role';
    for (const name of [String(n.subname ?? ''), newname]) c.objects.push({ kind, schema: null, name });
  } else if (!MEMBER_TYPES.has(type) && type !== 'OBJECT_ATTRIBUTE') {
    c.findings.push({ class: 'unsupported', what: `RENAME of ${type.replace(/^OBJECT_/, '').toLowerCase()} objects` });
  } else if (!relation) namedObject(type, n.object, 'RENAME', c);
}

/** set_config(name, value, is_local) is SET by another name: the same settings are guarded. */
function setConfig(args: unknown, c: Collected): void {
  const [name, , local] = Array.isArray(args) ? args : [];
  const setting = stringConstant(name);
  const isLocal = isTreeObject(local) && isTreeObject(local.A_Const) && isTreeObject(local.A_Const.boolval) && local.A_Const.boolval.boolval === true;
  if (setting === undefined) c.findings.push({ class: 'session', what: 'set_config with a computed setting name' });
  else if (GUARDED_SETTINGS.has(setting.toLowerCase())) c.findings.push({ class: 'session', what: `set_config('${setting}', …)` });
  else if (!isLocal) c.findings.push({ class: 'session', what: `set_config('${setting}', …, false)`, fix: "pass is_local true, which lasts only for the step's transaction" });
}

/** Fields of specific node kinds that name objects in plain strings. */
function byKind(kind: string, n: TreeObject, c: Collected): void {
  switch (kind) {
    case 'DropStmt':
      for (const o of Array.isArray(n.objects) ? n.objects : []) namedObject(n.removeType, o, 'DROP', c);
      break;
    case 'CommentStmt':
      namedObject(n.objtype, n.object, 'COMMENT', c);
      break;
    case 'AlterObjectSchemaStmt':
      if (!n.relation) namedObject(n.objectType, n.object, 'ALTER … SET SCHEMA', c);
      c.objects.push({ kind: 'schema', schema: null, name: String(n.newschema) });
      break;
    case 'AlterOwnerStmt':
      if (!n.relation) namedObject(n.objectType, n.object, 'ALTER … OWNER', c);
      break;
    case 'RenameStmt':
      renamed(n, c);
      break;
    case 'CreateSchemaStmt':
      c.objects.push({ kind: 'schema', schema: null, name: String(n.schemaname ?? '') });
      break;
    case 'CreatedbStmt':
    case 'DropdbStmt':
    case 'AlterDatabaseStmt':
    case 'AlterDatabaseSetStmt':
    case 'AlterDatabaseRefreshCollStmt':
      c.objects.push({ kind: 'database', schema: null, name: String(n.dbname ?? '') });
      break;
    case 'CreateRoleStmt':
      c.objects.push({ kind: 'role', schema: null, name: String(n.role ?? '') });
      break;
    case 'A_Expr': {
      // A schema-qualified operator is a function call by another name; pg_catalog's are built in.
      const op = nameList(n.name);
      if (op.length > 1 && op[0] !== 'pg_catalog') c.objects.push({ kind: 'function', schema: op[0]!, name: `OPERATOR(${op.join('.')})` });
      break;
    }
    case 'FuncCall':
      if (nameList(n.funcname).at(-1) === 'set_config') setConfig(n.args, c);
      break;
  }
}

/** Shape-recognised nodes, wrapped or bare (InsertStmt.relation is a bare RangeVar, for instance). */
function byShape(o: TreeObject, ctes: ReadonlySet<string>, c: Collected): void {
  if (typeof o.relname === 'string') {
    const schema = typeof o.schemaname === 'string' ? o.schemaname : null;
    if (typeof o.catalogname === 'string') c.objects.push({ kind: 'database', schema: null, name: o.catalogname });
    if (!(schema === null && ctes.has(o.relname))) c.objects.push({ kind: 'relation', schema, name: o.relname });
  }
  if (typeof o.roletype === 'string') {
    const name = o.roletype === 'ROLESPEC_CSTRING' ? String(o.rolename) : o.roletype.replace(/^ROLESPEC_/, '');
    c.objects.push({ kind: 'role', schema: null, name });
  }
  for (const field of ['funcname', 'objname'] as const) {
    if (!Array.isArray(o[field])) continue;
    const parts = nameList(o[field]);
    qualified('function', parts, c);
    const name = parts[parts.length - 1] ?? '';
    if (SYSTEM_FUNCTION.test(name)) c.findings.push({ class: 'system', what: `function ${parts.join('.')}` });
    else if (DYNAMIC_SQL_FUNCTION.test(name)) c.findings.push({ class: 'dynamic-sql', what: `function ${parts.join('.')} (runs SQL or reads relations given as text)` });
  }
  if (o.behavior === 'DROP_CASCADE') c.findings.push({ class: 'cascade', what: 'CASCADE' });
}

function cteNames(o: TreeObject): string[] {
  const w = isTreeObject(o.withClause) ? o.withClause : undefined;
  if (!w || !Array.isArray(w.ctes)) return [];
  return w.ctes.flatMap((cte) => (isTreeObject(cte) && isTreeObject(cte.CommonTableExpr) ? [String(cte.CommonTableExpr.ctename)] : []));
}

function walk(v: unknown, ctes: ReadonlySet<string>, c: Collected): void {
  if (Array.isArray(v)) {
    for (const x of v) walk(x, ctes, c);
    return;
  }
  if (!isTreeObject(v)) return;
  const defined = cteNames(v);
  const scope = defined.length > 0 ? new Set([...ctes, ...defined]) : ctes;
  byShape(v, scope, c);
  for (const [key, value] of Object.entries(v)) {
    // Node kinds are the capitalised keys (`{ DropStmt: {…} }`); fields are lower case.
    if (/^[A-Z]/.test(key) && isTreeObject(value)) byKind(key, value, c);
    walk(value, scope, c);
  }
}

/** The objects and escape findings of one statement's tree (`kind` and its `node`). */
export function collectObjects(kind: string, node: TreeObject): Collected {
  const c: Collected = { objects: [], findings: [] };
  walk({ [kind]: node }, new Set(), c);
  return c;
}
