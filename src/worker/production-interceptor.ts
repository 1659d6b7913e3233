/**
 * The production worker's activity interceptor (DESIGN.md §The gate): before any production activity body runs,
 * the point of action (point-of-action.ts) verifies the step from signatures and content hashes alone. Anything
 * short of a complete, valid authorization fails the activity as non-retryable `GrantRefused`; the body never starts.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { markAuthorized } from '../activities/authorized';
import { PointOfAction, Refused } from './point-of-action';

export class ProductionGrantInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly pointOfAction: PointOfAction,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const request = input.args[0];
    const authorized = await this.pointOfAction.guard(this.ctx, (caller, trustRoot) => {
      // Default-deny: each production activity type has its own verification, and no other type runs here.
      switch (this.ctx.info.activityType) {
        case 'applyProductionStep':
          return this.pointOfAction.productionStep(caller, trustRoot, request);
        case 'rollbackProductionStep':
          return this.pointOfAction.rollbackStep(caller, trustRoot, request);
        default:
          throw new Refused('the production queue runs applyProductionStep and rollbackProductionStep only');
      }
    });
    markAuthorized(request, authorized);
    return next(input);
  }
}
