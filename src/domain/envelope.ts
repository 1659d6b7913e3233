/**
 * Signed envelopes (DESIGN.md §Grants): an RFC 8785 canonical JSON payload plus an Ed25519 signature over it.
 *
 * One shape serves every signed message: owner grants and holds, and the operator's signed lane start. What a
 * payload's `action` may be, and which role may sign it, is decided by the rules in envelope-rules.ts.
 */
import { z } from 'zod';
import { GRANT_ACTIONS, LANE_KINDS } from './vocabulary';
import { BLOCKER_STATUSES } from './blocker-map';
import { KEY_ID, SIGNATURE_HEX } from './keys';

/** The actions a change's steps declare (change-spec.ts STEP_ACTIONS; repeated here to keep this module free of the spec). */
const STEP_ACTIONS = ['APPLY', 'PERMIT', 'ACTIVATION', 'REPOINT', 'CUTOVER'] as const;

/**
 * Actions that are signed but are not authorisations: they never satisfy a lane's required grants.
 * HOLD ends a lane; START_LANE is the operator's start; REVOKE withdraws one grant by id; BLOCKER_UPDATE moves
 * one blocker of a change (sent to the change entity, so it names no lane); CHARTER is an owner's approval of a
 * change's blocker map and rules (also to the change entity): until owners charter them, they bind nobody.
 */
export const CONTROL_ACTIONS = ['HOLD', 'START_LANE', 'REVOKE', 'BLOCKER_UPDATE', 'OPERATOR_INPUT', 'CHARTER'] as const;
/** Signed to the change entity rather than to a lane: they name no lane, run or start. */
export const ENTITY_ACTIONS: readonly SignedActionName[] = ['BLOCKER_UPDATE', 'CHARTER'];
type SignedActionName = (typeof GRANT_ACTIONS)[number] | (typeof CONTROL_ACTIONS)[number];
export const SIGNED_ACTIONS = [...GRANT_ACTIONS, ...CONTROL_ACTIONS] as const;
export type SignedAction = (typeof SIGNED_ACTIONS)[number];

export const INPUT_KIND = /^[a-z][a-z0-9-]{0,39}$/;
/** The largest operator input a lane takes (it travels in the signal, so it lands in history: keep it small). */
export const MAX_INPUT_BYTES = 64 * 1024;
export const CHANGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A Temporal run id: what binds a grant to one run of a workflow id (ids of closed workflows can be reused). */
export const RUN_ID = /^[A-Za-z0-9-]{1,64}$/;

const isoInstant = z
  .string()
  .regex(ISO_UTC, 'must be an ISO-8601 UTC instant like 2026-06-12T09:30:00Z')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'is not a real calendar instant');

export const envelopePayloadSchema = z
  .object({
    v: z.literal(2, 'must be 2: this build signs and verifies v2 envelopes (bound to spec, run and trust root)'),
    changeId: z.string().regex(CHANGE_ID, 'must be 1-100 chars of letters, digits, ".", "_" or "-"'),
    workflowId: z.string().min(1).max(255),
    /** The lane kind the envelope is for; absent only on BLOCKER_UPDATE, which goes to the change entity. */
    lane: z.enum(LANE_KINDS).optional(),
    action: z.enum(SIGNED_ACTIONS),
    /**
     * What every envelope is bound to (DESIGN.md §The gate): the trust root it was signed under (pinned: a worker
     * whose file differs refuses it), and — on everything sent to a lane — the canonical hash of the exact change
     * spec, so what is signed is what runs. Owner envelopes also name the lane's run: a workflow id reused by
     * another run, of any type, gets nothing from them. The operator's START_LANE is signed before the run exists.
     */
    trustRoot: z.string().regex(SHA256_HEX, 'must be the sha256 fingerprint of the trust root'),
    specHash: z.string().regex(SHA256_HEX, 'must be the sha256 of the canonical change spec').optional(),
    runId: z.string().regex(RUN_ID, 'must be the Temporal run id of the lane').optional(),
    /**
     * The id (sha256 of the canonical payload) of the operator's START of the lane: the owner approves the lane that
     * operator started, so another START (another operator's, replayed under a reused id) gets nothing from it.
     */
    startId: z.string().regex(SHA256_HEX, 'must be the id of the lane start (sha256 hex)').optional(),
    /** START_LANE of a rehearsal: on a production-shaped clone (a copy of production's data; signed, not assumed). */
    shaped: z.literal(true).optional(),
    /** START_LANE of a precheck: how long its pass may open execution (the workers cap it at 24 h). */
    precheckValidForMs: z.number().int().positive().max(24 * 60 * 60 * 1000).optional(),
    /**
     * START_LANE of an execution or a precheck: resume a half-applied change from this step. The steps before it
     * are the ones another run of this change applied (production's ledger must hold exactly those); nothing else
     * is accepted as applied, and nothing before it is applied again.
     */
    resumeFrom: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a step id of the change').optional(),
    /**
     * A step action's grant on an execution (APPLY, PERMIT, ACTIVATION, REPOINT, CUTOVER): arms an armed step for this
     * long from its issue time (at most the step's declared window, at most 1 h). Armed until issuedAt + armWindowMs.
     */
    armWindowMs: z.number().int().positive().max(60 * 60 * 1000).optional(),
    /** REAL_RUN: the evidence tree of the passed precheck the execution relies on. */
    precheckTree: z.string().regex(SHA256_HEX, 'must be a sha256 hex tree hash').optional(),
    /** OPT4_PRODUCTION on an execution lane: the hash of the blocker-map state the owner approves. */
    blockersHash: z.string().regex(SHA256_HEX, 'must be the sha256 of the blocker map state').optional(),
    evidenceTree: z.string().regex(SHA256_HEX, 'must be a sha256 hex tree hash').optional(),
    /** REVOKE: the id (sha256 of the canonical payload) of the grant withdrawn. */
    revokes: z.string().regex(SHA256_HEX, 'must be a grant id (sha256 hex)').optional(),
    /** BLOCKER_UPDATE: which blocker moves, to which status, and (optionally) the operator input it rests on. */
    blockerId: z.string().min(1).max(200).optional(),
    blockerStatus: z.enum(BLOCKER_STATUSES).optional(),
    inputSha256: z.string().regex(SHA256_HEX, 'must be the sha256 hex of the operator input').optional(),
    /** CHARTER: the hash of the blocker map and rules the owner approves (charterHashOf in bindings.ts). */
    charterHash: z.string().regex(SHA256_HEX, 'must be the sha256 of the change\'s blocker charter').optional(),
    /** OPERATOR_INPUT: what the input is (surface-map, clone-provenance, snapshot-restore-design, …). */
    inputKind: z.string().regex(INPUT_KIND, 'must be 1-40 chars of lowercase letters, digits and "-", e.g. surface-map').optional(),
    nonce: z.string().regex(/^[0-9a-f]{32,64}$/, 'must be 16-32 random bytes in lowercase hex'),
    issuedAt: isoInstant,
    expiresAt: isoInstant,
    keyId: z.string().regex(KEY_ID, 'must be a 16-hex-char key id'),
  })
  .strict()
  .superRefine((p, ctx) => {
    // Each action carries exactly the fields that give it meaning, so a signature never covers an ignored field.
    const need = (field: keyof typeof p, when: boolean) => {
      if (when && p[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `is required for ${p.action}` });
      if (!when && p[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `is not allowed on ${p.action}` });
    };
    const blockerUpdate = p.action === 'BLOCKER_UPDATE';
    const toEntity = ENTITY_ACTIONS.includes(p.action);
    need('lane', !toEntity);
    // Blocker moves and charters name the spec too (the one the signer reviewed): a move counts for that spec only.
    need('specHash', true);
    need('runId', !toEntity && p.action !== 'START_LANE');
    need('startId', !toEntity && p.action !== 'START_LANE');
    need('charterHash', p.action === 'CHARTER');
    if (p.shaped !== undefined && !(p.action === 'START_LANE' && p.lane === 'rehearsal')) ctx.addIssue({ code: 'custom', path: ['shaped'], message: 'is allowed only on the START_LANE of a rehearsal' });
    if (p.precheckValidForMs !== undefined && !(p.action === 'START_LANE' && p.lane === 'precheck')) ctx.addIssue({ code: 'custom', path: ['precheckValidForMs'], message: 'is allowed only on the START_LANE of a precheck' });
    if (p.resumeFrom !== undefined && !(p.action === 'START_LANE' && (p.lane === 'execution' || p.lane === 'precheck'))) ctx.addIssue({ code: 'custom', path: ['resumeFrom'], message: 'is allowed only on the START_LANE of an execution or a precheck' });
    if (p.armWindowMs !== undefined && !(p.lane === 'execution' && (STEP_ACTIONS as readonly string[]).includes(p.action))) ctx.addIssue({ code: 'custom', path: ['armWindowMs'], message: "is allowed only on a step action's grant on an execution lane" });
    need('precheckTree', p.action === 'REAL_RUN');
    need('blockersHash', p.action === 'OPT4_PRODUCTION' && p.lane === 'execution');
    // REAL_RUN, APPLY and PROD_ROLLBACK name the passed rehearsal they rest on (PROD_ROLLBACK: the one that proved
    // this spec's rollback SQL); a blocker move may name one as its proof.
    const treeBound = p.action === 'REAL_RUN' || p.action === 'APPLY' || p.action === 'PROD_ROLLBACK';
    if (!blockerUpdate) need('evidenceTree', treeBound);
    need('revokes', p.action === 'REVOKE');
    need('blockerId', blockerUpdate);
    need('blockerStatus', blockerUpdate);
    const input = p.action === 'OPERATOR_INPUT';
    need('inputKind', input);
    if (input) need('inputSha256', true);
    else if (!blockerUpdate && p.inputSha256 !== undefined) ctx.addIssue({ code: 'custom', path: ['inputSha256'], message: `is not allowed on ${p.action}` });
  });
export type EnvelopePayload = z.infer<typeof envelopePayloadSchema>;

export const signedEnvelopeSchema = z
  .object({
    payload: z.record(z.string(), z.unknown()),
    signature: z.string().regex(SIGNATURE_HEX, 'must be a 64-byte Ed25519 signature in lowercase hex'),
  })
  .strict();
export type SignedEnvelope = { payload: EnvelopePayload; signature: string };

/** Envelopes larger than this are refused before parsing: history and memory are not free. */
export const MAX_ENVELOPE_BYTES = 4096;
