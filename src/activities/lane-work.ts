/**
 * The non-mutating work of the scoping and execution lanes: scoping records what the change declares (surface,
 * steps, blocker map, grants each lane will need); execution's packet records what production looks like after
 * its steps, which steps ran, and under which grants.
 */
import type { EvidenceRef, StepRecord } from '../domain/lane-status';
import { productionTarget } from '../domain/change-spec';
import { requiredGrants, LANE_KINDS } from '../domain/vocabulary';
import { surfaceFingerprint } from './targets/fingerprint';
import { openProduction } from './targets/open';
import { writeLanePacket, type LaneWorkRequest } from './lane-request';

export function scope(lanesHome: string, req: LaneWorkRequest): Promise<EvidenceRef> {
  const { change } = req;
  const stepActions = change.steps.map((s) => s.action);
  return writeLanePacket(lanesHome, req, {
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

export async function recordExecution(lanesHome: string, req: LaneWorkRequest & { steps: StepRecord[] }): Promise<EvidenceRef> {
  const db = await openProduction(lanesHome, req.change);
  const after = await db.session((s) => surfaceFingerprint(s, req.change.surface));
  return writeLanePacket(lanesHome, req, {
    'execution.json': { workflowId: req.workflowId, production: { target: db.label, identity: await db.identity() }, steps: req.steps, fingerprintAfter: after },
  });
}
