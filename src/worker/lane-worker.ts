/**
 * Builds the worker that runs lane workflows and their (non-production) activities. The production task queue
 * and its verifying interceptor arrive with the Lane-engine issue (DESIGN.md §The gate).
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createLaneActivities, type ActivityConfig } from '../activities';

export interface LaneWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ActivityConfig;
  /** A pre-built bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export async function createLaneWorker(opts: LaneWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createLaneActivities(opts.activities),
  });
}
