/**
 * The lane activities, bound to a worker's configuration. Workflows import only the *type* of this object
 * (DESIGN.md §Layout), so none of this code enters the workflow sandbox. Production-mutating activities are not
 * here: they live in production.ts, on their own task queue.
 */
import type { TrustRoot } from '../domain/trust-root';
import type { EvidenceRef, StepRecord } from '../domain/lane-status';
import { readTrustRoot } from './trust-root';
import { rehearse } from './rehearsal';
import { dryRun, precheck } from './production-reads';
import { recordExecution, scope } from './lane-work';
import { recordRollback } from './rollback-record';
import type { WorkerHome } from '../worker/config';
import { placeOf } from './worker-place';
import { type AuthorizedWork, type DecisionPacketRequest, type LaneWorkRequest } from './lane-request';
import { authorizedFor } from './authorized';
import { runProbes } from './probes';
import type { ProbeReport } from '../domain/lane-status';

export interface ActivityConfig extends WorkerHome {
  /** Path of the trust root JSON (LANES_TRUST_ROOT). */
  trustRootPath: string | undefined;
}

export function createLaneActivities(config: ActivityConfig) {
  const place = placeOf(config);
  // Each body works on what the lane worker's point of action verified (src/worker/lane-interceptor.ts), never on
  // the raw request: the workflow and run ids come from the activity context, the rest from signed material.
  const verified = (req: unknown) => authorizedFor<AuthorizedWork>(req);
  return {
    loadTrustRoot: (): Promise<TrustRoot> => readTrustRoot(config.trustRootPath),
    runProbes: (): Promise<ProbeReport> => runProbes(),
    scopeChange: (req: LaneWorkRequest): Promise<EvidenceRef> => scope(place, verified(req)),
    rehearseOnClone: (req: LaneWorkRequest): Promise<EvidenceRef> => rehearse(place, verified(req)),
    dryRunProduction: (req: LaneWorkRequest): Promise<EvidenceRef> => dryRun(place, verified(req)),
    precheckProduction: (req: LaneWorkRequest): Promise<EvidenceRef> => precheck(place, verified(req)),
    // The workflow's step records travel along for display; the packet records what production's ledger says.
    recordExecution: (req: LaneWorkRequest & { steps: StepRecord[] }): Promise<EvidenceRef> => recordExecution(place, verified(req)),
    recordRollback: (req: LaneWorkRequest): Promise<EvidenceRef> => recordRollback(place, verified(req)),
    writeDecisionPacket: (req: DecisionPacketRequest): Promise<string> => {
      const who = verified(req);
      return place.evidence.writeDecision({ changeId: who.change.id, workflowId: who.workflowId, runId: who.runId }, req);
    },
  };
}

export type LaneActivities = ReturnType<typeof createLaneActivities>;
