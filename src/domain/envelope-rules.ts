/**
 * The rules a signed envelope must pass before it counts (DESIGN.md §Grants). Pure and deterministic: the
 * workflow runs them with its own clock (workflow time) and a pure-JS signature check; the production worker's
 * interceptor runs the same rules with a node:crypto check, so the two verifiers cannot drift apart.
 *
 * Every refusal carries a stable code (for tests, probes and audit) and a sentence a human can act on.
 */
import { canonicalBytes, CanonicalJsonError } from './canonical-json';
import { canonicalSha256 } from './hashing';
import {
  envelopePayloadSchema,
  signedEnvelopeSchema,
  MAX_ENVELOPE_BYTES,
  type EnvelopePayload,
  type SignedAction,
} from './envelope';
import type { SignatureCheck } from './keys';
import { findKey, limitsOf, personOf, type TrustRoot } from './trust-root';
import { formatDuration } from './duration';
import { GRANT_ACTIONS, type LaneKind, type Role } from './vocabulary';

/** Allowance for clock skew between the signer's machine and workflow time. */
export const CLOCK_SKEW_MS = 2 * 60 * 1000;

export type RejectCode =
  | 'MALFORMED'
  | 'UNKNOWN_KEY'
  | 'WRONG_ROLE'
  | 'BAD_SIGNATURE'
  | 'LANE_OPERATOR'
  | 'OTHER_WORKFLOW'
  | 'OTHER_CHANGE'
  | 'OTHER_LANE'
  | 'OTHER_RUN'
  | 'OTHER_START'
  | 'OTHER_SPEC'
  | 'OTHER_TRUST_ROOT'
  | 'ACTION_NOT_HERE'
  | 'NOT_YET_VALID'
  | 'EXPIRED'
  | 'TOO_LONG'
  | 'UNCHARTERED'
  | 'OTHER_CHARTER'
  | 'REPLAYED';

export interface VerifiedEnvelope {
  /** sha256 of the canonical payload: the grant's identity for revocation and audit. */
  id: string;
  payload: EnvelopePayload;
  signature: string;
  /** The key, and the person holding it (`person`: what distinct-owner counts and the lane-operator rule compare). */
  signer: { keyId: string; name: string; role: Role; person: string };
}

export type Verdict =
  | { ok: true; envelope: VerifiedEnvelope }
  | { ok: false; code: RejectCode; reason: string; keyId?: string; action?: string };

export interface EnvelopeContext {
  trustRoot: TrustRoot;
  workflowId: string;
  changeId: string;
  /** The lane kind; undefined for the change entity, which accepts only lane-less BLOCKER_UPDATE envelopes. */
  lane: LaneKind | undefined;
  /** The lane's Temporal run id (from the workflow's or the activity's own info, never from a message). */
  runId?: string;
  /**
   * sha256 of the canonical change spec the lane runs. The change entity passes `anySpec` instead: it keeps moves of
   * every spec of its change, and the point of action counts only those of the spec it runs.
   */
  specHash?: string;
  anySpec?: true;
  /** The id of the lane's verified START: owner envelopes name it. */
  startId?: string;
  /** The actions this message may carry here (e.g. the grant signal of a rehearsal lane: AUTHORIZE_REHEARSAL). */
  acceptedActions: readonly SignedAction[];
  /**
   * The operator who started this lane. No key of the same person (the trust root says who holds which keys) may
   * authorise anything on it: nobody approves their own request.
   */
  laneOperator?: { keyId: string; person?: string; name: string };
  nowMs: number;
  /** Nonces already used; a replayed envelope is refused. */
  usedNonces: ReadonlySet<string>;
}

/** Which roles may sign each action. Operators start lanes; owners authorise, hold and revoke; both move blockers. */
export function signerRolesFor(action: SignedAction): readonly Role[] {
  if (action === 'START_LANE' || action === 'OPERATOR_INPUT') return ['operator'];
  if (action === 'BLOCKER_UPDATE') return ['owner', 'operator'];
  return ['owner'];
}

export function verifyEnvelope(raw: unknown, ctx: EnvelopeContext, checkSignature: SignatureCheck): Verdict {
  const reject = (code: RejectCode, reason: string, p?: Partial<EnvelopePayload>): Verdict => ({
    ok: false,
    code,
    reason,
    ...(typeof p?.keyId === 'string' ? { keyId: p.keyId } : {}),
    ...(typeof p?.action === 'string' ? { action: p.action } : {}),
  });

  try {
    const size = JSON.stringify(raw)?.length ?? 0;
    if (size > MAX_ENVELOPE_BYTES) return reject('MALFORMED', `envelope is ${size} bytes; the limit is ${MAX_ENVELOPE_BYTES}`);
  } catch {
    return reject('MALFORMED', 'envelope is not JSON');
  }
  const shape = signedEnvelopeSchema.safeParse(raw);
  if (!shape.success) return reject('MALFORMED', `envelope ${describeIssues(shape.error.issues)}`);
  const parsed = envelopePayloadSchema.safeParse(shape.data.payload);
  if (!parsed.success) return reject('MALFORMED', `payload ${describeIssues(parsed.error.issues)}`, shape.data.payload);
  const payload = parsed.data;
  let bytes: Uint8Array;
  try {
    // Canonicalise what was sent, not what the schema returned: the signature covers the sender's bytes.
    bytes = canonicalBytes(shape.data.payload);
  } catch (err) {
    return reject('MALFORMED', `payload cannot be canonicalized: ${(err as CanonicalJsonError).message}`, payload);
  }

  const key = findKey(ctx.trustRoot, payload.keyId);
  if (!key) return reject('UNKNOWN_KEY', `key ${payload.keyId} is not in the trust root (fingerprint ${ctx.trustRoot.fingerprint.slice(0, 16)})`, payload);
  const roles = signerRolesFor(payload.action);
  if (!roles.includes(key.role)) {
    return reject('WRONG_ROLE', `${payload.action} must be signed by an ${roles.join(' or ')}; key ${key.keyId} (${key.name}) is an ${key.role}`, payload);
  }
  if (!checkSignature(key.publicKey, bytes, shape.data.signature)) {
    return reject('BAD_SIGNATURE', `signature does not verify under key ${key.keyId} (${key.name})`, payload);
  }
  const starter = ctx.laneOperator;
  const person = personOf(key);
  // Approving is what the person who asked may not do; stopping (HOLD, REVOKE) anyone holding an owner key may.
  const approves = payload.action !== 'HOLD' && payload.action !== 'REVOKE';
  if (approves && key.role === 'owner' && starter && (starter.keyId === key.keyId || (starter.person ?? personOf(starter)) === person)) {
    return reject('LANE_OPERATOR', `${key.name} (${key.keyId}) is the person who started this lane (operator key ${starter.keyId}) and may not authorise on it`, payload);
  }
  if (payload.workflowId !== ctx.workflowId) {
    return reject('OTHER_WORKFLOW', `envelope is for workflow ${payload.workflowId}, not ${ctx.workflowId}`, payload);
  }
  if (payload.changeId !== ctx.changeId) {
    return reject('OTHER_CHANGE', `envelope is for change ${payload.changeId}, not ${ctx.changeId}`, payload);
  }
  if (payload.lane !== ctx.lane) {
    return reject('OTHER_LANE', `envelope is for ${payload.lane ? `a ${payload.lane} lane` : 'the change entity'}, not ${ctx.lane ? `this ${ctx.lane} lane` : 'the change entity'}`, payload);
  }
  if (payload.trustRoot !== ctx.trustRoot.fingerprint) {
    return reject('OTHER_TRUST_ROOT', `envelope was signed under trust root ${payload.trustRoot.slice(0, 16)}…, but this worker's trust root is ${ctx.trustRoot.fingerprint.slice(0, 16)}… (pinned: a changed trust root authorises nothing signed under the old one)`, payload);
  }
  if (!ctx.anySpec && payload.specHash !== ctx.specHash) {
    return reject('OTHER_SPEC', `envelope is for change spec ${payload.specHash?.slice(0, 16) ?? '(none)'}…, not the spec ${ctx.specHash?.slice(0, 16) ?? '(none)'}… this ${ctx.lane ?? 'change entity'} runs`, payload);
  }
  if (payload.runId !== undefined && payload.runId !== ctx.runId) {
    return reject('OTHER_RUN', `envelope is for run ${payload.runId} of ${payload.workflowId}, not run ${ctx.runId ?? '(none)'}`, payload);
  }
  if (payload.startId !== undefined && payload.startId !== ctx.startId) {
    return reject('OTHER_START', `envelope approves the lane started by START ${payload.startId.slice(0, 16)}…, not ${ctx.startId?.slice(0, 16) ?? '(none)'}…`, payload);
  }
  if (!ctx.acceptedActions.includes(payload.action)) {
    const allowed = ctx.acceptedActions.join(', ') || 'nothing';
    return reject('ACTION_NOT_HERE', `${payload.action} is not accepted here; this ${ctx.lane ?? 'change entity'} message accepts ${allowed}`, payload);
  }
  const issued = Date.parse(payload.issuedAt);
  const expires = Date.parse(payload.expiresAt);
  if (issued > ctx.nowMs + CLOCK_SKEW_MS) {
    return reject('NOT_YET_VALID', `issuedAt ${payload.issuedAt} is in the future (workflow time ${new Date(ctx.nowMs).toISOString()})`, payload);
  }
  if (expires <= issued) return reject('EXPIRED', `expiresAt ${payload.expiresAt} is not after issuedAt ${payload.issuedAt}`, payload);
  const limits = limitsOf(ctx.trustRoot);
  if ((GRANT_ACTIONS as readonly string[]).includes(payload.action) && expires - issued > limits.grantLifetimeMs) {
    return reject('TOO_LONG', `${payload.action} is valid for ${formatDuration(expires - issued)}; the trust root allows grants of at most ${formatDuration(limits.grantLifetimeMs)} (sign a shorter one, e.g. --expires 1h)`, payload);
  }
  if (payload.precheckValidForMs !== undefined && payload.precheckValidForMs > limits.precheckValidityMs) {
    return reject('TOO_LONG', `the precheck asks to stay valid for ${formatDuration(payload.precheckValidForMs)}; the trust root allows at most ${formatDuration(limits.precheckValidityMs)}`, payload);
  }
  if (expires <= ctx.nowMs) {
    return reject('EXPIRED', `expired at ${payload.expiresAt} (workflow time ${new Date(ctx.nowMs).toISOString()})`, payload);
  }
  if (ctx.usedNonces.has(payload.nonce)) return reject('REPLAYED', `nonce ${payload.nonce} was already used`, payload);

  return {
    ok: true,
    envelope: {
      id: canonicalSha256(shape.data.payload),
      payload,
      signature: shape.data.signature,
      signer: { keyId: key.keyId, name: key.name, role: key.role, person },
    },
  };
}

/**
 * The moment an envelope claims it was issued, for judging it as of then (a start, a blocker move, an input, a
 * withdrawal: signed once, meant to stand). 0 when it claims none; such an envelope fails the schema anyway.
 */
export function claimedIssueTime(raw: unknown): number {
  const t = Date.parse(String((raw as { payload?: { issuedAt?: unknown } } | null)?.payload?.issuedAt));
  return Number.isNaN(t) ? 0 : t;
}

/** The id an envelope has (sha256 of its canonical payload), or undefined when it has no canonical payload. */
export function envelopeIdOf(raw: unknown): string | undefined {
  try {
    const payload = (raw as { payload?: unknown } | null)?.payload;
    return payload !== null && typeof payload === 'object' ? canonicalSha256(payload) : undefined;
  } catch {
    return undefined;
  }
}

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'} ${i.message}`)
    .join('; ');
}
