/**
 * Settings a step may not change, even with SET LOCAL: who the session is, whether it may write, how names
 * resolve, how long it may wait, and how string literals are read (which decides where statements end).
 */
export const GUARDED_SETTINGS: ReadonlySet<string> = new Set([
  'role',
  'session_authorization',
  'transaction_read_only',
  'default_transaction_read_only',
  'transaction_isolation',
  'default_transaction_isolation',
  'transaction_deferrable',
  'default_transaction_deferrable',
  'search_path',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'transaction_timeout',
  'standard_conforming_strings',
  'backslash_quote',
  'session_replication_role',
  'row_security',
]);
