/**
 * Every activity heartbeats while its worker process is alive, so Temporal notices a dead worker within the
 * activities' heartbeat timeout instead of their (long) start-to-close timeout, and retries elsewhere. The
 * heartbeat carries the activity's latest progress (src/activities/progress.ts), so details are never lost.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { lastProgress } from '../activities/progress';

/** Often enough for a 10 s heartbeat timeout; the SDK throttles what actually reaches the server. */
const TICK_MS = 1000;

export class KeepAliveInterceptor implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const tick = setInterval(() => this.ctx.heartbeat(lastProgress(this.ctx)), TICK_MS);
    try {
      return await next(input);
    } finally {
      clearInterval(tick);
    }
  }
}
