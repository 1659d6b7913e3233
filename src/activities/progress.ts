/**
 * Progress of long lane work (cloning, fingerprinting, proving), reported as the activity's heartbeat details:
 * Temporal keeps the latest with the pending activity, so `lanes status` and the Web UI show what the lane is
 * doing right now. Outside an activity (proof code called directly, e.g. in tests) it does nothing.
 */
import { Context } from '@temporalio/activity';

export function progress(stage: string): void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return;
  }
  ctx.heartbeat({ stage, at: new Date().toISOString() });
}
