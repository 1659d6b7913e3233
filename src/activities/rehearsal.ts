/**
 * The rehearsal lane's gated work. Until the PostgreSQL targets land (Targets issue), it records what was
 * authorised (change, grants, trust root) as an evidence packet and says plainly that no clone proof ran, so no
 * reader mistakes this packet for a proven rollback.
 */
import type { ChangeSpec } from '../domain/change-spec';
import type { VerifiedEnvelope } from '../domain/envelope-rules';
import type { EvidenceRef } from '../domain/lane-status';
import { canonicalize } from '../domain/canonical-json';
import { evidenceDir, writeEvidencePacket } from './evidence';

export interface RehearsalRequest {
  workflowId: string;
  change: ChangeSpec;
  grants: VerifiedEnvelope[];
  trustRootFingerprint: string;
}

export async function rehearse(lanesHome: string, req: RehearsalRequest): Promise<EvidenceRef> {
  const dir = evidenceDir(lanesHome, req.change.id, req.workflowId);
  return writeEvidencePacket(dir, {
    'change.json': `${canonicalize(req.change)}\n`,
    'grants.json': `${canonicalize(req.grants.map((g) => ({ id: g.id, payload: g.payload, signature: g.signature, signer: g.signer })))}\n`,
    'rehearsal.json': `${canonicalize({
      workflowId: req.workflowId,
      changeId: req.change.id,
      trustRootFingerprint: req.trustRootFingerprint,
      cloneProof: { status: 'NOT_RUN', reason: 'no clone target adapter is configured yet' },
    })}\n`,
  });
}
