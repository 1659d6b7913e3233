/**
 * A clone must not be production (DESIGN.md §Targets and proofs). Compared by identity, never by name or URL:
 * two URLs can reach one database, and a byte copy of production looks like production until it is stamped.
 */

/**
 * Who a database is: the server's system identifier where the engine has one (PostgreSQL), the database (name
 * and oid), and the instance id Gated Lanes stamps into databases it creates or clones.
 */
export interface TargetIdentity {
  engine: 'pglite' | 'postgres';
  system: string | null;
  database: string;
  instance: string | null;
}

const describe = (i: TargetIdentity) => [i.engine, i.system && `system ${i.system}`, `database ${i.database}`, i.instance && `instance ${i.instance}`].filter(Boolean).join(', ');

export function isolationProblem(production: TargetIdentity, clone: TargetIdentity): string | undefined {
  const sameInstance = production.instance !== null && production.instance === clone.instance;
  const sameDatabase = production.engine === clone.engine && production.system !== null && production.system === clone.system && production.database === clone.database;
  if (sameInstance || sameDatabase) return `the clone is production (${describe(clone)}); refusing to rehearse on production`;
  const comparable = (production.instance !== null && clone.instance !== null) || (production.system !== null && clone.system !== null);
  if (!comparable) return `neither a system identifier nor an instance id identifies both production (${describe(production)}) and the clone (${describe(clone)}), so isolation cannot be shown`;
  return undefined;
}
