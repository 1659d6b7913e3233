/**
 * The point-of-action verifier (DESIGN.md §The gate, layer 2): the one place that says yes before an activity
 * touches a database or writes evidence. Both workers' interceptors call it; it trusts nothing in the request or in
 * workflow memory. From signatures and content hashes alone it establishes:
 *   - the change spec it is asked to act on parses with the same schema as the CLI's, and its canonical hash is the
 *     one the operator's START and every grant name (so this SQL, on this target, is what was approved);
 *   - the START is the operator's, for this workflow id, this lane kind, this spec and the worker's own trust root;
 *   - the caller's workflow type is the lane's (a workflow of another type gets nothing);
 *   - every grant is an owner's (not the person who started the lane), bound to this workflow id *and run*, spec,
 *     lane and trust root, unexpired by the worker's clock, and together they meet every required action's
 *     threshold of distinct owners.
 * Pure: the worker passes its clock, its trust root file and a node:crypto signature check. The evidence checks a
 * production step adds (rehearsal, precheck, blocker state) are below, as pure functions of the files they read.
 */
import { applyLaneOutcome, blockersBlockingExecution, moveBlocker, type LedgerEntry } from './blocker-rules';
import { blockerMapSchema, type BlockerMap } from './blocker-map';
import { blockerStateHash, specHashOf } from './bindings';
import { canonicalize } from './canonical-json';
import { changeSpecSchema, type ChangeSpec } from './change-spec';
import { claimedIssueTime, verifyEnvelope, type RejectCode, type VerifiedEnvelope } from './envelope-rules';
import type { TargetIdentity } from './isolation';
import { formatDuration } from './duration';
import type { SignatureCheck } from './keys';
import { thresholdFor, type TrustRoot } from './trust-root';
import { LANE_KINDS, type GrantAction, type LaneKind } from './vocabulary';
import { LANE_WORKFLOW_TYPES } from '../workflows/registry';

/** Who is asking, from the activity's own info (Temporal's record of the scheduling workflow), never the request. */
export interface ActivityCaller {
  workflowId: string;
  runId: string;
  workflowType: string;
}

export interface LaneAuthorizationInput {
  caller: ActivityCaller;
  /** The worker's own trust root file, read now. */
  trustRoot: TrustRoot;
  /** The lane kind the activity belongs to; 'any' for work every lane does (its decision packet). */
  lane: LaneKind | 'any';
  change: unknown;
  start: unknown;
  grants: unknown;
  /** The grant actions this activity needs, given the verified change and lane. */
  /** `start` is the verified START's payload: what the operator signed (e.g. a resume) may change what is needed. */
  required: (change: ChangeSpec, lane: LaneKind, start: VerifiedEnvelope['payload']) => readonly GrantAction[];
  nowMs: number;
  /**
   * Judge each grant as of its own issue time: for recording work that was already authorised (and verified) at
   * the time it ran, whose grants may have expired since. Never for work that acts.
   */
  grantsAsOfIssue?: boolean;
}

export type RefusalCode = RejectCode | 'MALFORMED_REQUEST' | 'WORKFLOW_TYPE' | 'MISSING' | 'THRESHOLD' | 'EVIDENCE' | 'BLOCKERS';

export interface LaneAuthorization {
  lane: LaneKind;
  change: ChangeSpec;
  specHash: string;
  /** The verified START: who started the lane, and the options (shaped, precheck validity) they signed. */
  start: VerifiedEnvelope;
  operator: { keyId: string; name: string };
  grants: VerifiedEnvelope[];
}

export type Verdict<T> = ({ ok: true } & T) | { ok: false; code: RefusalCode; reason: string };

export function verifyLaneAuthorization(input: LaneAuthorizationInput, checkSignature: SignatureCheck): Verdict<LaneAuthorization> {
  const refuse = (code: RefusalCode, reason: string) => ({ ok: false as const, code, reason });
  const parsed = changeSpecSchema.safeParse(input.change);
  if (!parsed.success) return refuse('MALFORMED_REQUEST', `the change spec in the request is not valid: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  const change = parsed.data;
  const specHash = specHashOf(change);
  const claimedLane = (input.start as { payload?: { lane?: unknown } } | null)?.payload?.lane;
  const lane = input.lane === 'any' ? (LANE_KINDS as readonly unknown[]).includes(claimedLane) ? (claimedLane as LaneKind) : undefined : input.lane;
  if (!lane) return refuse('MALFORMED_REQUEST', 'the request carries no signed lane start');
  if (input.caller.workflowType !== LANE_WORKFLOW_TYPES[lane]) {
    return refuse('WORKFLOW_TYPE', `${lane} work runs only for a ${LANE_WORKFLOW_TYPES[lane]} workflow, not for a ${input.caller.workflowType}`);
  }
  const base = { trustRoot: input.trustRoot, workflowId: input.caller.workflowId, runId: input.caller.runId, changeId: change.id, lane, specHash };
  // The start proved the operator when the lane began: it is judged as of its own issue time, and binds no run
  // (it is signed before the run exists). What it authorises on its own is only work that needs no grant.
  const start = verifyEnvelope(input.start, { ...base, acceptedActions: ['START_LANE'], nowMs: claimedIssueTime(input.start), usedNonces: new Set() }, checkSignature);
  if (!start.ok) return refuse(start.code, `lane start: ${start.reason}`);
  const operator = { keyId: start.envelope.signer.keyId, name: start.envelope.signer.name, person: start.envelope.signer.person };

  const required = [...new Set(input.required(change, lane, start.envelope.payload))];
  if (!Array.isArray(input.grants)) return refuse('MALFORMED_REQUEST', 'the request carries no list of grants');
  const nonces = new Set<string>([start.envelope.payload.nonce]);
  const signers = new Map<GrantAction, Set<string>>(required.map((a) => [a, new Set()]));
  const grants: VerifiedEnvelope[] = [];
  for (const [i, raw] of (input.grants as unknown[]).entries()) {
    const at = input.grantsAsOfIssue ? claimedIssueTime(raw) : input.nowMs;
    const v = verifyEnvelope(raw, { ...base, startId: start.envelope.id, acceptedActions: required, laneOperator: operator, nowMs: at, usedNonces: nonces }, checkSignature);
    if (!v.ok) return refuse(v.code, `grant ${i + 1}: ${v.reason}`);
    nonces.add(v.envelope.payload.nonce);
    signers.get(v.envelope.payload.action as GrantAction)!.add(v.envelope.signer.person);
    grants.push(v.envelope);
  }
  for (const action of required) {
    const have = signers.get(action)!.size;
    const need = thresholdFor(input.trustRoot, action);
    if (have === 0) return refuse('MISSING', `no valid ${action} grant for this run was presented`);
    if (have < need) return refuse('THRESHOLD', `${action} has ${have} of ${need} distinct owners (people, as the trust root lists them)`);
  }
  return { ok: true, lane, change, specHash, start: start.envelope, operator, grants };
}

/** The grants of one action among verified ones. */
export function grantsFor(grants: readonly VerifiedEnvelope[], action: GrantAction): VerifiedEnvelope[] {
  return grants.filter((g) => g.payload.action === action);
}

/** A packet's `change.json`, re-hashed: the spec the packet's lane ran. */
function packetSpecHash(changeJson: unknown): string | undefined {
  const parsed = changeSpecSchema.safeParse(changeJson);
  return parsed.success ? specHashOf(parsed.data) : undefined;
}

/** Why a (verified, re-hashed) packet is not a PASSED rehearsal of this spec; undefined when it is. */
export function rehearsalEvidenceProblem(files: { rehearsal: unknown; change: unknown }, specHash: string): string | undefined {
  const status = (files.rehearsal as { proof?: { status?: unknown } } | null)?.proof?.status;
  if (status !== 'PASSED') return `it is not a passed rehearsal (rehearsal.json proof status ${JSON.stringify(status ?? null)})`;
  const ran = packetSpecHash(files.change);
  if (ran !== specHash) return `it rehearsed change spec ${ran?.slice(0, 16) ?? '(unreadable)'}…, not this spec ${specHash.slice(0, 16)}…`;
  return undefined;
}

/** The longest a passed precheck may stand for, whatever it asked: a stale look at production proves little. */
export const MAX_PRECHECK_AGE_MS = 24 * 60 * 60 * 1000;

/** Why a (verified, re-hashed) packet is not a fresh passed precheck of this spec on this production. */
export function precheckEvidenceProblem(
  files: { precheck: unknown; change: unknown },
  specHash: string,
  production: TargetIdentity,
  nowMs: number,
  /** The trust root's limit on precheck validity (never above MAX_PRECHECK_AGE_MS). */
  maxAgeMs: number = MAX_PRECHECK_AGE_MS,
): string | undefined {
  const p = files.precheck as { status?: unknown; checkedAt?: unknown; validUntil?: unknown; production?: { identity?: unknown } } | null;
  if (p?.status !== 'PASSED') return `it is not a passed precheck (precheck.json status ${JSON.stringify(p?.status ?? null)})`;
  const ran = packetSpecHash(files.change);
  if (ran !== specHash) return `it prechecked change spec ${ran?.slice(0, 16) ?? '(unreadable)'}…, not this spec ${specHash.slice(0, 16)}…`;
  if (canonicalize(p.production?.identity ?? null) !== canonicalize(production)) return 'it looked at another production than the one this step would change';
  const checked = Date.parse(String(p.checkedAt));
  const until = Date.parse(String(p.validUntil));
  if (Number.isNaN(checked) || Number.isNaN(until)) return 'it records no checkedAt/validUntil';
  const max = Math.min(maxAgeMs, MAX_PRECHECK_AGE_MS);
  if (until - checked > max) return `it claims validity for longer than the trust root allows (${formatDuration(max)})`;
  if (until <= nowMs) return `it was valid until ${String(p.validUntil)}`;
  return undefined;
}

/** What the evidence store says of a tree a blocker proof names: which change, spec and lane kind produced it. */
export interface LaneOfTree {
  changeId: string;
  specHash: string;
  lane: LaneKind;
  shaped: boolean;
  /** The lane proved what it set out to (a PASSED rehearsal or precheck, a dry-run with entry == exit; scoping: ran). */
  passed: boolean;
  /** The sha256 of every operator input its packet records (`inputs/…`), re-hashed from the verified files. */
  inputs: string[];
  /**
   * The lane ran no earlier than this: the latest issue time among the signed grants its packet records. What a
   * lane's outcome is ordered by (a presented proof's own `at` is nobody's signature).
   */
  notBefore?: string;
}

/** Where the replay takes its moves from: the server's record, the evidence store, the owners' charter. */
export interface ReplaySources {
  /**
   * Every BLOCKER_UPDATE signal the Temporal server recorded for the change entity, in all its runs, with the time it
   * recorded each: an attacker who resets the entity or presents a chosen subset cannot leave out an owner's reopen.
   */
  moves: readonly { envelope: unknown; at: number }[];
  /** A signed blocker move of this change and spec, verified under the pinned trust root as of `nowMs`. */
  verifyUpdate: (envelope: unknown, nowMs: number) => VerifiedEnvelope | undefined;
  laneOf: (tree: string) => LaneOfTree | undefined;
  /** When the owners chartered the map and rules: nothing recorded or run before that moved anything. */
  charteredAtMs?: number;
}

/**
 * The blocker map as far as signatures and evidence carry it: the spec's declared map, then every signed
 * BLOCKER_UPDATE the server recorded (each judged as of the moment it was recorded, in that order, each nonce once)
 * and every lane-outcome move the presented map names whose evidence tree the store resolves to a passed lane of
 * this change, replayed through the same rules the change entity applies. A status the presented map claims
 * without such a chain does not count: a crafted or reset change entity cannot close a blocker.
 */
export function replayBlockerState(presented: BlockerMap | null, change: ChangeSpec, src: ReplaySources): BlockerMap | undefined {
  // The declared map is part of the chartered spec (its statuses are what the owners approved there), but proofs
  // come only from signatures and evidence: any the spec itself carries are dropped.
  const declared = change.blockers?.map;
  if (!declared) return undefined;
  const charteredAtMs = src.charteredAtMs ?? 0;
  let map: BlockerMap = { ...declared, blockers: declared.blockers.map(({ proofs: _declared, ...b }) => b) };
  const rules = change.blockers?.rules;
  const specHash = specHashOf(change);
  // The ledger moves are judged against: only packets of this very spec, as the evidence store verifies them. Which
  // of them may prove what (passed, of the rule's lane kind, never scoping; inputs it recorded) is moveBlocker's call.
  const ledger: LedgerEntry[] = [];
  const resolved = (tree: string): LaneOfTree | undefined => {
    const info = src.laneOf(tree);
    if (!info || info.changeId !== change.id || info.specHash !== specHash) return undefined;
    if (!ledger.some((e) => e.treeHash === tree)) {
      ledger.push({ workflowId: '', lane: info.lane, shaped: info.shaped, outcome: info.passed ? 'COMPLETED' : 'FAILED', specHash, finishedAt: '', treeHash: tree, inputs: info.inputs });
    }
    return info;
  };
  type Event = { at: number; move: VerifiedEnvelope } | { at: number; outcome: { workflowId: string; tree: string; info: LaneOfTree } };
  const events: Event[] = [];
  // Signed moves where the server recorded them, judged as of then: a back-dated move still sorts after a reopen.
  const seen = new Set<string>();
  for (const { envelope, at } of src.moves) {
    const v = src.verifyUpdate(envelope, at);
    if (!v || v.payload.action !== 'BLOCKER_UPDATE' || seen.has(v.payload.nonce) || at < charteredAtMs) continue;
    seen.add(v.payload.nonce);
    events.push({ at, move: v });
  }
  // Lane outcomes at the time the packet's signed grants prove, once per tree, never before the charter.
  for (const proof of (presented?.blockers ?? []).flatMap((bl) => bl.proofs ?? [])) {
    if (proof.envelope !== undefined || proof.kind !== 'evidence' || !proof.workflowId || !proof.treeHash) continue;
    const info = resolved(proof.treeHash);
    const at = info?.notBefore ? Date.parse(info.notBefore) : NaN;
    if (!info?.passed || info.lane === 'scoping' || Number.isNaN(at) || at < charteredAtMs || events.some((e) => 'outcome' in e && e.outcome.tree === proof.treeHash)) continue;
    events.push({ at, outcome: { workflowId: proof.workflowId, tree: proof.treeHash, info } });
  }
  events.sort((x, y) => x.at - y.at);
  for (const e of events) {
    if ('outcome' in e) {
      const { workflowId, tree, info } = e.outcome;
      map = applyLaneOutcome(map, rules, { workflowId, lane: info.lane, shaped: info.shaped, outcome: 'COMPLETED', specHash, finishedAt: new Date(e.at).toISOString(), treeHash: tree });
      continue;
    }
    const v = e.move;
    if (v.payload.evidenceTree) resolved(v.payload.evidenceTree);
    const moved = moveBlocker(
      map,
      rules,
      {
        blockerId: v.payload.blockerId!,
        to: v.payload.blockerStatus!,
        signer: { keyId: v.signer.keyId, role: v.signer.role, person: v.signer.person },
        envelopeId: v.id,
        at: new Date(e.at).toISOString(),
        ...(v.payload.evidenceTree ? { treeHash: v.payload.evidenceTree } : {}),
        ...(v.payload.inputSha256 ? { inputSha256: v.payload.inputSha256 } : {}),
      },
      ledger,
      { reopenWithoutProof: true },
    );
    if (moved.ok) map = moved.map;
  }
  return map;
}

/**
 * Why the blocker state the OPT4_PRODUCTION grants approve does not let this execution act; undefined when it does.
 * The presented map counts only through its signed hash (every OPT4 grant must name exactly it) and only as far as
 * its chain of signed moves carries it (replayBlockerState); no blocker open in that replay may block the lane.
 */
export function blockerStateProblem(
  state: unknown,
  change: ChangeSpec,
  grants: readonly VerifiedEnvelope[],
  required: readonly GrantAction[],
  src: ReplaySources,
): string | undefined {
  const map = state === null ? null : blockerMapSchema.safeParse(state);
  if (map !== null && !map.success) return 'the blocker map state in the request is not a blocker map';
  const presented: BlockerMap | null = map === null ? null : map.data;
  const hash = blockerStateHash(state as BlockerMap | null);
  const opt4 = grantsFor(grants, 'OPT4_PRODUCTION');
  if (opt4.length === 0 || opt4.some((g) => g.payload.blockersHash !== hash)) {
    return `OPT4_PRODUCTION approves blocker map state ${opt4.map((g) => g.payload.blockersHash?.slice(0, 16)).join(', ') || '(none)'}…, not the state presented (${hash.slice(0, 16)}…)`;
  }
  const replayed = replayBlockerState(presented, change, src);
  const satisfied = new Set(grants.map((g) => g.payload.action as GrantAction));
  const open = blockersBlockingExecution(replayed, change.blockers?.rules, required, satisfied);
  if (open.length > 0) return `blocker${open.length === 1 ? '' : 's'} open as far as signed moves and evidence carry the approved state: ${open.map((b) => `${b.id} (${b.status})`).join(', ')}`;
  return undefined;
}

/** A signal the server recorded in the run's history: its name and first argument. */
export interface RecordedSignal {
  name: string;
  payload: unknown;
  /** When the server recorded it (ms since the epoch). */
  at?: number;
}

/**
 * Why owners' withdrawals stop this run; undefined when none does. Read from the run's history as the server recorded
 * it (not from the workflow's memory, which a rogue worker controls): a valid HOLD for this run stops everything;
 * a valid REVOKE stops the grant it names. Each is judged as of its own issue time: once sent, it stands.
 */
export function withdrawalProblem(
  signals: readonly RecordedSignal[],
  auth: LaneAuthorization & { caller: ActivityCaller },
  trustRoot: TrustRoot,
  checkSignature: SignatureCheck,
): string | undefined {
  const inUse = new Set(auth.grants.map((g) => g.id));
  for (const { name, payload } of signals) {
    if (name !== 'hold' && name !== 'revoke') continue;
    const v = verifyEnvelope(
      payload,
      {
        trustRoot,
        workflowId: auth.caller.workflowId,
        runId: auth.caller.runId,
        startId: auth.start.id,
        specHash: auth.specHash,
        changeId: auth.change.id,
        lane: auth.lane,
        acceptedActions: [name === 'hold' ? 'HOLD' : 'REVOKE'],
        nowMs: claimedIssueTime(payload),
        usedNonces: new Set(),
      },
      checkSignature,
    );
    if (!v.ok) continue;
    if (name === 'hold') return `an owner (${v.envelope.signer.name}) held this lane at ${v.envelope.payload.issuedAt}`;
    if (inUse.has(v.envelope.payload.revokes!)) return `grant ${v.envelope.payload.revokes!.slice(0, 16)}… was revoked by ${v.envelope.signer.name} at ${v.envelope.payload.issuedAt}`;
  }
  return undefined;
}
