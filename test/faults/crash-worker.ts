/**
 * The worker the crash harness kills: the real lane + production workers (createLaneWorkers), in a process of
 * its own. Its only differences from `lanes worker`: the run's pre-built workflow bundle (no re-bundling on every
 * restart) and no workflow cache (a killed worker's sticky queue would otherwise delay its successor).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createLaneWorkers } from '../../src/worker/lane-worker';

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.CRASH_WORKER ?? '{}') as { address: string; taskQueue: string; lanesHome: string; trustRootPath: string; bundlePath: string; keepCache?: boolean };
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address: cfg.address });
  const workers = await createLaneWorkers({
    connection,
    namespace: 'default',
    taskQueue: cfg.taskQueue,
    activities: { trustRootPath: cfg.trustRootPath, lanesHome: cfg.lanesHome },
    workflowBundle: { codePath: cfg.bundlePath },
    ...(cfg.keepCache ? {} : { cache: { maxCachedWorkflows: 0 } }),
  });
  process.once('SIGTERM', () => workers.shutdown());
  const running = workers.run();
  process.stdout.write('ready\n');
  await running;
  await connection.close();
}

main().catch((err: Error) => {
  process.stderr.write(`crash worker failed: ${err.stack}\n`);
  process.exit(1);
});
