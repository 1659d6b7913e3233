/**
 * The blocker charter: a change's blocker map and rules as its owners approved them — or that it has none.
 *
 * The operator writes the map and rules into the change spec; until owners sign their hash (a CHARTER envelope
 * to the change entity, as many distinct owners as the trust root's `thresholds.CHARTER`), they bind nobody: no
 * blocker moves, and no execution lane's gate opens. A spec whose map or rules differ in any way has another
 * charter hash and needs its own charter; a spec declaring no map is chartered too (its hash says "no map"), or
 * dropping the map would be a way around the charter. The hash covers the declared map (statuses and all its fields, proofs
 * dropped: proofs come only from signatures and evidence) and the rules; nothing else of the spec, so a spec that
 * changes only its SQL keeps its charter (its SQL is approved by the grants, which name the whole spec).
 *
 * Pure and sandbox-safe: the change entity, the CLI and the point of action all judge a charter here.
 */
import type { BlockerMap } from './blocker-map';
import type { BlockerRules } from './blocker-rules';
import { canonicalSha256 } from './hashing';
import { claimedIssueTime, verifyEnvelope, type VerifiedEnvelope } from './envelope-rules';
import type { SignatureCheck } from './keys';
import { thresholdFor, type TrustRoot } from './trust-root';

export interface CharterSubject {
  changeId: string;
  blockers?: { map: BlockerMap; rules?: BlockerRules | undefined } | undefined;
}

/** sha256 of what a charter approves: the change id, its declared blocker map without proofs, and its rules. */
export function charterHashOf(subject: CharterSubject): string {
  const map = subject.blockers?.map;
  return canonicalSha256({
    v: 1,
    changeId: subject.changeId,
    map: map ? { ...map, blockers: map.blockers.map(({ proofs: _proofs, ...b }) => b) } : null,
    rules: subject.blockers?.rules ?? {},
  });
}

export type CharterVerdict =
  | { ok: true; hash: string; /** When the threshold was met: the issue time of the last signature it needed. */ at: string; signers: VerifiedEnvelope['signer'][] }
  | { ok: false; hash: string; reason: string; signers: VerifiedEnvelope['signer'][] };

/**
 * Whether `envelopes` charter this subject: valid CHARTER envelopes (each judged as of its own issue time: signed
 * once, it stands) for this change, naming this charter hash, from as many distinct owners (people) as the
 * trust root asks. Envelopes that are not are skipped; the reason names what is still missing.
 */
export function judgeCharter(
  envelopes: readonly unknown[],
  subject: CharterSubject,
  ctx: { trustRoot: TrustRoot; entityWorkflowId: string },
  checkSignature: SignatureCheck,
): CharterVerdict {
  const hash = charterHashOf(subject);
  const valid: VerifiedEnvelope[] = [];
  const nonces = new Set<string>();
  for (const raw of envelopes) {
    const v = verifyEnvelope(
      raw,
      { trustRoot: ctx.trustRoot, workflowId: ctx.entityWorkflowId, changeId: subject.changeId, lane: undefined, anySpec: true, acceptedActions: ['CHARTER'], nowMs: claimedIssueTime(raw), usedNonces: nonces },
      checkSignature,
    );
    if (!v.ok || v.envelope.payload.charterHash !== hash) continue;
    nonces.add(v.envelope.payload.nonce);
    valid.push(v.envelope);
  }
  valid.sort((a, b) => Date.parse(a.payload.issuedAt) - Date.parse(b.payload.issuedAt));
  const need = thresholdFor(ctx.trustRoot, 'CHARTER');
  const people = new Map<string, VerifiedEnvelope>();
  for (const v of valid) {
    if (!people.has(v.signer.person)) people.set(v.signer.person, v);
    if (people.size >= need) {
      return { ok: true, hash, at: v.payload.issuedAt, signers: [...people.values()].map((e) => e.signer) };
    }
  }
  const signers = [...people.values()].map((e) => e.signer);
  return {
    ok: false,
    hash,
    signers,
    reason: `the ${subject.blockers ? 'blocker map and rules' : 'declaration of no blocker map'} (charter ${hash.slice(0, 16)}…) are not chartered: ${signers.length} of ${need} owner${need === 1 ? '' : 's'} signed them (\`lanes charter ${subject.changeId} --change <spec> --key <owner key>\`)`,
  };
}
