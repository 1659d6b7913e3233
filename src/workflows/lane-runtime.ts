/**
 * The state every lane shares: who started it, its book of grants (grant-book.ts), what its change entity last
 * told it, and the durable wait that ends in HOLD on silence. Lane workflows own the order of their activities;
 * this class owns the bookkeeping so no lane can get it subtly different.
 *
 * Deterministic by construction: time is workflow time, signatures are checked with pure JS (@noble/curves),
 * and the trust root arrives through an activity, so its content is recorded in history.
 */
import {
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  ApplicationFailure,
} from '@temporalio/workflow';
import { verifyEnvelope } from '../domain/envelope-rules';
import { verifyEd25519Strict } from '../domain/keys';
import { GrantBook, type LaneSignal } from '../domain/grant-book';
import { evaluateGate, nextExpiry, type ChangeView, type GateInput, type GateVerdict } from '../domain/gate-rules';
import { specHashOf } from '../domain/bindings';
import type { ChangeSpec } from '../domain/change-spec';
import type { TrustRoot } from '../domain/trust-root';
import type { LaneStatus, ProbeReport } from '../domain/lane-status';
import { sha256Hex } from '../domain/hashing';
import { MAX_INPUT_BYTES } from '../domain/envelope';
import { applyLaneOutcome, type LedgerEntry } from '../domain/blocker-rules';
import type { LaneWorkRequest } from '../activities/lane-request';
import { decisionMarkdown, decisionPacket, type DecisionPacket } from '../domain/decision-packet';
import { halfApplied, halfAppliedLine, recoveryOptions } from '../domain/recovery';
import type { GrantAction, LaneKind, LaneState } from '../domain/vocabulary';
import { SA_BLOCKERS_OPEN, SA_CHANGE_ID, SA_GRANTS_MISSING, SA_LANE_KIND, SA_LANE_STATE } from '../domain/search-attributes';
import {
  blockersQuery,
  changeViewSignal,
  changeWorkflowId,
  grantSignal,
  holdSignal,
  inputSignal,
  laneFinishedSignal,
  laneStartedSignal,
  nonceClaimSignal,
  revokeSignal,
  statusQuery,
} from './messages';

type Inbound = { signal: LaneSignal; raw: unknown };

export class LaneRuntime {
  private readonly status: LaneStatus;
  readonly change: ChangeSpec;
  private trustRoot?: TrustRoot;
  private book?: GrantBook;
  private readonly inbox: Inbound[] = [];
  private view?: ChangeView;
  /** Nonces accepted here and not yet reported to the change entity. */
  private unreported: string[] = [];
  private readonly reported: string[] = [];
  private holdRequested?: string;
  private armedNote?: string;
  private finalEntry?: LedgerEntry;
  /** The search attribute values last upserted (as JSON). */
  private shownAttributes?: string;
  /** The laneStarted signal, when sent ahead of begin() (register()). */
  private registration?: Promise<void>;
  /** Whether this lane's gate waits for the entity's nonce confirmation (only lanes begun before it stopped). */
  private noncesAwaited?: boolean;
  /** Why reporting nonces to the change entity failed; the lane fails at its next gate evaluation. */
  private reportFailure?: string;
  /** Set by every message that may change the gate's verdict; cleared by the wait. */
  private changed = false;
  /** Operator inputs by envelope id: content and signed envelope (status shows only their hashes). */
  private readonly inputContent = new Map<string, { content: string; envelope: unknown }>();
  /** The operator's signed start: every lane activity is handed it, and re-verifies it at the point of action. */
  private start?: unknown;

  constructor(lane: LaneKind, change: ChangeSpec, required: readonly GrantAction[], shaped = false) {
    this.change = change;
    this.status = {
      workflowId: workflowInfo().workflowId,
      changeId: change.id,
      lane,
      ...(shaped ? { shaped } : {}),
      specHash: specHashOf(change),
      state: 'STARTING',
      requiredGrants: [...required],
      grantsPresent: [],
      grantsMissing: [...required],
      revoked: [],
      rejected: [],
      waitingFor: [],
      blockersOpen: [],
    };
    // Handlers are set before the first await so no signal delivered with the first task is lost.
    setHandler(statusQuery, () => this.snapshot());
    setHandler(blockersQuery, () => this.view?.blockers ?? null);
    setHandler(grantSignal, (raw) => this.receive({ signal: 'grant', raw }));
    setHandler(holdSignal, (raw) => this.receive({ signal: 'hold', raw }));
    setHandler(revokeSignal, (raw) => this.receive({ signal: 'revoke', raw }));
    setHandler(inputSignal, (raw) => this.receive({ signal: 'input', raw }));
    setHandler(changeViewSignal, (view) => this.adoptView(view));
    upsertSearchAttributes([
      { key: SA_CHANGE_ID, value: change.id },
      { key: SA_LANE_KIND, value: lane },
    ]);
  }

  snapshot(): LaneStatus {
    // A copy, so callers cannot mutate lane state; the status is plain JSON (the sandbox has no structuredClone).
    return JSON.parse(JSON.stringify({ ...this.status, rejected: this.book?.rejected ?? [] })) as LaneStatus;
  }

  /**
   * Adopts the trust root, checks the operator's signed start, and registers with the change entity. Envelopes
   * that arrived earlier are judged now, in arrival order. A start that does not verify fails the lane first.
   */
  async begin(trustRoot: TrustRoot, start: unknown, options: { shaped?: boolean; precheckValidForMs?: number; resumeFrom?: string } = {}): Promise<void> {
    this.trustRoot = trustRoot;
    this.status.trustRootFingerprint = trustRoot.fingerprint;
    const s = this.status;
    const runId = workflowInfo().runId;
    // The start names the trust root it was signed under: a lane whose workers hold another one fails here.
    const verdict = verifyEnvelope(
      start,
      { trustRoot, workflowId: s.workflowId, changeId: s.changeId, lane: s.lane, runId, specHash: s.specHash, acceptedActions: ['START_LANE'], nowMs: Date.now(), usedNonces: new Set() },
      verifyEd25519Strict,
    );
    if (!verdict.ok) this.fail(`lane start refused: ${verdict.reason}`);
    // What the lane does beyond its spec (a production-shaped clone, how long a precheck stands) is what was signed.
    const signed = verdict.envelope.payload;
    if ((signed.shaped === true) !== (options.shaped === true) || signed.precheckValidForMs !== options.precheckValidForMs) {
      this.fail('lane start refused: the lane input asks for other options (shaped, precheck validity) than the signed start names');
    }
    // A resume is what the operator signed, never what the input says (both are absent on every lane begun before
    // resumes existed, so their histories replay unchanged).
    if (signed.resumeFrom !== options.resumeFrom) this.fail('lane start refused: the lane input asks to resume from another step than the signed start names');
    if (signed.resumeFrom !== undefined) {
      const at = this.change.steps.findIndex((x) => x.id === signed.resumeFrom);
      if (at < 0) this.fail(`lane start refused: it resumes from step ${signed.resumeFrom}, which the change does not declare`);
      if (at === 0) this.fail(`lane start refused: resuming from the first step ${signed.resumeFrom} is a plain ${s.lane}; start one without --resume-from`);
      this.status.resumeFrom = signed.resumeFrom;
    }
    this.start = start;
    const startedBy = { keyId: verdict.envelope.signer.keyId, name: verdict.envelope.signer.name };
    s.startedBy = startedBy;
    const laneOperator = { ...startedBy, person: verdict.envelope.signer.person };
    this.book = new GrantBook(
      { trustRoot, workflowId: s.workflowId, runId, specHash: s.specHash!, startId: verdict.envelope.id, changeId: s.changeId, lane: s.lane, accepts: s.requiredGrants, laneOperator },
      verifyEd25519Strict,
    );
    this.book.useNonce(verdict.envelope.payload.nonce);
    this.unreported.push(verdict.envelope.payload.nonce);
    for (const item of this.inbox.splice(0)) this.evaluate(item);
    try {
      await (this.registration ?? this.register());
    } catch (err) {
      this.fail(`cannot register with the change entity ${changeWorkflowId(s.changeId)}: ${(err as Error).message}; start lanes with \`lanes start\`, which creates it`);
    }
  }

  /**
   * Tells the change entity this lane runs, which answers with its view (the gate needs it). Sent before the trust
   * root is loaded and the start verified, so the answer is on its way while they are; begin() awaits it, and a lane
   * whose start does not verify still reports its outcome (FAILED), as every lane does. Registration is bookkeeping:
   * a namespace writer can send this signal anyway, and no view opens a gate the point of action would not.
   */
  register(): Promise<void> {
    const s = this.status;
    this.registration = getExternalWorkflowHandle(changeWorkflowId(s.changeId)).signal(laneStartedSignal, {
      workflowId: s.workflowId,
      lane: s.lane,
      shaped: s.shaped ?? false,
      specHash: s.specHash!,
    });
    // Awaited (and its failure reported) by begin(); this keeps a lane that fails before then from leaving it unhandled.
    this.registration.catch(() => undefined);
    return this.registration;
  }

  /**
   * Waits durably until the gate lets `required` through (see gate-rules.ts), an owner holds, or the deadline
   * passes. Returns the verdict only in the first case, evaluated after the last await: the caller schedules its
   * gated activity in the same workflow task, so nothing can slip in between the check and the scheduling.
   */
  async awaitGate(timeoutMs: number): Promise<GateVerdict | undefined> {
    const deadline = Date.now() + timeoutMs;
    this.status.deadline = new Date(deadline).toISOString();
    for (;;) {
      // Reported in the same workflow task as whatever the verdict schedules: the gate no longer waits for the
      // entity's answer (gate-rules.ts). Lanes begun while it did replay as they ran; the patch is asked first so
      // their histories see the report before the charter's patch marker, as they recorded it.
      this.noncesAwaited ??= !patched('nonce-claims-reported-not-awaited');
      if (this.noncesAwaited) await this.reportNonces();
      else this.reportNoncesInBackground();
      const input = this.gateInput();
      const verdict = this.publish(evaluateGate(input));
      if (this.holdRequested) return this.hold(this.holdRequested);
      if (verdict.ready) {
        this.status.deadline = undefined;
        return verdict;
      }
      this.setState('WAITING_FOR_GRANT');
      const now = Date.now();
      if (now >= deadline) return this.hold(`nothing proceeds on silence: at the deadline ${this.status.deadline} the lane was still waiting for ${verdict.waitingFor.join('; ')}`);
      const wake = Math.min(deadline, nextExpiry(input) ?? deadline);
      this.changed = false;
      await condition(() => this.holdRequested !== undefined || this.changed || this.unreported.length > 0, Math.max(1, wake - now));
    }
  }

  /** What a lane activity receives once the gate let it through. */
  workRequest(verdict: GateVerdict): LaneWorkRequest {
    return {
      workflowId: this.status.workflowId,
      change: this.change,
      start: this.start,
      grants: verdict.usable.map((g) => ({ payload: g.payload, signature: g.signature })),
      trustRootFingerprint: this.status.trustRootFingerprint!,
      ...(this.status.shaped ? { shaped: true } : {}),
      ...(this.status.inputs?.length
        ? { inputs: this.status.inputs.map((i) => ({ kind: i.kind, sha256: i.sha256, ...this.inputContent.get(i.id)!, by: `${i.by.name} (${i.by.keyId})` })) }
        : {}),
    };
  }

  /** Keeps the probe tally (N/N fail closed); a probe that was accepted means a broken gate, so the lane fails. */
  recordProbes(report: ProbeReport): void {
    const accepted = report.results.filter((r) => !r.failedClosed);
    this.status.probes = { total: report.total, failedClosed: report.failedClosed, accepted: accepted.map((r) => r.id) };
    if (accepted.length > 0) {
      this.fail(`bad-input probe accepted, failing closed: ${accepted.map((r) => `"${r.id}" (${r.detail})`).join('; ')}`);
    }
  }

  /** The step records of an execution lane. */
  setSteps(steps: LaneStatus['steps']): void {
    this.status.steps = steps;
  }

  /**
   * Sets the state and refreshes the UI details; the search attributes are upserted only when what they show
   * changed, so a lane woken by every change-entity message does not add an event to its history each time.
   */
  setState(state: LaneState): void {
    this.status.state = state;
    const attributes = { state, missing: [...this.status.grantsMissing], blockers: this.status.blockersOpen.length };
    const shown = JSON.stringify(attributes);
    if (shown !== this.shownAttributes) {
      this.shownAttributes = shown;
      upsertSearchAttributes([
        { key: SA_LANE_STATE, value: attributes.state },
        { key: SA_GRANTS_MISSING, value: attributes.missing },
        { key: SA_BLOCKERS_OPEN, value: attributes.blockers },
      ]);
    }
    setCurrentDetails(this.describe());
  }


  complete(evidence: LaneStatus['evidence']): LaneStatus {
    this.status.evidence = evidence;
    // In the memo too, so the tree hash shows in the UI's and `temporal workflow describe`'s summary of the lane.
    if (evidence) upsertMemo({ evidenceTree: evidence.treeHash, evidenceDir: evidence.dir });
    this.status.deadline = undefined;
    this.setState('COMPLETED');
    return this.snapshot();
  }

  /** Ends the lane as failed: state FAILED is visible to queries and search, then the workflow fails. */
  fail(reason: string): never {
    this.markFailed(reason);
    throw ApplicationFailure.nonRetryable(reason, 'LaneFailed');
  }

  markFailed(reason: string): void {
    this.status.failure ??= reason;
    this.status.deadline = undefined;
    this.setState('FAILED');
  }

  /** The decision packet for the lane's current state, rendered from durable state (pure). */
  decision(): { changeId: string; workflowId: string; json: DecisionPacket; markdown: string } {
    // The entity applies this lane's outcome after the lane has stopped listening, so project it here the same way.
    const entry = this.finalEntry;
    const view = this.view && entry ? projectOutcome(this.view, entry) : this.view;
    const packet = decisionPacket(this.snapshot(), view);
    return { changeId: this.status.changeId, workflowId: this.status.workflowId, json: packet, markdown: decisionMarkdown(packet) };
  }

  noteDecisionPacket(path: string): void {
    this.status.decisionPacket = path;
  }

  /** Tells the change entity how the lane ended, for its ledger and blocker map. A lost report only blocks more. */
  async reportOutcome(extra: Partial<LedgerEntry> = {}): Promise<void> {
    const s = this.status;
    const outcome = s.state === 'COMPLETED' ? 'COMPLETED' : s.state === 'HOLD' ? 'HOLD' : 'FAILED';
    const entry: LedgerEntry = {
      workflowId: s.workflowId,
      lane: s.lane,
      shaped: s.shaped ?? false,
      outcome,
      specHash: s.specHash!,
      finishedAt: new Date(Date.now()).toISOString(),
      ...(s.evidence ? { treeHash: s.evidence.treeHash } : {}),
      // The operator inputs its packet records: what a blocker move may rest on (checked again from the packet).
      ...(s.evidence && s.inputs?.length ? { inputs: s.inputs.map((i) => i.sha256) } : {}),
      ...extra,
    };
    this.finalEntry = entry;
    await getExternalWorkflowHandle(changeWorkflowId(s.changeId))
      .signal(laneFinishedSignal, entry)
      .catch(() => undefined);
  }

  /** Ends the lane in HOLD now, for a reason the lane itself found (an armed step's window lapsed). */
  holdNow(reason: string): undefined {
    return this.hold(reason);
  }

  /**
   * What an armed step last found on production (its failing precondition): named in the hold reason if an owner
   * holds (disarms) it while it waits, so the HOLD says what stood in the way.
   */
  noteArmed(note: string | undefined): void {
    this.armedNote = note;
  }

  /** Waits up to `ms` of workflow time; true as soon as an owner's HOLD has arrived. */
  async heldWithin(ms: number): Promise<boolean> {
    return condition(() => this.holdRequested !== undefined, Math.max(1, ms));
  }

  private hold(reason: string): undefined {
    if (this.armedNote) reason = `${reason}; the armed step was waiting on: ${this.armedNote}`;
    this.status.holdReason = reason;
    this.status.deadline = undefined;
    this.setState('HOLD');
    return undefined;
  }

  private gateInput(): GateInput {
    const s = this.status;
    return {
      workflowId: s.workflowId,
      changeId: s.changeId,
      lane: s.lane,
      required: s.requiredGrants,
      thresholds: this.trustRoot?.thresholds ?? {},
      grants: this.book?.grants ?? [],
      revoked: this.book?.revoked ?? new Set(),
      nowMs: Date.now(),
      specHash: s.specHash!,
      change: this.view,
      // Lanes begun before the charter existed replay as they ran; every new gate evaluation requires it.
      charterRequired: patched('blocker-charter'),
      awaitNonceConfirmation: this.noncesAwaited ?? true,
    };
  }

  /** Copies a verdict into the status the query, the search attributes and the UI show. */
  private publish(verdict: GateVerdict): GateVerdict {
    const s = this.status;
    // "Present" is every accepted grant still unexpired and unrevoked; whether the gate counts it is `waitingFor`.
    const now = Date.now();
    const revoked = this.book?.revoked ?? new Set<string>();
    s.grantsPresent = s.grantsPresent.filter((g) => Date.parse(g.expiresAt) > now && !revoked.has(g.id));
    s.grantsMissing = verdict.grantsMissing;
    s.blockersOpen = verdict.blockersOpen;
    s.waitingFor = verdict.waitingFor;
    s.revoked = [...(this.book?.revoked ?? [])];
    return verdict;
  }

  /**
   * Reports the nonces accepted so far without waiting for the signal to be delivered. A lost change entity fails
   * the lane at its next gate evaluation (reportFailure), as the awaited report did.
   */
  private reportNoncesInBackground(): void {
    if (this.reportFailure) this.fail(this.reportFailure);
    this.sendNonces()?.catch((err: Error) => {
      this.reportFailure = this.unreachable(err);
      this.changed = true;
    });
  }

  private async reportNonces(): Promise<void> {
    const sent = this.sendNonces();
    if (!sent) return;
    await sent.catch((err: Error) => this.fail(this.unreachable(err)));
  }

  /** Signals the nonces not yet reported to the change entity; undefined when there are none. */
  private sendNonces(): Promise<void> | undefined {
    if (this.unreported.length === 0) return undefined;
    const nonces = this.unreported.splice(0);
    this.reported.push(...nonces);
    return getExternalWorkflowHandle(changeWorkflowId(this.status.changeId)).signal(nonceClaimSignal, { workflowId: this.status.workflowId, nonces });
  }

  private unreachable(err: Error): string {
    return `the change entity ${changeWorkflowId(this.status.changeId)} cannot be reached: ${err.message}`;
  }

  private receive(item: Inbound): void {
    if (!this.book) this.inbox.push(item);
    else this.evaluate(item);
  }

  private evaluate({ signal, raw }: Inbound): void {
    if (signal === 'input') return this.evaluateInput(raw);
    const receipt = this.book!.receive(signal, raw, Date.now());
    if (receipt.kind === 'rejected') return;
    const env = receipt.envelope;
    this.unreported.push(env.payload.nonce);
    const receivedAt = new Date(Date.now()).toISOString();
    if (receipt.kind === 'hold') {
      const by = { keyId: env.signer.keyId, name: env.signer.name };
      this.status.hold ??= { id: env.id, by, receivedAt };
      this.holdRequested ??= `held by owner ${by.name} (${by.keyId}) at ${receivedAt}`;
    }
    if (receipt.kind === 'grant') {
      // Shown at once (the CLI polls for it); publish() later keeps only what the gate counts.
      this.status.grantsPresent.push({
        id: env.id,
        action: env.payload.action as GrantAction,
        signer: { keyId: env.signer.keyId, name: env.signer.name },
        issuedAt: env.payload.issuedAt,
        expiresAt: env.payload.expiresAt,
        receivedAt,
      });
    }
    if (receipt.kind === 'revoke') this.status.revoked = [...this.book!.revoked];
    this.changed = true;
  }

  /**
   * An operator input: the signed envelope names the content's sha256 and kind; the content must match it
   * byte for byte. Accepted inputs are shown in status and go, with their content, into the evidence packet.
   */
  private evaluateInput(raw: unknown): void {
    const { envelope, content } = (raw ?? {}) as { envelope?: unknown; content?: unknown };
    const now = Date.now();
    const signed = (envelope as { payload?: { inputSha256?: unknown } } | undefined)?.payload?.inputSha256;
    if (typeof content !== 'string') return this.book!.refuse(envelope ?? raw, 'input', now, 'MALFORMED', 'an operator input needs its content as text');
    const bytes = new TextEncoder().encode(content);
    if (bytes.length > MAX_INPUT_BYTES) return this.book!.refuse(envelope, 'input', now, 'MALFORMED', `the input is ${bytes.length} bytes; the limit is ${MAX_INPUT_BYTES}`);
    if (sha256Hex(bytes) !== signed) return this.book!.refuse(envelope, 'input', now, 'MALFORMED', 'the content does not match the sha256 the operator signed (inputSha256)');
    const receipt = this.book!.receive('input', envelope, now);
    if (receipt.kind !== 'input') return;
    const env = receipt.envelope;
    this.unreported.push(env.payload.nonce);
    const by = { keyId: env.signer.keyId, name: env.signer.name };
    (this.status.inputs ??= []).push({ id: env.id, kind: env.payload.inputKind!, sha256: env.payload.inputSha256!, bytes: bytes.length, by, receivedAt: new Date(now).toISOString() });
    this.inputContent.set(env.id, { content, envelope });
    this.changed = true;
  }

  /** Keeps the newest view; grants whose nonce another lane of the change used first stop counting. */
  private adoptView(view: ChangeView): void {
    if (this.view && view.version < this.view.version) return;
    this.view = view;
    for (const g of [...(this.book?.grants ?? [])]) {
      const claimant = view.nonceClaims[g.payload.nonce];
      if (claimant !== undefined && claimant !== this.status.workflowId) {
        this.book!.disown(g.id, 'REPLAYED', `nonce ${g.payload.nonce} was already used by ${claimant}, another lane of change ${this.status.changeId}`, Date.now());
        this.status.grantsPresent = this.status.grantsPresent.filter((p) => p.id !== g.id);
      }
    }
    this.changed = true;
  }

  /** Markdown for the Web UI's "current details": what the lane is doing and what a person can do about it. */
  private describe(): string {
    const s = this.status;
    switch (s.state) {
      case 'WAITING_FOR_GRANT': {
        const blockers = s.blockersOpen.length > 0 ? `; ${s.blockersOpen.length} blocker${s.blockersOpen.length === 1 ? '' : 's'} open` : '';
        const lines = [
          s.grantsMissing.length > 0
            ? `**Waiting for ${s.grantsMissing.join(', ')} from an owner**${blockers}`
            : `**Waiting** for ${s.waitingFor.join('; ')}`,
          '',
          ...s.waitingFor.map((w) => `- ${w}`),
          '',
        ];
        if (s.grantsMissing[0]) lines.push(`Grant with \`lanes grant ${s.workflowId} ${s.grantsMissing[0]} --key <owner key>\`.`);
        lines.push(`Silence means HOLD: at ${s.deadline} this lane ends in HOLD and nothing gated runs.`);
        return lines.join('\n');
      }
      case 'HOLD': {
        const half = halfApplied(s);
        return `**HOLD** — ${s.holdReason}. Nothing gated ran after the wait.${half ? `\n\n**${halfAppliedLine(half)}.** Choose one: ${recoveryOptions(half).map((o) => o.text).join('; or ')}.` : ''}`;
      }
      case 'FAILED': {
        const half = halfApplied(s);
        return `**FAILED** — ${s.failure}${half ? `\n\n**${halfAppliedLine(half)}.** Hold, or choose one: ${recoveryOptions(half).map((o) => o.text).join('; or ')}.` : ''}`;
      }
      case 'COMPLETED':
        return `**COMPLETED** — evidence tree \`${s.evidence?.treeHash ?? 'none'}\``;
      case 'RUNNING': {
        const step = s.steps?.find((x) => x.state === 'RUNNING');
        if (step?.armedUntil) return `**RUNNING** step ${step.id} (${step.action}), **armed until ${step.armedUntil}**${step.lastCheck ? `\n\nLast check: ${step.lastCheck}` : ''}\n\nDisarm with \`lanes disarm ${s.workflowId} --key <owner key>\`.`;
        return step ? `**RUNNING** step ${step.id} (${step.action})` : `**RUNNING** the ${s.lane} lane's authorised work`;
      }
      default:
        return `**${s.state}**`;
    }
  }
}

/** The change view as it will be once the entity records `entry` (same rules as the entity applies). */
function projectOutcome(view: ChangeView, entry: LedgerEntry): ChangeView {
  const done = entry.outcome === 'COMPLETED';
  return {
    ...view,
    ...(view.blockers ? { blockers: applyLaneOutcome(view.blockers, view.rules, entry) } : {}),
    ...(done && entry.lane === 'rehearsal' ? { latestRehearsal: entry } : {}),
    ...(done && entry.lane === 'precheck' ? { latestPrecheck: entry } : {}),
  };
}
