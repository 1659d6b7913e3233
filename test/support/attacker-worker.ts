/**
 * An attacker's own worker: workflows of the attacker's choosing (a file under test/security), bundled and run on a
 * queue of its own against the suite's real server, as any namespace writer could run them.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';

export interface AttackerWorker {
  queue: string;
  stop(): Promise<void>;
}

export async function startAttackerWorker(workflowsPath: string): Promise<AttackerWorker> {
  const queue = `attacker-${randomUUID()}`;
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
  const connection = await NativeConnection.connect({ address: inject('temporal').address });
  const worker = await Worker.create({ connection, namespace: 'default', taskQueue: queue, workflowBundle: { code } });
  const running = worker.run();
  return {
    queue,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
