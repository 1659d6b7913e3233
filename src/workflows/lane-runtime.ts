/**
 * The state every lane shares: who started it, which grants it holds, which envelopes it refused and why, and
 * the durable wait for grants that ends in HOLD on silence. Lane workflows (rehearsal.ts, …) own the order of
 * their activities; this class owns the bookkeeping so each lane cannot get it subtly different.
 *
 * Deterministic by construction: time is workflow time, signatures are checked with pure JS (@noble/curves),
 * and the trust root arrives through an activity, so its content is recorded in history.
 */
import {
  condition,
  setHandler,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
  ApplicationFailure,
} from '@temporalio/workflow';
import { envelopeIdOf, verifyEnvelope, type VerifiedEnvelope } from '../domain/envelope-rules';
import { verifyEd25519Strict } from '../domain/keys';
import type { SignedAction } from '../domain/envelope';
import type { TrustRoot } from '../domain/trust-root';
import type { GrantRecord, LaneStatus } from '../domain/lane-status';
import type { GrantAction, LaneKind, LaneState } from '../domain/vocabulary';
import { SA_CHANGE_ID, SA_GRANTS_MISSING, SA_LANE_KIND, SA_LANE_STATE } from '../domain/search-attributes';
import { grantSignal, holdSignal, statusQuery } from './messages';

type Inbound = { signal: 'grant' | 'hold'; raw: unknown };

/** Rejected envelopes kept in state (audit). Bounded so a flood of junk cannot grow history without limit. */
const MAX_REJECTED_KEPT = 200;

export class LaneRuntime {
  private readonly status: LaneStatus;
  private trustRoot?: TrustRoot;
  private readonly inbox: Inbound[] = [];
  private readonly grants: VerifiedEnvelope[] = [];
  private readonly usedNonces = new Set<string>();
  private holdRequested?: string;
  /** Set when an envelope is accepted, so the grant wait re-evaluates; cleared by the wait. */
  private changed = false;

  constructor(
    lane: LaneKind,
    changeId: string,
    private readonly required: readonly GrantAction[],
  ) {
    this.status = {
      workflowId: workflowInfo().workflowId,
      changeId,
      lane,
      state: 'STARTING',
      requiredGrants: [...required],
      grantsPresent: [],
      grantsMissing: [...required],
      rejected: [],
    };
    // Handlers are set before the first await so no signal delivered with the first task is lost.
    setHandler(statusQuery, () => this.snapshot());
    setHandler(grantSignal, (raw) => this.receive({ signal: 'grant', raw }));
    setHandler(holdSignal, (raw) => this.receive({ signal: 'hold', raw }));
    upsertSearchAttributes([
      { key: SA_CHANGE_ID, value: changeId },
      { key: SA_LANE_KIND, value: lane },
    ]);
  }

  snapshot(): LaneStatus {
    // A copy, so callers cannot mutate lane state; the status is plain JSON (the sandbox has no structuredClone).
    return JSON.parse(JSON.stringify(this.status)) as LaneStatus;
  }

  get state(): LaneState {
    return this.status.state;
  }

  /**
   * Adopts the trust root and checks the operator's signed start. Envelopes that arrived earlier are evaluated
   * now, in arrival order. A start that does not verify fails the lane before anything else can run.
   */
  begin(trustRoot: TrustRoot, start: unknown): void {
    this.trustRoot = trustRoot;
    this.status.trustRootFingerprint = trustRoot.fingerprint;
    const verdict = verifyEnvelope(start, this.context(['START_LANE']), verifyEd25519Strict);
    if (!verdict.ok) this.fail(`lane start refused: ${verdict.reason}`);
    this.usedNonces.add(verdict.envelope.payload.nonce);
    this.status.startedBy = { keyId: verdict.envelope.signer.keyId, name: verdict.envelope.signer.name };
    for (const item of this.inbox.splice(0)) this.evaluate(item);
  }

  /**
   * Waits durably until every required grant is present and valid at this moment, an owner holds, or the
   * deadline passes. Returns true only in the first case. Grants are re-checked for expiry on every wake-up,
   * and the caller schedules its gated work immediately after a true return, in the same workflow task.
   */
  async awaitGrants(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    this.status.deadline = new Date(deadline).toISOString();
    for (;;) {
      this.refreshGrants();
      if (this.holdRequested) return this.hold(this.holdRequested);
      if (this.status.grantsMissing.length === 0) return true;
      this.setState('WAITING_FOR_GRANT');
      const remaining = deadline - Date.now();
      const woke = remaining > 0 && (await condition(() => this.holdRequested !== undefined || this.changed, remaining));
      this.changed = false;
      if (!woke) {
        this.refreshGrants();
        return this.hold(`no owner grant for ${this.status.grantsMissing.join(', ')} before the deadline ${this.status.deadline}`);
      }
    }
  }

  /** Accepted, unexpired grants for an action, as handed to the gated activity. */
  grantsFor(action: GrantAction): VerifiedEnvelope[] {
    return this.grants.filter((g) => g.payload.action === action && Date.parse(g.payload.expiresAt) > Date.now());
  }

  setState(state: LaneState): void {
    if (this.status.state === state && state !== 'WAITING_FOR_GRANT') return;
    this.status.state = state;
    upsertSearchAttributes([
      { key: SA_LANE_STATE, value: state },
      { key: SA_GRANTS_MISSING, value: [...this.status.grantsMissing] },
    ]);
    setCurrentDetails(this.describe());
  }

  complete(evidence: LaneStatus['evidence']): LaneStatus {
    this.status.evidence = evidence;
    this.status.deadline = undefined;
    this.setState('COMPLETED');
    return this.snapshot();
  }

  /** Ends the lane as failed: state FAILED is visible to queries and search, then the workflow fails. */
  fail(reason: string): never {
    this.status.failure = reason;
    this.setState('FAILED');
    throw ApplicationFailure.nonRetryable(reason, 'LaneFailed');
  }

  private hold(reason: string): false {
    this.status.holdReason = reason;
    this.setState('HOLD');
    return false;
  }

  private receive(item: Inbound): void {
    if (!this.trustRoot) this.inbox.push(item);
    else this.evaluate(item);
  }

  private evaluate({ signal, raw }: Inbound): void {
    const accepted: readonly SignedAction[] = signal === 'hold' ? ['HOLD'] : this.required;
    const verdict = verifyEnvelope(raw, this.context(accepted), verifyEd25519Strict);
    const receivedAt = new Date(Date.now()).toISOString();
    if (!verdict.ok) {
      const { ok: _ok, ...why } = verdict;
      const id = envelopeIdOf(raw);
      this.status.rejected.push({ ...(id ? { id } : {}), receivedAt, signal, ...why });
      if (this.status.rejected.length > MAX_REJECTED_KEPT) this.status.rejected.shift();
      return;
    }
    const env = verdict.envelope;
    this.usedNonces.add(env.payload.nonce);
    if (signal === 'hold') {
      const by = { keyId: env.signer.keyId, name: env.signer.name };
      this.status.hold ??= { id: env.id, by, receivedAt };
      this.holdRequested ??= `held by owner ${by.name} (${by.keyId}) at ${receivedAt}`;
      return;
    }
    this.grants.push(env);
    this.status.grantsPresent.push(toRecord(env, receivedAt));
    this.changed = true;
  }

  /** Drops expired grants from "present" and recomputes what is missing, at the current workflow time. */
  private refreshGrants(): void {
    const now = Date.now();
    this.status.grantsPresent = this.status.grantsPresent.filter((g) => Date.parse(g.expiresAt) > now);
    this.status.grantsMissing = this.required.filter((a) => this.grantsFor(a).length === 0);
  }

  private context(acceptedActions: readonly SignedAction[]) {
    return {
      trustRoot: this.trustRoot as TrustRoot,
      workflowId: this.status.workflowId,
      changeId: this.status.changeId,
      lane: this.status.lane,
      acceptedActions,
      laneOperatorKeyId: this.status.startedBy?.keyId,
      nowMs: Date.now(),
      usedNonces: this.usedNonces,
    };
  }

  /** Markdown for the Web UI's "current details": what the lane is doing and what a person can do about it. */
  private describe(): string {
    const s = this.status;
    switch (s.state) {
      case 'WAITING_FOR_GRANT':
        return [
          `**Waiting for owner grant:** ${s.grantsMissing.join(', ')}`,
          '',
          `Send it with \`lanes grant ${s.workflowId} ${s.grantsMissing[0]} --key <owner key>\`.`,
          `Silence means HOLD: at ${s.deadline} this lane ends in HOLD and nothing gated runs.`,
        ].join('\n');
      case 'HOLD':
        return `**HOLD** — ${s.holdReason}. Nothing gated ran.`;
      case 'FAILED':
        return `**FAILED** — ${s.failure}`;
      case 'COMPLETED':
        return `**COMPLETED** — evidence tree \`${s.evidence?.treeHash ?? 'none'}\``;
      default:
        return `**${s.state}**`;
    }
  }
}

function toRecord(env: VerifiedEnvelope, receivedAt: string): GrantRecord {
  return {
    id: env.id,
    action: env.payload.action as GrantAction,
    signer: { keyId: env.signer.keyId, name: env.signer.name },
    issuedAt: env.payload.issuedAt,
    expiresAt: env.payload.expiresAt,
    receivedAt,
  };
}
