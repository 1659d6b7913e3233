/**
 * The lane worker's activity interceptor (DESIGN.md §The gate): every lane-queue activity that reads or writes a
 * database, or writes evidence, is verified at the point of action like a production step — the operator's START
 * and that lane's grants, bound to this workflow, run and spec — before its body runs. The policy table says what
 * each activity type needs; a type it does not list is refused.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { markAuthorized } from '../activities/authorized';
import { LANE_ACTIVITY_POLICY } from './lane-activity-policy';
import { PointOfAction, Refused } from './point-of-action';

export class LaneAuthorizationInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly pointOfAction: PointOfAction,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const policy = Object.hasOwn(LANE_ACTIVITY_POLICY, this.ctx.info.activityType) ? LANE_ACTIVITY_POLICY[this.ctx.info.activityType] : undefined;
    if (policy?.kind === 'open') return next(input);
    const request = input.args[0];
    const authorized = await this.pointOfAction.guard(this.ctx, (caller, trustRoot) => {
      if (!policy) throw new Refused(`${this.ctx.info.activityType} is not a lane activity this worker runs`);
      return this.pointOfAction.laneWork(caller, trustRoot, policy, request);
    });
    markAuthorized(request, authorized);
    return next(input);
  }
}
