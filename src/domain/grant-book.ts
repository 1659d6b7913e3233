/**
 * One lane's book of signed envelopes: which grants it accepted, which it revoked, which envelopes it refused and
 * why (audit), and the nonces it has seen. Pure and deterministic, so the workflow, the model-based tests and
 * the fuzzers all drive exactly this code; the clock and the signature check are passed in.
 */
import { envelopeIdOf, verifyEnvelope, type EnvelopeContext, type RejectCode, type VerifiedEnvelope } from './envelope-rules';
import type { SignedAction } from './envelope';
import type { SignatureCheck } from './keys';
import type { TrustRoot } from './trust-root';
import type { RejectedEnvelope } from './lane-status';
import type { GrantAction, LaneKind } from './vocabulary';

export type LaneSignal = 'grant' | 'hold' | 'revoke' | 'input';

/** Rejected envelopes kept (audit). Bounded so a flood of junk cannot grow history without limit. */
export const MAX_REJECTED_KEPT = 200;

export type Receipt =
  | { kind: 'grant'; envelope: VerifiedEnvelope }
  | { kind: 'hold'; envelope: VerifiedEnvelope }
  | { kind: 'revoke'; envelope: VerifiedEnvelope }
  | { kind: 'input'; envelope: VerifiedEnvelope }
  | { kind: 'rejected'; code: RejectCode; reason: string };

export interface GrantBookContext {
  trustRoot: TrustRoot;
  workflowId: string;
  /** The lane's own run id (workflowInfo): grants name it. */
  runId: string;
  /** sha256 of the canonical change spec the lane runs: every envelope names it. */
  specHash: string;
  /** The id of the lane's verified START: owner envelopes name it. */
  startId: string;
  changeId: string;
  lane: LaneKind;
  /** The grant actions this lane accepts (its required grants). */
  accepts: readonly GrantAction[];
  laneOperator?: { keyId: string; person?: string; name: string };
}

export class GrantBook {
  readonly grants: VerifiedEnvelope[] = [];
  readonly revoked = new Set<string>();
  readonly rejected: RejectedEnvelope[] = [];
  private readonly usedNonces = new Set<string>();

  constructor(
    private readonly ctx: GrantBookContext,
    private readonly checkSignature: SignatureCheck,
  ) {}

  /** Marks a nonce as used (the operator's start envelope, for one). */
  useNonce(nonce: string): void {
    this.usedNonces.add(nonce);
  }

  receive(signal: LaneSignal, raw: unknown, nowMs: number): Receipt {
    const accepted: readonly SignedAction[] = signal === 'hold' ? ['HOLD'] : signal === 'revoke' ? ['REVOKE'] : signal === 'input' ? ['OPERATOR_INPUT'] : this.ctx.accepts;
    const ctx: EnvelopeContext = { ...this.ctx, acceptedActions: accepted, nowMs, usedNonces: this.usedNonces };
    const verdict = verifyEnvelope(raw, ctx, this.checkSignature);
    if (!verdict.ok) {
      const { ok: _ok, ...why } = verdict;
      this.keepRejected(raw, signal, nowMs, why);
      return { kind: 'rejected', code: verdict.code, reason: verdict.reason };
    }
    const env = verdict.envelope;
    this.usedNonces.add(env.payload.nonce);
    if (signal === 'revoke') this.revoked.add(env.payload.revokes!);
    if (signal === 'grant') this.grants.push(env);
    return { kind: signal, envelope: env };
  }

  /**
   * Withdraws an accepted grant after the fact: the change entity reports that another lane of the change used its
   * nonce first. It moves to the rejected list with the reason, and no longer counts.
   */
  disown(grantId: string, code: RejectCode, reason: string, nowMs: number): void {
    const i = this.grants.findIndex((g) => g.id === grantId);
    if (i < 0) return;
    const [g] = this.grants.splice(i, 1);
    this.keepRejected({ payload: g!.payload }, 'grant', nowMs, { code, reason, keyId: g!.signer.keyId, action: g!.payload.action });
  }

  /** Refuses an envelope for a reason outside the envelope rules (e.g. an input whose content does not match). */
  refuse(raw: unknown, signal: LaneSignal, nowMs: number, code: RejectCode, reason: string): void {
    const p = (raw as { payload?: { keyId?: unknown; action?: unknown } } | null)?.payload;
    this.keepRejected(raw, signal, nowMs, { code, reason, ...(typeof p?.keyId === 'string' ? { keyId: p.keyId } : {}), ...(typeof p?.action === 'string' ? { action: p.action } : {}) });
  }

  private keepRejected(raw: unknown, signal: LaneSignal, nowMs: number, why: Omit<RejectedEnvelope, 'receivedAt' | 'signal' | 'id'>): void {
    const id = envelopeIdOf(raw);
    this.rejected.push({ ...(id ? { id } : {}), receivedAt: new Date(nowMs).toISOString(), signal, ...why });
    if (this.rejected.length > MAX_REJECTED_KEPT) this.rejected.shift();
  }
}
