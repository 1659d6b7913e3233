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

export interface ProductionWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The lane task queue; production work runs on its `-production` sibling. */
  laneTaskQueue: string;
  trustRootPath: string | undefined;
  lanesHome: string;
}

export async function createProductionWorker(opts: ProductionWorkerOptions): Promise<Worker> {
  const pointOfAction = new PointOfAction(opts.trustRootPath, opts.lanesHome, runSignalsFrom(opts.connection, opts.namespace), workflowSignalsFrom(opts.connection, opts.namespace));
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: productionTaskQueue(opts.laneTaskQueue),
    activities: createProductionActivities({ lanesHome: opts.lanesHome }),
    maxConcurrentActivityTaskExecutions: maxConcurrentActivities(),
    interceptors: { activity: [(ctx) => ({ inbound: new KeepAliveInterceptor(ctx) }), (ctx) => ({ inbound: new ProductionGrantInterceptor(ctx, pointOfAction) })] },
  });
}
