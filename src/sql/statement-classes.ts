/**
 * Which class of statement a top-level statement is, by its parse-tree kind: plain DDL and DML the surface check
 * can follow, or one of the refused classes (findings.ts). Anything not listed is refused as unsupported: a
 * statement kind nobody has looked at is not assumed harmless.
 */
import type { Finding, StatementClass } from './findings';
import { GUARDED_SETTINGS } from './settings';
import type { TreeObject } from './parse-tree';

/** Statements whose effect is what they name: checked against the surface, nothing more. */
const CONTAINED = new Set([
  'SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt',
  'CreateStmt', 'CreateTableAsStmt', 'AlterTableStmt', 'IndexStmt', 'DropStmt', 'RenameStmt', 'CommentStmt', 'TruncateStmt',
  'ViewStmt', 'RefreshMatViewStmt', 'CreateSeqStmt', 'AlterSeqStmt', 'RuleStmt',
  'CreateFunctionStmt', 'AlterFunctionStmt', 'CreateTrigStmt', 'CallStmt',
  'LockStmt', 'ExplainStmt', 'VariableShowStmt', 'ConstraintsSetStmt', 'NotifyStmt',
  'CreateSchemaStmt', 'AlterObjectSchemaStmt',
]);

const CLASS: Record<string, StatementClass> = {
  TransactionStmt: 'transaction',
  DiscardStmt: 'session', PrepareStmt: 'session', ExecuteStmt: 'session', DeallocateStmt: 'session', ListenStmt: 'session', UnlistenStmt: 'session',
  DeclareCursorStmt: 'session', FetchStmt: 'session', ClosePortalStmt: 'session',
  CreateRoleStmt: 'roles', AlterRoleStmt: 'roles', AlterRoleSetStmt: 'roles', DropRoleStmt: 'roles', GrantStmt: 'roles', GrantRoleStmt: 'roles',
  AlterDefaultPrivilegesStmt: 'roles', ReassignOwnedStmt: 'roles', DropOwnedStmt: 'roles', AlterOwnerStmt: 'roles', CreatePolicyStmt: 'roles', AlterPolicyStmt: 'roles',
  CreatedbStmt: 'database', AlterDatabaseStmt: 'database', AlterDatabaseSetStmt: 'database', AlterDatabaseRefreshCollStmt: 'database', DropdbStmt: 'database',
  AlterSystemStmt: 'system', LoadStmt: 'system', CheckPointStmt: 'system', CreateTableSpaceStmt: 'system', DropTableSpaceStmt: 'system',
  AlterTableSpaceOptionsStmt: 'system', AlterTableMoveAllStmt: 'system', CreateEventTrigStmt: 'system', AlterEventTrigStmt: 'system',
  CreateSubscriptionStmt: 'system', AlterSubscriptionStmt: 'system', DropSubscriptionStmt: 'system', CreatePublicationStmt: 'system', AlterPublicationStmt: 'system',
  CreateFdwStmt: 'system', AlterFdwStmt: 'system', CreateForeignServerStmt: 'system', AlterForeignServerStmt: 'system', CreateUserMappingStmt: 'system',
  AlterUserMappingStmt: 'system', DropUserMappingStmt: 'system', ImportForeignSchemaStmt: 'system', CreatePLangStmt: 'system',
  CreateExtensionStmt: 'extensions', AlterExtensionStmt: 'extensions', AlterExtensionContentsStmt: 'extensions',
  DoStmt: 'dynamic-sql',
  VacuumStmt: 'maintenance', ReindexStmt: 'maintenance', ClusterStmt: 'maintenance',
};

/** Kinds whose name is not their SQL. */
const SPELLED: Record<string, string> = { CreatedbStmt: 'CREATE DATABASE', DropdbStmt: 'DROP DATABASE', CheckPointStmt: 'CHECKPOINT', VariableShowStmt: 'SHOW', DoStmt: 'DO' };

/** How a statement kind is written in messages: `AlterRoleStmt` → `ALTER ROLE`. */
const words = (kind: string) => SPELLED[kind] ?? kind.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();

function variableSet(n: TreeObject): Finding[] {
  const name = String(n.name ?? '').toLowerCase();
  if (n.kind === 'VAR_RESET_ALL') return [{ class: 'session', what: 'RESET ALL' }];
  if (name === 'session characteristics' || name === 'transaction' || name === 'transaction snapshot') return [{ class: 'transaction', what: `SET ${name.toUpperCase()}` }];
  if (GUARDED_SETTINGS.has(name)) return [{ class: 'session', what: `${n.kind === 'VAR_RESET' ? 'RESET' : 'SET'} ${name}` }];
  if (n.is_local !== true) return [{ class: 'session', what: `${n.kind === 'VAR_RESET' ? 'RESET' : 'SET'} ${name}`, fix: "use SET LOCAL, which lasts only for the step's transaction; a session setting outlives the step on the connection" }];
  return [];
}

export function classify(kind: string, node: TreeObject): Finding[] {
  if (kind === 'VariableSetStmt') return variableSet(node);
  if (kind === 'CopyStmt') {
    if (node.is_program || typeof node.filename === 'string') return [{ class: 'system', what: node.is_program ? 'COPY … PROGRAM' : 'COPY to or from a server file' }];
    return [{ class: 'unsupported', what: 'COPY … STDIN/STDOUT (a lane has no data stream for it)' }];
  }
  const c = CLASS[kind];
  // BEGIN, COMMIT, SAVEPOINT … are all TransactionStmt: name the one it is.
  if (kind === 'TransactionStmt') return [{ class: 'transaction', what: String(node.kind).replace(/^TRANS_STMT_/, '').replace(/_/g, ' ') }];
  if (c) return [{ class: c, what: words(kind) }];
  if (CONTAINED.has(kind)) return [];
  return [{ class: 'unsupported', what: words(kind) }];
}
