/**
 * A clone must not be production (DESIGN.md §Targets and proofs). Compared by identity, never by name or URL:
 * two URLs can reach one database, and a byte copy of production looks like production until it is stamped.
 *
 * A clone in another database of production's own cluster is not isolated either: roles, databases and server
 * settings belong to the cluster, so a rehearsed `ALTER ROLE app NOLOGIN` would change production's server. A
 * PostgreSQL clone must therefore be on another cluster (the system identifiers differ), unless the spec declares
 * `targets.clone.sameClusterAsProduction` — and even then not for a change whose surface allows role or database
 * statements. A PGlite clone is an in-memory instance of its own: it shares no server with production.
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

/** Which isolation was shown, for the rehearsal's evidence. */
export type IsolationKind = 'other-cluster' | 'same-cluster-declared' | 'separate-pglite-instance';

export interface IsolationOptions {
  /** The spec's `targets.clone.sameClusterAsProduction`. */
  sameClusterDeclared?: boolean;
  /** The spec's `surface.allow`: exceptions whose statements reach the whole cluster must not share it. */
  allow?: readonly string[];
}

export type IsolationCheck = { ok: true; kind: IsolationKind; detail: string } | { ok: false; problem: string };

const describe = (i: TargetIdentity) => [i.engine, i.system && `system ${i.system}`, `database ${i.database}`, i.instance && `instance ${i.instance}`].filter(Boolean).join(', ');

const CLUSTER_WIDE = ['roles', 'database'];

export function checkIsolation(production: TargetIdentity, clone: TargetIdentity, opts: IsolationOptions = {}): IsolationCheck {
  const sameInstance = production.instance !== null && production.instance === clone.instance;
  const sameDatabase = production.engine === clone.engine && production.system !== null && production.system === clone.system && production.database === clone.database;
  if (sameInstance || sameDatabase) return { ok: false, problem: `the clone is production (${describe(clone)}); refusing to rehearse on production` };
  if (production.engine === 'pglite' && clone.engine === 'pglite') {
    if (production.instance === null || clone.instance === null) return { ok: false, problem: `a PGlite database without an instance id (production: ${describe(production)}; clone: ${describe(clone)}) cannot be told apart, so isolation cannot be shown` };
    return { ok: true, kind: 'separate-pglite-instance', detail: `the clone is a PGlite instance in memory (instance ${clone.instance}), not production's (instance ${production.instance}); PGlite has no server for them to share` };
  }
  if (production.system !== null && clone.system !== null && production.system !== clone.system) {
    return { ok: true, kind: 'other-cluster', detail: `the clone's cluster (system ${clone.system}) is not production's (system ${production.system})` };
  }
  const why =
    production.system === null || clone.system === null
      ? `the system identifier of ${production.system === null ? 'production' : 'the clone'} cannot be read (pg_control_system() needs a privileged role), so another cluster cannot be shown`
      : `the clone is on production's own cluster (system ${clone.system}): roles, databases and server settings are shared, so a step rehearsed there could change production's server`;
  if (!opts.sameClusterDeclared) {
    return { ok: false, problem: `${why}; point targets.clone at another PostgreSQL server, or declare targets.clone.sameClusterAsProduction: true in the spec` };
  }
  const wide = (opts.allow ?? []).filter((a) => CLUSTER_WIDE.includes(a));
  if (wide.length > 0) {
    return { ok: false, problem: `${why}, and surface.allow lets steps run ${wide.join(' and ')} statements, which act on the whole cluster; rehearse this change on another server` };
  }
  const instances = production.instance !== null && clone.instance !== null;
  if (!instances && production.system === null) return { ok: false, problem: `neither a system identifier nor an instance id identifies both production (${describe(production)}) and the clone (${describe(clone)}), so isolation cannot be shown` };
  return { ok: true, kind: 'same-cluster-declared', detail: `${why.split(':')[0]}; the spec declares targets.clone.sameClusterAsProduction, and the clone is another database (${clone.database}, not ${production.database})` };
}

/** Why the clone is not isolated from production, or undefined when it is. */
export function isolationProblem(production: TargetIdentity, clone: TargetIdentity, opts: IsolationOptions = {}): string | undefined {
  const c = checkIsolation(production, clone, opts);
  return c.ok ? undefined : c.problem;
}
