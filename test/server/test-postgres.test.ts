/**
 * The PostgreSQL server the global setup provides (src/server/test-postgres.ts) is real, lets the test role make
 * scratch databases, and enforces passwords over TCP.
 */
import { describe, expect, inject, it } from 'vitest';
import pg from 'pg';

const postgres = inject('postgres');
const skipped = 'skipped' in postgres ? postgres.skipped : undefined;
/** Whether the setup made the server and its roles (no GL_TEST_PG_URL): only then are the roles' rights known. */
const managed = !('skipped' in postgres) && postgres.adminUrl !== postgres.url;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe.skipIf(skipped !== undefined)(`test PostgreSQL server${skipped ? ` (SKIPPED: ${skipped.split('\n')[0]})` : ''}`, () => {
  const { url, adminUrl, version } = postgres as { url: string; adminUrl: string; version: string };

  it('is a real PostgreSQL server; the test role may create databases but is no superuser', async () => {
    const row = await withClient(url, async (c) => {
      const r = await c.query<{ version: string; server_version: string; rolsuper: boolean; rolcreatedb: boolean }>(
        `SELECT version(), current_setting('server_version') AS server_version, rolsuper, rolcreatedb
           FROM pg_roles WHERE rolname = current_user`,
      );
      return r.rows[0]!;
    });
    expect(row.version).toContain('PostgreSQL');
    expect(row.server_version).toBe(version);
    expect(row.rolcreatedb || row.rolsuper).toBe(true);
    if (!managed) return;
    expect(row.rolsuper).toBe(false);
    const adminIsSuper = await withClient(adminUrl, async (c) => (await c.query<{ s: boolean }>('SELECT rolsuper AS s FROM pg_roles WHERE rolname = current_user')).rows[0]!.s);
    expect(adminIsSuper).toBe(true);
  });

  it('lets the test role create, use and drop a scratch database', async () => {
    const db = `lanes_scratch_${process.pid}_${Date.now()}`;
    await withClient(url, (c) => c.query(`CREATE DATABASE ${db}`));
    try {
      const scratch = new URL(url);
      scratch.pathname = `/${db}`;
      const current = await withClient(scratch.toString(), async (c) => {
        await c.query('CREATE TABLE t (id int PRIMARY KEY)');
        await c.query('INSERT INTO t VALUES (1)');
        return (await c.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
      });
      expect(current).toBe(db);
    } finally {
      await withClient(url, (c) => c.query(`DROP DATABASE ${db}`));
    }
    const left = await withClient(url, (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]));
    expect(left.rowCount).toBe(0);
  });

  it('rejects a wrong password over TCP', async () => {
    const wrong = new URL(url);
    const realPassword = decodeURIComponent(wrong.password);
    wrong.password = 'not-the-password';
    const err = await withClient(wrong.toString(), async () => 'connected').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe('28P01'); // invalid_password
    expect((err as Error).message).toMatch(/password authentication failed/);
    expect((err as Error).message).not.toContain(realPassword);
  });
});
