/**
 * The non-mutating work of the scoping and execution lanes: scoping records what the change declares (surface,
 * steps, blocker map, grants each lane will need); execution's packet records what production looks like after
 * its steps, which steps ran, and under which grants.
 */
import type { EvidenceRef } from '../domain/lane-status';
import { productionTarget } from '../domain/change-spec';
import { requiredGrants, LANE_KINDS } from '../domain/vocabulary';
import { ApplicationFailure } from '@temporalio/activity';
import { surfaceFingerprint } from './targets/fingerprint';
import { appliedByRun } from './production-ledger';
import { openProduction, refuseSingleHostTarget } from './targets/open';
import { writeLanePacket, type AuthorizedWork } from './lane-request';
import type { WorkerPlace } from './worker-place';

export async function scope(place: WorkerPlace, req: AuthorizedWork): Promise<EvidenceRef> {
  const { change } = req;
  refuseSingleHostTarget(place, change);
  const stepActions = change.steps.map((s) => s.action);
  return writeLanePacket(place, req, {
    'scoping.json': {
      workflowId: req.workflowId,
      surface: change.surface ?? { tables: [], functions: [] },
      steps: change.steps.map((s) => ({ id: s.id, action: s.action })),
      grantsPerLane: Object.fromEntries(LANE_KINDS.map((l) => [l, requiredGrants(l, stepActions)])),
      productionTarget: productionTarget(change),
      note: 'scoping contacts no database; the surface is as the operator declared it, never guessed',
    },
    'blocker-map.json': change.blockers?.map ?? null,
  });
}

/**
 * The execution's packet: which steps production's own ledger says this run applied (not what the workflow says),
 * what production looks like after them, and under which grants. A run that applied nothing has nothing to record.
 */
export async function recordExecution(place: WorkerPlace, req: AuthorizedWork): Promise<EvidenceRef> {
  const db = await openProduction(place, req.change);
  const { applied, after } = await db.session(async (s) => ({
    applied: await appliedByRun(s, req.workflowId, req.runId),
    after: await surfaceFingerprint(s, req.change.surface),
  }));
  if (applied.length === 0) {
    throw ApplicationFailure.nonRetryable(`production's ledger shows no step applied by ${req.workflowId} (run ${req.runId}): there is no execution to record`, 'GrantRefused');
  }
  return writeLanePacket(place, req, {
    'execution.json': { workflowId: req.workflowId, runId: req.runId, production: { target: db.label, identity: await db.identity() }, steps: applied, fingerprintAfter: after },
  });
}
