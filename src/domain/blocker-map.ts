/**
 * The blocker map, in exactly the shape our users already keep (seeds/004: `production-blocker-map.json`).
 *
 * It is imported as-is (unknown fields are kept, not dropped, so it exports back unchanged) and every blocker's
 * free-text fields stay the user's. What the product adds is a *rule* per blocker, stating what it takes to move
 * it (blocker-rules.ts), and the proofs that moved it, which export alongside it in `proofs`.
 */
import { z } from 'zod';
import { ROLES } from './vocabulary';

export const BLOCKER_STATUSES = ['OPEN', 'NARROWED', 'PARTIALLY_DISCHARGED', 'CLASSIFIED', 'DESIGN_DELIVERED', 'CLOSED'] as const;
export type BlockerStatus = (typeof BLOCKER_STATUSES)[number];

export const blockerProofSchema = z
  .object({
    kind: z.enum(['evidence', 'operator-input', 'owner-decision', 'grant']),
    /** Who moved the blocker with this proof: a key id from the trust root, or the lane workflow id. */
    by: z.string(),
    /** The role of the key that signed the move; absent when a lane's outcome moved it. */
    role: z.enum(ROLES).optional(),
    /** The person holding that key, as the trust root said when the move was judged. */
    person: z.string().optional(),
    at: z.string(),
    from: z.enum(BLOCKER_STATUSES),
    to: z.enum(BLOCKER_STATUSES),
    treeHash: z.string().optional(),
    workflowId: z.string().optional(),
    inputSha256: z.string().optional(),
    envelopeId: z.string().optional(),
    /**
     * The signed BLOCKER_UPDATE itself: the chain the production worker replays, so a blocker map state counts only
     * as far as signatures carry it (a crafted change entity cannot close a blocker).
     */
    envelope: z.unknown().optional(),
    note: z.string().optional(),
  })
  .strict();
export type BlockerProof = z.infer<typeof blockerProofSchema>;

const text = z.string().max(4000);

/** One blocker, field for field as in seeds/004. Extra fields a team adds are kept. */
export const blockerSchema = z.looseObject({
  id: z.string().min(1).max(200),
  item: text,
  evidence: text,
  required_owner_gpt_decision: text,
  required_technical_proof: text,
  actor_needed: text,
  next_action: text,
  status: z.enum(BLOCKER_STATUSES),
  blocks: z.string().min(1).max(400),
  proofs: z.array(blockerProofSchema).optional(),
});
export type Blocker = z.infer<typeof blockerSchema>;

export const blockerMapSchema = z
  .looseObject({
    blockers: z.array(blockerSchema).max(500),
  })
  .superRefine((map, ctx) => {
    const seen = new Set<string>();
    map.blockers.forEach((b, i) => {
      if (seen.has(b.id)) ctx.addIssue({ code: 'custom', path: ['blockers', i, 'id'], message: `duplicate blocker id "${b.id}"` });
      seen.add(b.id);
    });
  });
export type BlockerMap = z.infer<typeof blockerMapSchema>;

export function openBlockers(map: BlockerMap | undefined): Blocker[] {
  return (map?.blockers ?? []).filter((b) => b.status !== 'CLOSED');
}
