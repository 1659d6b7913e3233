/**
 * The SDK logger for processes that run lane workers for people (`lanes dev`, `lanes worker`, the demo): WARN and
 * above (LANES_LOG_LEVEL overrides), without the one warning our design makes on every start. The production
 * worker registers no workflows on purpose (it runs production activities only), and the SDK warns "No workflows
 * registered" for it, which reads like a fault above the banner a person is looking for.
 */
import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { productionTaskQueue } from '../domain/task-queues';

const NO_WORKFLOWS = 'No workflows registered, not polling for workflow tasks';

export class LanesLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message === NO_WORKFLOWS && typeof meta?.taskQueue === 'string' && meta.taskQueue.endsWith(productionTaskQueue(''))) return;
    super.log(level, message, meta);
  }
}

export function installLanesLogger(): void {
  Runtime.install({ logger: new LanesLogger((process.env.LANES_LOG_LEVEL as LogLevel | undefined) ?? 'WARN') });
}
