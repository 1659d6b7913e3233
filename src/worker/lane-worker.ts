/**
 * Builds the workers a deployment runs together: the lane worker (lane workflows, the change entity, and the
 * non-mutating activities) and the production worker (production activities behind the verifying interceptor,
 * on the `-production` sibling queue). Running them as one unit means `lanes dev`, `lanes worker` and the tests
 * cannot start one without the other.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createLaneActivities, type ActivityConfig } from '../activities';
import { closeTargets } from '../activities/targets/open';
import { createProductionWorker } from './production-worker';
import { KeepAliveInterceptor } from './keep-alive';

export interface LaneWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ActivityConfig;
  /** A pre-built bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Workflow cache settings (the crash harness turns the cache off, so a dead worker's sticky queue costs nothing). */
  cache?: Pick<WorkerOptions, 'maxCachedWorkflows' | 'stickyQueueScheduleToStartTimeout'>;
}

export interface LaneWorkers {
  lane: Worker;
  production: Worker;
  /** Runs both until shutdown; resolves when both have stopped. */
  run(): Promise<void>;
  shutdown(): void;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export async function createLaneWorkers(opts: LaneWorkerOptions): Promise<LaneWorkers> {
  const lane = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createLaneActivities(opts.activities),
    interceptors: { activity: [(ctx) => ({ inbound: new KeepAliveInterceptor(ctx) })] },
    ...opts.cache,
  });
  const production = await createProductionWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    laneTaskQueue: opts.taskQueue,
    trustRootPath: opts.activities.trustRootPath,
    lanesHome: opts.activities.lanesHome,
  });
  const shutdown = () => {
    for (const w of [lane, production]) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    lane,
    production,
    shutdown,
    async run() {
      // If either stops (or fails), stop the other: half a deployment must not keep taking work.
      const runs = [lane.run(), production.run()].map((p) => p.finally(shutdown));
      try {
        await Promise.all(runs);
      } finally {
        await Promise.allSettled(runs);
        await closeTargets();
      }
    },
  };
}
