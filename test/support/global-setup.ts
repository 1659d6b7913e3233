/**
 * One real Temporal dev server and one workflow bundle for the whole run (DESIGN.md §Testing notes). Test files
 * get the server's address and the bundle's path through vitest's provide/inject.
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Connection } from '@temporalio/client';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../src/server/dev-server';
import { ensureSearchAttributes } from '../../src/server/namespace-setup';

declare module 'vitest' {
  export interface ProvidedContext {
    temporal: { address: string; namespace: string; bundlePath: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = await startDevServer({ log: (m) => process.stderr.write(`[temporal-cli] ${m}\n`) });
  const connection = await Connection.connect({ address: env.address });
  await ensureSearchAttributes(connection, 'default');
  await connection.close();
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bundle-'));
  const bundlePath = join(dir, 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url)),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  writeFileSync(bundlePath, code);
  project.provide('temporal', { address: env.address, namespace: 'default', bundlePath });
  return async () => {
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  };
}
