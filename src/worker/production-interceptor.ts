/**
 * The production worker's activity interceptor (DESIGN.md §The gate): before any production activity body runs,
 * it re-reads the trust root and re-verifies the step's grant envelopes with node:crypto. Anything short of a
 * complete, valid authorization fails the activity as non-retryable `GrantRefused`; the body never starts.
 */
import { ApplicationFailure, type Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { checkProductionAuthorization } from '../domain/production-authorization';
import type { GrantAction } from '../domain/vocabulary';
import type { ProductionStepRequest } from '../activities/production';
import { readTrustRootFile } from './trust-root-file';
import { verifyEd25519Node } from './node-signature';

export class ProductionGrantInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly trustRootPath: string | undefined,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { activityType } = this.ctx.info;
    const workflowId = this.ctx.info.workflowExecution?.workflowId ?? '(no workflow)';
    const refuse = (reason: string): never => {
      throw ApplicationFailure.nonRetryable(`production refused ${activityType} for ${workflowId}: ${reason}`, 'GrantRefused');
    };
    if (!this.ctx.info.workflowExecution) return refuse('production activities run only on behalf of a lane workflow');
    const req = input.args[0] as Partial<ProductionStepRequest> | undefined;
    const step = req?.change?.steps?.find((s) => s.id === req.stepId);
    if (!req || !step || !req.authorization || req.changeId !== req.change?.id) return refuse('the request does not name a step of its change with an authorization');
    if (!this.trustRootPath) return refuse('this worker has no trust root (LANES_TRUST_ROOT)');
    const trustRoot = await readTrustRootFile(this.trustRootPath).catch((err: Error) => refuse(err.message));
    const verdict = checkProductionAuthorization(
      {
        trustRoot,
        workflowId,
        changeId: req.changeId!,
        stepAction: step.action as GrantAction,
        start: req.authorization.start,
        grants: Array.isArray(req.authorization.grants) ? req.authorization.grants : [],
        rehearsalTree: req.authorization.rehearsalTree,
        nowMs: Date.now(),
      },
      verifyEd25519Node,
    );
    if (!verdict.ok) return refuse(`step ${step.id}: ${verdict.reason}`);
    return next(input);
  }
}
