/**
 * One real Temporal dev server, one workflow bundle and one real PostgreSQL server for the whole run (DESIGN.md
 * §Testing notes). The compiled build (dist/) is brought up to date first: the CLI tests spawn bin/lanes.js, which
 * runs it, and the run's workflow bundle is the prebuilt dist/workflow-bundle.js (rebuilt only when the workflow
 * sources changed), copied so a rebuild during the run cannot change it under a worker. Test files get the servers' addresses and the bundle's path through vitest's provide/inject.
 * PostgreSQL starts alongside Temporal; when it cannot be started the Postgres suite is skipped, loudly.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../src/server/dev-server';
import { ensureSearchAttributes } from '../../src/server/namespace-setup';
import { startTestPostgres, type TestPostgres } from '../../src/server/test-postgres';
import { ensureBuild, WORKFLOW_BUNDLE } from '../../scripts/build.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    temporal: { address: string; namespace: string; bundlePath: string };
    /** `skipped` says why there is no server; tests skip with that reason. */
    postgres: { url: string; adminUrl: string; version: string } | { skipped: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const postgresStarting = startTestPostgres({ log: (m) => process.stderr.write(`[postgres] ${m}\n`) }).then(
    (server): TestPostgres | { skipped: string } => server,
    (err: unknown) => ({ skipped: err instanceof Error ? err.message : String(err) }),
  );
  let env: Awaited<ReturnType<typeof startDevServer>> | undefined;
  let dir: string | undefined;
  try {
    env = await startDevServer({ log: (m) => process.stderr.write(`[temporal-cli] ${m}\n`) });
    const connection = await Connection.connect({ address: env.address });
    await ensureSearchAttributes(connection, 'default');
    await connection.close();
    dir = mkdtempSync(join(tmpdir(), 'lanes-bundle-'));
    const bundlePath = join(dir, 'workflow-bundle.js');
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    await ensureBuild(repo);
    copyFileSync(join(repo, WORKFLOW_BUNDLE), bundlePath);
    project.provide('temporal', { address: env.address, namespace: 'default', bundlePath });
  } catch (err) {
    const postgres = await postgresStarting;
    await Promise.allSettled([env?.teardown(), 'teardown' in postgres ? postgres.teardown() : undefined]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const postgres = await postgresStarting;
  if ('skipped' in postgres) {
    const bar = '!'.repeat(100);
    process.stderr.write(
      `\n${bar}\n` +
        `POSTGRES SUITE SKIPPED: ${postgres.skipped}\n\n` +
        'Every test that needs a real PostgreSQL server is skipped in this run.\n' +
        'Fix the cause above, or set GL_TEST_PG_URL to a server you run yourself.\n' +
        `${bar}\n\n`,
    );
    project.provide('postgres', { skipped: postgres.skipped });
  } else {
    project.provide('postgres', { url: postgres.url, adminUrl: postgres.adminUrl, version: postgres.version });
  }
  const temporal = env;
  const bundleDir = dir;
  return async () => {
    await Promise.all([temporal.teardown(), 'teardown' in postgres ? postgres.teardown() : undefined]);
    rmSync(bundleDir, { recursive: true, force: true });
  };
}
