/**
 * The worker for the production task queue: production-mutating activities only, no workflows, every call
 * checked by ProductionGrantInterceptor before its body runs.
 */
import { KeepAliveInterceptor } from './keep-alive';
import { maxConcurrentActivities } from './lane-worker';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createProductionActivities } from '../activities/production';
import { productionTaskQueue } from '../domain/task-queues';
import { ProductionGrantInterceptor } from './production-interceptor';
import { PointOfAction } from './point-of-action';
import { runSignalsFrom, workflowSignalsFrom } from './run-signals';
import type { WorkerHome } from './config';

export interface ProductionWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The lane task queue; production work runs on its `-production` sibling. */
  laneTaskQueue: string;
  trustRootPath: string | undefined;
  /** LANES_HOME, and the shared evidence store in a cluster. */
  home: WorkerHome;
}

export async function createProductionWorker(opts: ProductionWorkerOptions): Promise<Worker> {
  const pointOfAction = new PointOfAction(opts.trustRootPath, opts.home, runSignalsFrom(opts.connection, opts.namespace), workflowSignalsFrom(opts.connection, opts.namespace));
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: productionTaskQueue(opts.laneTaskQueue),
    activities: createProductionActivities(opts.home),
    maxConcurrentActivityTaskExecutions: maxConcurrentActivities(),
    interceptors: { activity: [(ctx) => ({ inbound: new KeepAliveInterceptor(ctx) }), (ctx) => ({ inbound: new ProductionGrantInterceptor(ctx, pointOfAction) })] },
  });
}
