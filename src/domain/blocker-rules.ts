/**
 * What it takes to move each blocker, and which blockers stand between an execution lane and production.
 *
 * A blocker's rule comes from the change spec when the team states it (`blockers.rules`), and is otherwise
 * derived conservatively from the blocker's own fields:
 * - `actor_needed` names the roles that may move it ("owner", "operator", "owner + operator"; neither → owner);
 * - a blocker whose `required_technical_proof` is "n/a …", whose `blocks` lists only grant actions (REAL_RUN,
 *   apply, permit, …) and whose actor is the owner alone is an *authorization gate*: an execution lane holding
 *   valid grants for those actions satisfies it for that lane only; nothing else closes it;
 * - every other blocker closes only on signed moves whose proofs cover each named role, and, unless its
 *   technical proof is "n/a", at least one technical proof: the evidence tree of a passed lane of this change (of
 *   the kind its rule names, never a scoping lane) or an operator input a lane of this change recorded.
 * The rules are the operator's proposal until owners charter them (charter.ts): a rule can never let a blocker
 * close with fewer or other roles than its `actor_needed` names (ruleProblems), nor by a lane that needs no grant.
 * Every open blocker blocks the execution lane unless it is an authorization gate the lane satisfies: a `blocks`
 * value we do not recognise therefore blocks production, which is the safe reading.
 */
import { z } from 'zod';
import { BLOCKER_STATUSES, type Blocker, type BlockerMap, type BlockerProof, type BlockerStatus } from './blocker-map';
import { GRANT_ACTIONS, type GrantAction, type LaneKind, type Role } from './vocabulary';

export const blockerRuleSchema = z
  .object({
    /** Authorization gate: satisfied in an execution lane by valid grants for these actions. */
    grants: z.array(z.enum(GRANT_ACTIONS)).min(1).optional(),
    /** A lane of this kind that completes moves the blocker to `to`, its evidence tree as the proof. */
    laneProof: z
      .object({
        // Never scoping: a lane that needs no owner grant proves nothing to the owner.
        lane: z.enum(['rehearsal', 'dry-run', 'precheck'], 'must be rehearsal, dry-run or precheck: a lane that needs an owner grant (scoping needs none, so it proves nothing)'),
        /** Only a rehearsal on a production-shaped clone counts. */
        shaped: z.boolean().optional(),
        to: z.enum(BLOCKER_STATUSES),
        note: z.string().max(500).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type BlockerRule = z.infer<typeof blockerRuleSchema>;

/** What an execution lane can require: the only grants an authorization gate may be met by. */
const EXECUTION_ACTIONS: readonly GrantAction[] = ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'PERMIT', 'ACTIVATION', 'REPOINT', 'CUTOVER'];
export type BlockerRules = Record<string, BlockerRule>;

export interface EffectiveRule {
  roles: Role[];
  grants?: GrantAction[];
  laneProof?: BlockerRule['laneProof'];
  needsTechnicalProof: boolean;
}

/** `blocks` is free text like "cutover/apply/permit/activation/repoint"; these are its grant actions, if all are. */
function blockedActions(blocks: string): GrantAction[] | undefined {
  const tokens = blocks.split(/[\s/,;|]+/).filter(Boolean);
  const actions = tokens.map((t) => t.toUpperCase().replace(/-/g, '_'));
  return actions.length > 0 && actions.every((a) => (GRANT_ACTIONS as readonly string[]).includes(a)) ? (actions as GrantAction[]) : undefined;
}

/**
 * The roles `actor_needed` names: any word "owner(s)" or "operator(s)", whatever separates them ("owner + operator",
 * "OWNER_AND_OPERATOR", "both owners and the operator"). Naming neither, it needs both: an unreadable actor never
 * means fewer signatures.
 */
export function rolesNamed(actorNeeded: string): Role[] {
  const words = new Set(actorNeeded.toLowerCase().split(/[^a-z]+/));
  const roles: Role[] = [];
  if (words.has('owner') || words.has('owners')) roles.push('owner');
  if (words.has('operator') || words.has('operators')) roles.push('operator');
  return roles.length > 0 ? roles : ['owner', 'operator'];
}

export function ruleFor(blocker: Blocker, rules: BlockerRules | undefined): EffectiveRule {
  const explicit = rules?.[blocker.id];
  const noTechnicalProof = /^\s*n\/a\b/i.test(blocker.required_technical_proof);
  const roles = rolesNamed(blocker.actor_needed);
  // Grants are owners' signatures: only a blocker the owner alone moves may be met by them.
  const ownerOnly = roles.length === 1 && roles[0] === 'owner';
  const grants = explicit?.grants ?? (noTechnicalProof && ownerOnly ? blockedActions(blocker.blocks) : undefined);
  return {
    roles,
    ...(grants ? { grants } : {}),
    ...(explicit?.laneProof ? { laneProof: explicit.laneProof } : {}),
    needsTechnicalProof: !noTechnicalProof,
  };
}

/**
 * Why a set of rules would let a blocker close with fewer or other roles than its `actor_needed` names; one line
 * per problem, empty when none. (A lane proof is always an operator's START and an owner's grant, so it covers
 * both roles; a scoping lane, which needs no grant, is refused by the schema.)
 */
export function ruleProblems(map: BlockerMap, rules: BlockerRules | undefined): string[] {
  const problems: string[] = [];
  for (const [id, rule] of Object.entries(rules ?? {})) {
    const blocker = map.blockers.find((b) => b.id === id);
    if (!blocker || !rule.grants) continue;
    const roles = rolesNamed(blocker.actor_needed);
    if (!(roles.length === 1 && roles[0] === 'owner')) {
      problems.push(`${id}: "grants" would let owner grants alone satisfy a blocker whose actor_needed is "${blocker.actor_needed}" (${roles.join(' + ')}); only a blocker the owner alone moves can be an authorization gate`);
    }
    const never = rule.grants.filter((a) => !EXECUTION_ACTIONS.includes(a));
    if (never.length > 0) {
      problems.push(`${id}: "grants" names ${never.join(', ')}, which no execution lane requires, so the blocker would never block; name ${EXECUTION_ACTIONS.join(', ')}`);
    }
  }
  return problems;
}

/**
 * The open blockers that stop an execution lane which requires `required` and currently holds valid grants for
 * `satisfied`. An authorization gate concerning none of the lane's actions does not concern this change.
 */
export function blockersBlockingExecution(
  map: BlockerMap | undefined,
  rules: BlockerRules | undefined,
  required: readonly GrantAction[],
  satisfied: ReadonlySet<GrantAction>,
): Blocker[] {
  return (map?.blockers ?? []).filter((b) => {
    if (b.status === 'CLOSED') return false;
    const rule = ruleFor(b, rules);
    if (!rule.grants) return true;
    const relevant = rule.grants.filter((a) => required.includes(a));
    return relevant.some((a) => !satisfied.has(a));
  });
}

/** A lane's outcome as the change entity's ledger keeps it. */
export interface LedgerEntry {
  workflowId: string;
  lane: LaneKind;
  shaped: boolean;
  outcome: 'COMPLETED' | 'HOLD' | 'FAILED';
  specHash: string;
  finishedAt: string;
  treeHash?: string;
  /** Precheck only: until when its result may open an execution lane. */
  validUntil?: string;
  /** The sha256 of each operator input the lane recorded in its evidence packet. */
  inputs?: string[];
}

export interface BlockerMove {
  blockerId: string;
  to: BlockerStatus;
  /** `person`: who holds the key (trust root); a blocker naming two roles needs two people. */
  signer: { keyId: string; role: Role; person?: string };
  envelopeId: string;
  /** The signed envelope the move came in, kept in the proof so the chain can be re-verified at the point of action. */
  envelope?: unknown;
  at: string;
  treeHash?: string;
  inputSha256?: string;
}

export type MoveVerdict =
  | { ok: true; map: BlockerMap; proof: BlockerProof }
  | { ok: false; code: 'UNKNOWN_BLOCKER' | 'WRONG_ACTOR' | 'FINAL' | 'NO_CHANGE' | 'NO_PROOF' | 'UNKNOWN_EVIDENCE' | 'GRANT_GATE'; reason: string };

/**
 * Applies one signed move, or says exactly why it may not happen. Pure: returns a new map. `checkedProofs: false`
 * keeps the looser proof rule of earlier releases (an evidence tree of any completed lane; an input hash unchecked),
 * only so a change entity replays the history it made then; everything new is judged with checked proofs.
 */
export function moveBlocker(
  map: BlockerMap,
  rules: BlockerRules | undefined,
  move: BlockerMove,
  ledger: readonly LedgerEntry[],
  opts: {
    checkedProofs?: boolean;
    /**
     * An owner's reopen counts whatever proof it names (the point of action's replay): reopening only restricts, so
     * a proof that cannot be read there (a shared-store row deleted, the store down) must never undo it.
     */
    reopenWithoutProof?: boolean;
  } = {},
): MoveVerdict {
  const blocker = map.blockers.find((b) => b.id === move.blockerId);
  if (!blocker) return { ok: false, code: 'UNKNOWN_BLOCKER', reason: `no blocker "${move.blockerId}" in this change's map` };
  const rule = ruleFor(blocker, rules);
  const { role, keyId } = move.signer;
  if (!rule.roles.includes(role)) {
    return { ok: false, code: 'WRONG_ACTOR', reason: `${blocker.id} is moved by ${rule.roles.join(' or ')} (actor_needed "${blocker.actor_needed}"); key ${keyId} is an ${role}` };
  }
  if (blocker.status === 'CLOSED') return { ok: false, code: 'FINAL', reason: `${blocker.id} is CLOSED; a closed blocker does not move again` };
  if (blocker.status === move.to) return { ok: false, code: 'NO_CHANGE', reason: `${blocker.id} is already ${move.to}` };
  if (move.to === 'OPEN' && role !== 'owner') return { ok: false, code: 'WRONG_ACTOR', reason: `only an owner may reopen ${blocker.id}` };
  if (move.to === 'CLOSED' && rule.grants) {
    return { ok: false, code: 'GRANT_GATE', reason: `${blocker.id} is an authorization gate: it is satisfied only by ${rule.grants.join(', ')} grants in an execution lane, never closed by hand` };
  }
  if (move.inputSha256 && role !== 'operator') return { ok: false, code: 'WRONG_ACTOR', reason: 'an operator input must be signed by an operator' };
  const ownerReopen = opts.reopenWithoutProof === true && move.to === 'OPEN' && role === 'owner';
  if (ownerReopen) {
    // Nothing to check: see reopenWithoutProof.
  } else if (opts.checkedProofs === false) {
    if (move.treeHash && !ledger.some((e) => e.outcome === 'COMPLETED' && e.treeHash === move.treeHash)) {
      return { ok: false, code: 'UNKNOWN_EVIDENCE', reason: `evidence tree ${move.treeHash} is not the tree of any lane of this change that completed` };
    }
  } else {
    const proofProblem = offeredProofProblem(rule, move, ledger);
    if (proofProblem) return { ok: false, code: 'UNKNOWN_EVIDENCE', reason: proofProblem };
  }
  const kind: BlockerProof['kind'] =
    opts.checkedProofs === false ? (move.treeHash ? 'evidence' : move.inputSha256 ? 'operator-input' : role === 'owner' ? 'owner-decision' : 'operator-input')
    : move.inputSha256 ? 'operator-input' : move.treeHash ? 'evidence' : role === 'owner' ? 'owner-decision' : 'operator-input';
  if (kind === 'operator-input' && !move.inputSha256) {
    return { ok: false, code: 'NO_PROOF', reason: `an operator moving ${blocker.id} must attach an evidence tree or an operator input (sha256)` };
  }
  const proof: BlockerProof = {
    kind,
    by: keyId,
    role,
    ...(move.signer.person ? { person: move.signer.person } : {}),
    at: move.at,
    from: blocker.status,
    to: move.to,
    envelopeId: move.envelopeId,
    ...(move.envelope !== undefined ? { envelope: move.envelope } : {}),
    ...(move.treeHash ? { treeHash: move.treeHash } : {}),
    ...(move.inputSha256 ? { inputSha256: move.inputSha256 } : {}),
  };
  if (move.to === 'CLOSED') {
    const proofs = [...(blocker.proofs ?? []), proof];
    const missing = closingProofMissing(rule, blocker, proofs);
    if (missing) return { ok: false, code: 'NO_PROOF', reason: `${blocker.id} cannot close yet: ${missing}` };
  }
  return { ok: true, map: withBlocker(map, { ...blocker, status: move.to, proofs: [...(blocker.proofs ?? []), proof] }), proof };
}

/**
 * Why the proof a move offers proves nothing here; undefined when it stands. Checked, not counted:
 * - an operator input must be one a completed lane of this change recorded (the move names that lane's tree);
 * - an evidence tree must be a lane of this change that passed, of the kind the blocker's rule names (any lane
 *   that needs a grant when it names none), never a scoping lane.
 */
function offeredProofProblem(rule: EffectiveRule, move: BlockerMove, ledger: readonly LedgerEntry[]): string | undefined {
  if (!move.treeHash) return move.inputSha256 ? 'an operator input is offered through the evidence tree of the lane that recorded it; name that tree' : undefined;
  const entry = ledger.find((e) => e.treeHash === move.treeHash);
  if (!entry || entry.outcome !== 'COMPLETED') return `evidence tree ${move.treeHash} is not the tree of any lane of this change that completed`;
  if (move.inputSha256) {
    return entry.inputs?.includes(move.inputSha256) ? undefined : `operator input ${move.inputSha256} was not recorded by the lane with evidence tree ${move.treeHash}`;
  }
  if (entry.lane === 'scoping') return `evidence tree ${move.treeHash} is a scoping lane's, which needs no grant and proves nothing`;
  const want = rule.laneProof;
  if (want && (entry.lane !== want.lane || (want.shaped && !entry.shaped))) {
    return `evidence tree ${move.treeHash} is a ${entry.shaped ? 'shaped ' : ''}${entry.lane} lane's; this blocker's rule takes a ${want.shaped ? 'shaped ' : ''}${want.lane}`;
  }
  return undefined;
}

/**
 * What a closing move still lacks: a proof from each named role, and a technical proof unless "n/a". Only proofs
 * since the blocker was last reopened count, and a reopen is never anyone's sign-off.
 */
function closingProofMissing(rule: EffectiveRule, blocker: Blocker, all: readonly BlockerProof[]): string | undefined {
  const lastReopen = all.map((p) => p.to).lastIndexOf('OPEN');
  const proofs = all.slice(lastReopen + 1);
  const absent = rule.roles.filter((r) => !proofs.some((p) => p.role === r));
  if (absent.length > 0) return `no signed move by the ${absent.join(' and ')} yet (actor_needed "${blocker.actor_needed}")`;
  if (rule.roles.length > 1) {
    // Two roles mean two people: one person holding both keys signs as one.
    const who = (p: BlockerProof) => p.person ?? p.by;
    const owners = new Set(proofs.filter((p) => p.role === 'owner').map(who));
    if (!proofs.some((p) => p.role === 'operator' && [...owners].some((o) => o !== who(p)))) {
      return `the owner's and the operator's moves must come from two different people (actor_needed "${blocker.actor_needed}")`;
    }
  }
  if (rule.needsTechnicalProof && !proofs.some((p) => p.kind === 'evidence' || p.kind === 'operator-input')) {
    return `it needs a technical proof ("${blocker.required_technical_proof}"): an evidence tree or an operator input`;
  }
  return undefined;
}

/** Moves blockers whose rule names this lane's outcome. Only a completed lane proves anything. */
export function applyLaneOutcome(map: BlockerMap, rules: BlockerRules | undefined, entry: LedgerEntry): BlockerMap {
  if (entry.outcome !== 'COMPLETED' || !entry.treeHash) return map;
  let next = map;
  for (const blocker of map.blockers) {
    const lp = ruleFor(blocker, rules).laneProof;
    if (!lp || lp.lane !== entry.lane || (lp.shaped && !entry.shaped)) continue;
    if (blocker.status === 'CLOSED' || blocker.status === lp.to) continue;
    const proof: BlockerProof = {
      kind: 'evidence',
      by: entry.workflowId,
      workflowId: entry.workflowId,
      at: entry.finishedAt,
      from: blocker.status,
      to: lp.to,
      treeHash: entry.treeHash,
      ...(lp.note ? { note: lp.note } : {}),
    };
    next = withBlocker(next, { ...blocker, status: lp.to, proofs: [...(blocker.proofs ?? []), proof] });
  }
  return next;
}

function withBlocker(map: BlockerMap, blocker: Blocker): BlockerMap {
  return { ...map, blockers: map.blockers.map((b) => (b.id === blocker.id ? blocker : b)) };
}
