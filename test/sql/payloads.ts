/** Issue 12's payloads, shared by the containment tests (parser only) and the attack tests (both engines). */

/** The payloads of issue 12, each with what the refusal must name. */
export const ISSUE_PAYLOADS: { name: string; sql: string; reason: RegExp }[] = [
  {
    name: 'non-ASCII dollar tag hiding COMMIT; DELETE',
    sql: "SELECT $é$'$é$; COMMIT; DELETE FROM/**/users; COMMIT; BEGIN READ ONLY; SAVEPOINT explain; SAVEPOINT step; SELECT $é$'$é$",
    reason: /statement 2 `COMMIT`: COMMIT \(transaction control\)/,
  },
  { name: 'DELETE FROM/**/users', sql: 'DELETE FROM/**/users', reason: /relation users is outside the declared surface; add it to surface\.tables/ },
  { name: 'TRUNCATE users', sql: 'TRUNCATE users', reason: /relation users is outside the declared surface/ },
  { name: 'DROP SCHEMA x CASCADE', sql: 'DROP SCHEMA x CASCADE', reason: /schema x is outside the declared surface/ },
  { name: 'DO block with EXECUTE', sql: "DO $$ BEGIN EXECUTE 'DROP TABLE ' || 'users'; END $$", reason: /EXECUTE of SQL text in a PL\/pgSQL body \(dynamic SQL/ },
  { name: 'ALTER ROLE app SUPERUSER', sql: 'ALTER ROLE app SUPERUSER', reason: /ALTER ROLE \(a role or privilege statement\); add "roles" to surface\.allow/ },
  { name: 'ALTER ROLE … NOLOGIN; ALTER DATABASE … CONNECTION LIMIT 0', sql: 'ALTER ROLE app NOLOGIN; ALTER DATABASE prod CONNECTION LIMIT 0', reason: /statement 2 `ALTER DATABASE prod CONNECTION LIMIT 0`: ALTER DATABASE \(a database-level statement\)/ },
];
