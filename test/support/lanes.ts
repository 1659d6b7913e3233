/**
 * Test support: real keys, a real trust root file, a real worker on a unique task queue, and history reading.
 * Nothing here stands in for the system under test. The vitest-free helpers live in lane-helpers.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createLaneWorkers } from '../../src/worker/lane-worker';
import { makeKeys, quietRuntime, type Harness, type Keys } from './lane-helpers';

export * from './lane-helpers';

/** Clients and workers for the run's dev server, or for `opts.address` (a server a test started itself). */
export async function harness(opts: { address?: string } = {}): Promise<Harness> {
  quietRuntime();
  const { namespace, bundlePath } = inject('temporal');
  const address = opts.address ?? inject('temporal').address;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  const taskQueue = `test-${randomUUID()}`;
  const lanesHome = mkdtempSync(join(tmpdir(), 'lanes-home-'));
  const native: NativeConnection[] = [];
  return {
    client,
    address,
    taskQueue,
    lanesHome,
    async startWorker(trustRootPath, home = {}) {
      const nc = await NativeConnection.connect({ address });
      native.push(nc);
      const workers = await createLaneWorkers({
        connection: nc,
        namespace,
        taskQueue,
        activities: { trustRootPath, lanesHome, ...home },
        workflowBundle: { codePath: bundlePath },
      });
      const running = workers.run();
      return {
        worker: workers.lane,
        async stop() {
          workers.shutdown();
          await running;
        },
      };
    },
    async close() {
      for (const nc of native) await nc.close();
      await connection.close();
    },
  };
}

export interface LaneSuite {
  h: Harness;
  keys: Keys;
  /** Stops the suite's worker (to test what happens while none runs). */
  stopWorker(): Promise<void>;
  /** Starts a fresh worker, by default on the suite's trust root. */
  startWorker(trustRootPath?: string): Promise<void>;
}

/** One harness, key set and running worker for a test file, torn down after it. */
export function useLaneSuite(): LaneSuite {
  let stop: (() => Promise<void>) | undefined;
  const suite = {
    async stopWorker() {
      await stop?.();
      stop = undefined;
    },
    async startWorker(trustRootPath?: string) {
      await suite.stopWorker();
      stop = (await suite.h.startWorker(trustRootPath ?? suite.keys.trustRootPath)).stop;
    },
  } as LaneSuite;
  beforeAll(async () => {
    suite.h = await harness();
    suite.keys = makeKeys();
    await suite.startWorker();
  });
  afterAll(async () => {
    await suite.stopWorker();
    await suite.h?.close();
  });
  return suite;
}

