/**
 * Progress of long lane work (cloning, fingerprinting, proving), reported as the activity's heartbeat details:
 * Temporal keeps the latest with the pending activity, so `lanes status` and the Web UI show what the lane is
 * doing right now. Outside an activity (proof code called directly, e.g. in tests) it does nothing.
 */
import { Context } from '@temporalio/activity';

const latest = new WeakMap<Context, { stage: string; at: string }>();

export function progress(stage: string): void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return;
  }
  const details = { stage, at: new Date().toISOString() };
  latest.set(ctx, details);
  ctx.heartbeat(details);
}

/** What the activity last reported, for the keep-alive heartbeat (src/worker/keep-alive.ts). */
export function lastProgress(ctx: Context): { stage: string; at: string } | undefined {
  return latest.get(ctx);
}
