/**
 * The production worker's own check of a step's authorization, run before any production activity body
 * (DESIGN.md §The gate). It trusts nothing the workflow concluded: it re-verifies every envelope it is handed,
 * with the signature check the caller passes (node:crypto on the production worker), against the trust root
 * file, the workflow id Temporal reports for the activity, and the worker's own clock. Any envelope that does
 * not verify refuses the whole step: a request carrying junk is not a request to act on.
 */
import { verifyEnvelope, type RejectCode } from './envelope-rules';
import type { SignedAction } from './envelope';
import type { SignatureCheck } from './keys';
import type { TrustRoot } from './trust-root';
import { EVIDENCE_BOUND_ACTIONS } from './gate-rules';
import type { GrantAction } from './vocabulary';

export interface ProductionCheckInput {
  trustRoot: TrustRoot;
  /** From the activity's info, never from the request. */
  workflowId: string;
  changeId: string;
  stepAction: GrantAction;
  start: unknown;
  grants: readonly unknown[];
  rehearsalTree: string | undefined;
  nowMs: number;
}

export type ProductionCheck = { ok: true } | { ok: false; code: RejectCode | 'MISSING' | 'THRESHOLD' | 'EVIDENCE_TREE' | 'UNEXPECTED'; reason: string };

export function checkProductionAuthorization(input: ProductionCheckInput, checkSignature: SignatureCheck): ProductionCheck {
  const base = { trustRoot: input.trustRoot, workflowId: input.workflowId, changeId: input.changeId, lane: 'execution' as const };
  // The start is checked as of its own issue time: it proved the operator at lane start, and names them now.
  const issued = Date.parse(String((input.start as { payload?: { issuedAt?: unknown } } | null)?.payload?.issuedAt));
  const start = verifyEnvelope(input.start, { ...base, acceptedActions: ['START_LANE'], nowMs: Number.isNaN(issued) ? 0 : issued, usedNonces: new Set() }, checkSignature);
  if (!start.ok) return { ok: false, code: start.code, reason: `lane start: ${start.reason}` };
  const laneOperator = { keyId: start.envelope.signer.keyId, name: start.envelope.signer.name };

  const needed: GrantAction[] = ['OPT4_PRODUCTION', 'REAL_RUN', input.stepAction].filter((a, i, all) => all.indexOf(a) === i) as GrantAction[];
  const nonces = new Set<string>([start.envelope.payload.nonce]);
  const signers = new Map<GrantAction, Set<string>>(needed.map((a) => [a, new Set()]));
  for (const [i, raw] of input.grants.entries()) {
    const v = verifyEnvelope(raw, { ...base, acceptedActions: needed as SignedAction[], laneOperator, nowMs: input.nowMs, usedNonces: nonces }, checkSignature);
    if (!v.ok) return { ok: false, code: v.code, reason: `grant ${i + 1}: ${v.reason}` };
    const action = v.envelope.payload.action as GrantAction;
    if (EVIDENCE_BOUND_ACTIONS.includes(action) && (!input.rehearsalTree || v.envelope.payload.evidenceTree !== input.rehearsalTree)) {
      return { ok: false, code: 'EVIDENCE_TREE', reason: `grant ${i + 1}: ${action} names evidence tree ${v.envelope.payload.evidenceTree ?? '(none)'}, not the rehearsal's ${input.rehearsalTree ?? '(none)'}` };
    }
    nonces.add(v.envelope.payload.nonce);
    signers.get(action)!.add(v.envelope.signer.name);
  }
  for (const action of needed) {
    const have = signers.get(action)!.size;
    const need = input.trustRoot.thresholds[action] ?? 1;
    if (have === 0) return { ok: false, code: 'MISSING', reason: `no valid ${action} grant was presented` };
    if (have < need) return { ok: false, code: 'THRESHOLD', reason: `${action} has ${have} of ${need} distinct owners` };
  }
  return { ok: true };
}
