/**
 * What every lane activity receives from its workflow (LaneWorkRequest), and what its body works with once the
 * lane worker's point-of-action check has verified it (AuthorizedWork): the change, the operator's start, the
 * grants, all re-verified from signatures and hashes; the workflow and run ids from the activity's own context.
 * Evidence and decision packets are written only under that workflow id and run, never a path from the request.
 */
import type { ChangeSpec } from '../domain/change-spec';
import type { SignedEnvelope } from '../domain/envelope';
import type { VerifiedEnvelope } from '../domain/envelope-rules';
import type { EvidenceRef } from '../domain/lane-status';
import { canonicalize } from '../domain/canonical-json';
import type { WorkerPlace } from './worker-place';

/** As the workflow sends it: bookkeeping, believed by nothing until the point-of-action check has verified it. */
export interface LaneWorkRequest {
  workflowId: string;
  change: ChangeSpec;
  /** The operator's signed START_LANE. */
  start: unknown;
  grants: SignedEnvelope[];
  trustRootFingerprint: string;
  shaped?: boolean;
  /** Precheck only: how long its pass may open execution (capped by the workers). */
  precheckValidForMs?: number;
  /** Operator inputs the lane accepted, with their content and signed envelope: written into the evidence packet. */
  inputs?: { kind: string; sha256: string; content: string; by: string; envelope: unknown }[];
}

/** A request after the point-of-action check: every field here was verified or comes from the activity context. */
export interface AuthorizedWork {
  workflowId: string;
  runId: string;
  change: ChangeSpec;
  specHash: string;
  trustRootFingerprint: string;
  grants: VerifiedEnvelope[];
  shaped?: boolean;
  precheckValidForMs?: number;
  /** Precheck and execution: the step the signed START resumes from (a half-applied change). */
  resumeFrom?: string;
  inputs?: { kind: string; sha256: string; content: string; by: string }[];
}

const json = (v: unknown) => `${canonicalize(v)}\n`;

/** Writes a lane's evidence packet: the change and grants every packet carries, plus the lane's own files. */
export function writeLanePacket(place: WorkerPlace, req: AuthorizedWork, files: Record<string, unknown>): Promise<EvidenceRef> {
  const own = Object.fromEntries(Object.entries(files).map(([name, v]) => [name, json(v)]));
  return place.evidence.writePacket({ changeId: req.change.id, workflowId: req.workflowId, runId: req.runId }, {
    'change.json': json(req.change),
    'grants.json': json(req.grants.map((g) => ({ id: g.id, payload: g.payload, signature: g.signature, signer: g.signer }))),
    ...Object.fromEntries((req.inputs ?? []).map((i) => [`inputs/${i.kind}-${i.sha256.slice(0, 12)}`, i.content])),
    ...own,
  });
}

/** What the workflow asks to have written; the place comes from the verified start and the activity context. */
export interface DecisionPacketRequest {
  start: unknown;
  change: ChangeSpec;
  json: unknown;
  markdown: string;
}
