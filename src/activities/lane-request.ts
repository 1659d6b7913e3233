/** What every lane activity receives: the change, the grants that authorised the work, and who is asking. */
import type { ChangeSpec } from '../domain/change-spec';
import type { VerifiedEnvelope } from '../domain/envelope-rules';
import type { EvidenceRef } from '../domain/lane-status';
import { canonicalize } from '../domain/canonical-json';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evidenceDir, safeSegment, writeEvidencePacket } from './evidence';

export interface LaneWorkRequest {
  workflowId: string;
  change: ChangeSpec;
  grants: VerifiedEnvelope[];
  trustRootFingerprint: string;
  shaped?: boolean;
  /** Operator inputs the lane accepted, with their content: written into the evidence packet. */
  inputs?: { kind: string; sha256: string; content: string; by: string }[];
}

const json = (v: unknown) => `${canonicalize(v)}\n`;

/** Writes a lane's evidence packet: the change and grants every packet carries, plus the lane's own files. */
export function writeLanePacket(lanesHome: string, req: LaneWorkRequest, files: Record<string, unknown>): Promise<EvidenceRef> {
  const own = Object.fromEntries(Object.entries(files).map(([name, v]) => [name, json(v)]));
  return writeEvidencePacket(evidenceDir(lanesHome, req.change.id, req.workflowId), {
    'change.json': json(req.change),
    'grants.json': json(req.grants.map((g) => ({ id: g.id, payload: g.payload, signature: g.signature, signer: g.signer }))),
    ...Object.fromEntries((req.inputs ?? []).map((i) => [`inputs/${i.kind}-${i.sha256.slice(0, 12)}`, i.content])),
    ...own,
  });
}

/**
 * Writes a lane's decision packet next to (not inside) its evidence, so the evidence tree stays as the lane
 * sealed it: `<lanes home>/decisions/<changeId>/<workflowId>.{md,json}`.
 */
export async function writeDecisionPacket(lanesHome: string, packet: { changeId: string; workflowId: string; json: unknown; markdown: string }): Promise<string> {
  const dir = join(lanesHome, 'decisions', safeSegment(packet.changeId));
  await mkdir(dir, { recursive: true });
  const base = join(dir, safeSegment(packet.workflowId));
  for (const [ext, text] of [['json', `${canonicalize(packet.json)}\n`], ['md', packet.markdown]] as const) {
    await writeFile(`${base}.${ext}.partial`, text);
    await rename(`${base}.${ext}.partial`, `${base}.${ext}`);
  }
  return `${base}.md`;
}
