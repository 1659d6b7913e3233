/**
 * A real PostgreSQL server through `pg`. Production is reached by a URL the worker reads from an environment
 * variable the change spec names (never from the spec or history); clones are scratch databases created on a
 * clone server the spec names the same way, filled by pg_dump | pg_restore for a production-shaped rehearsal.
 * Identity = the server's system identifier + database (name:oid) + Gated Lanes' instance id, if stamped.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { dumpAndLoad, redactUrl } from './pg-tools';
import { instanceOf, stampInstance, type CloneProvenance, type CloneTarget, type Target, type TargetIdentity, type TargetSession } from './target';

const pools = new Map<string, pg.Pool>();

function sessionOf(client: pg.ClientBase): TargetSession {
  return {
    query: async <R>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as R[],
    exec: async (sql: string) => void (await client.query(sql)),
    // Without parameters node-postgres would use the simple protocol, which runs every statement of a text.
    // (`queryMode` is node-postgres's, missing from @types/pg 8.23.)
    statement: async <R>(sql: string) => (await client.query({ text: sql, queryMode: 'extended' } as pg.QueryConfig)).rows as R[],
  };
}

async function identityOf(s: TargetSession): Promise<TargetIdentity> {
  // pg_control_system() may be denied to an unprivileged role: then the instance id has to carry isolation.
  const system = await s.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()').then((r) => r[0]?.id ?? null, () => null);
  const [db] = await s.query<{ d: string }>("SELECT current_database() || ':' || oid AS d FROM pg_database WHERE datname = current_database()");
  return { engine: 'postgres', system, database: db!.d, instance: await instanceOf(s) };
}

/** One connection to `url` for the length of `fn`. */
export async function postgresSession<T>(url: string, fn: (s: TargetSession) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(sessionOf(client));
  } finally {
    await client.end();
  }
}

function pooledTarget(url: string): Target {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on('error', () => undefined); // an idle client's error surfaces on its next use
    pools.set(url, pool);
  }
  const p = pool;
  const session = async <T>(fn: (s: TargetSession) => Promise<T>) => {
    const client = await p.connect();
    try {
      return await fn(sessionOf(client));
    } finally {
      client.release();
    }
  };
  return { engine: 'postgres', label: redactUrl(url), session, identity: () => session(identityOf) };
}

export function postgresProduction(url: string): Target & { url: string } {
  return { ...pooledTarget(url), url };
}

/** `url` pointed at another database on the same server. */
export const urlForDatabase = (url: string, db: string) => {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
};

/**
 * A scratch database on the clone server: empty, or pg_dump'ed from `source`. Snapshots are template copies
 * (`CREATE DATABASE … TEMPLATE`), the server's own whole-database copy; dispose drops both.
 */
export async function postgresClone(adminUrl: string, source?: Target & { url: string }): Promise<CloneTarget> {
  const name = `gl_clone_${randomBytes(8).toString('hex')}`;
  const snap = `${name}_snap`;
  const admin = (sql: string) => postgresSession(adminUrl, (s) => s.exec(sql));
  await admin(`CREATE DATABASE ${name}`);
  const url = urlForDatabase(adminUrl, name);
  let provenance: CloneProvenance;
  try {
    if (source) await dumpAndLoad(source.url, url);
    await postgresSession(url, (s) => stampInstance(s, randomUUID()));
    provenance = {
      kind: source ? 'production-shaped' : 'empty',
      method: source ? 'pg_dump --format=custom | pg_restore --no-owner --no-privileges' : 'CREATE DATABASE (empty)',
      source: source?.label ?? null,
      sourceIdentity: source ? await source.identity() : null,
      createdAt: new Date().toISOString(),
    };
  } catch (err) {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    throw err;
  }
  let snapshotTaken = false;
  return {
    engine: 'postgres',
    label: redactUrl(url),
    provenance,
    session: (fn) => postgresSession(url, fn),
    identity: () => postgresSession(url, identityOf),
    snapshot: async () => {
      await admin(`DROP DATABASE IF EXISTS ${snap}`);
      await admin(`CREATE DATABASE ${snap} TEMPLATE ${name}`);
      snapshotTaken = true;
    },
    restore: async () => {
      if (!snapshotTaken) throw new Error('restore before any snapshot');
      await admin(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin(`CREATE DATABASE ${name} TEMPLATE ${snap}`);
    },
    dispose: async () => {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin(`DROP DATABASE IF EXISTS ${snap} WITH (FORCE)`);
    },
  };
}

export async function closePostgresTargets(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.end().catch(() => undefined)));
}
