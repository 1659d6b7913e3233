/**
 * Builds the workers a deployment runs together: the lane worker (lane workflows, the change entity, and the
 * non-mutating activities) and the production worker (production activities behind the verifying interceptor,
 * on the `-production` sibling queue). Running them as one unit means `lanes dev`, `lanes worker` and the tests
 * cannot start one without the other.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createLaneActivities, type ActivityConfig } from '../activities';
import { closeTargets } from '../activities/targets/open';
import { closeEvidenceStores } from '../evidence/open-store';
import { createProductionWorker } from './production-worker';
import { KeepAliveInterceptor } from './keep-alive';
import { LaneAuthorizationInterceptor } from './lane-interceptor';
import { PointOfAction } from './point-of-action';
import { runSignalsFrom, workflowSignalsFrom } from './run-signals';
import { defaultWorkflowCode } from './workflow-code';
import { isClusterMode } from './config';
import { loadAttester } from '../evidence/attestation';

export interface LaneWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ActivityConfig;
  /** A pre-built bundle (tests build one per run); otherwise defaultWorkflowCode() (the prebuilt one when compiled). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Workflow cache settings (the crash harness turns the cache off, so a dead worker's sticky queue costs nothing). */
  cache?: Pick<WorkerOptions, 'maxCachedWorkflows' | 'stickyQueueScheduleToStartTimeout'>;
  /** Workflows on the main thread instead of the SDK's worker thread, so a heap snapshot sees them (bench/heap-parked.ts). */
  debugMode?: boolean;
}

export interface LaneWorkers {
  lane: Worker;
  production: Worker;
  /** Runs both until shutdown; resolves when both have stopped. */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * Bounds that keep one worker process within memory however many lanes it serves (found by bench P3, which ran a
 * worker out of 24 GiB): lane activities each hold PGlite instances of a few hundred MiB and run on the main
 * thread anyway, so a few at a time is all the throughput there is; and parked lanes need not stay cached —
 * an evicted one is replayed from history when its grant arrives. Both can be raised by environment.
 */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 4;
export const DEFAULT_MAX_CACHED_WORKFLOWS = 200;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number (got "${raw}")`);
  return n;
}

/** LANES_MAX_CONCURRENT_ACTIVITIES, for both the lane and the production worker. */
export function maxConcurrentActivities(): number {
  return positiveInt('LANES_MAX_CONCURRENT_ACTIVITIES', DEFAULT_MAX_CONCURRENT_ACTIVITIES);
}

export async function createLaneWorkers(opts: LaneWorkerOptions): Promise<LaneWorkers> {
  // A cluster worker publishes to a store everyone can write: what it publishes counts only with its attestation, so
  // it starts only with a worker key its own trust root lists (src/evidence/attestation.ts).
  if (isClusterMode(opts.activities)) await loadAttester(opts.activities);
  const pointOfAction = new PointOfAction(opts.activities.trustRootPath, opts.activities, runSignalsFrom(opts.connection, opts.namespace), workflowSignalsFrom(opts.connection, opts.namespace));
  const lane = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : defaultWorkflowCode()),
    activities: createLaneActivities(opts.activities),
    interceptors: { activity: [(ctx) => ({ inbound: new KeepAliveInterceptor(ctx) }), (ctx) => ({ inbound: new LaneAuthorizationInterceptor(ctx, pointOfAction) })] },
    maxConcurrentActivityTaskExecutions: maxConcurrentActivities(),
    maxCachedWorkflows: positiveInt('LANES_MAX_CACHED_WORKFLOWS', DEFAULT_MAX_CACHED_WORKFLOWS),
    ...opts.cache,
    ...(opts.debugMode ? { debugMode: true } : {}),
  });
  const production = await createProductionWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    laneTaskQueue: opts.taskQueue,
    trustRootPath: opts.activities.trustRootPath,
    home: opts.activities,
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
        await Promise.all([closeTargets(), closeEvidenceStores()]);
      }
    },
  };
}
