/**
 * Production targets for tests, on either engine: a fresh PGlite production under a temporary lanes home, or a
 * fresh database on the test PostgreSQL server (test/support/global-setup.ts), reached through an environment
 * variable as a worker would. Each call makes a new one, so tests never share production.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { postgresSession, urlForDatabase } from '../../src/activities/targets/postgres';
import type { ChangeSpec } from '../../src/domain/change-spec';
import { openProduction } from '../../src/activities/targets/open';
import { placeOf, type WorkerPlace } from '../../src/activities/worker-place';

export type Engine = 'pglite' | 'postgres';

const postgres = inject('postgres');
export const postgresSkipped = 'skipped' in postgres ? postgres.skipped : undefined;
export const ENGINES: Engine[] = postgresSkipped ? ['pglite'] : ['pglite', 'postgres'];

const adminExec = (sql: string) => postgresSession((postgres as { url: string }).url, (s) => s.exec(sql));

/**
 * Fresh databases on the suite's PostgreSQL server, each reached by its own URL (as LANES_EVIDENCE_URL names a shared
 * evidence store's); `dropAll` removes every one this made.
 */
export function scratchDatabases(prefix: string): { create(): Promise<string>; dropAll(): Promise<void> } {
  const made: string[] = [];
  return {
    async create() {
      const db = `${prefix}_${randomBytes(5).toString('hex')}`;
      await adminExec(`CREATE DATABASE ${db}`);
      made.push(db);
      return urlForDatabase((postgres as { url: string }).url, db);
    },
    async dropAll() {
      for (const db of made.splice(0)) await adminExec(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    },
  };
}

export interface TestProduction {
  lanesHome: string;
  /** A single-host worker's place in that home, for calling lane activities directly. */
  place: WorkerPlace;
  /** The change, with `targets` pointing at this production (and, for postgres, a clone server). */
  change: ChangeSpec;
  /** The URL of a postgres production (what the worker's environment holds); undefined for PGlite. */
  url?: string;
  drop(): Promise<void>;
}

/** A new, empty production for `base` on `engine`, seeded with `seedSql`. */
export async function makeProduction(engine: Engine, base: ChangeSpec, seedSql?: string): Promise<TestProduction> {
  const lanesHome = mkdtempSync(join(tmpdir(), 'lanes-targets-'));
  const tag = randomBytes(5).toString('hex');
  let result: TestProduction;
  if (engine === 'pglite') {
    result = { lanesHome, place: placeOf({ lanesHome }), change: { ...base, targets: { production: { engine: 'pglite', name: `prod-${tag}` } } }, drop: async () => undefined };
  } else {
    const { url } = postgres as { url: string };
    const db = `gl_test_prod_${tag}`;
    await adminExec(`CREATE DATABASE ${db}`);
    const prodUrl = urlForDatabase(url, db);
    const prodEnv = `GL_TEST_PROD_URL_${tag.toUpperCase()}`;
    process.env[prodEnv] = prodUrl;
    process.env.GL_TEST_CLONE_URL = url;
    result = {
      lanesHome,
      place: placeOf({ lanesHome }),
      url: prodUrl,
      // The suite has one PostgreSQL server, so clones share production's cluster, declared as the spec must
      // (test/sql/isolation.test.ts shows the same clone refused without the declaration).
      change: { ...base, targets: { production: { engine: 'postgres', urlEnv: prodEnv }, clone: { engine: 'postgres', urlEnv: 'GL_TEST_CLONE_URL', sameClusterAsProduction: true } } },
      drop: () => adminExec(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`),
    };
  }
  if (seedSql) await (await openProduction(lanesHome, result.change)).session((s) => s.exec(seedSql));
  return result;
}

export { REGISTRY_SEED, REGISTRY_SURFACE } from './registry-fixture';
