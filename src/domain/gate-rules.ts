/**
 * The gate's decision (DESIGN.md §The gate), as one pure function of durable state and workflow time.
 *
 * A lane may schedule its gated work only when, at this moment: every required action has valid grants from as
 * many distinct owners as its threshold asks; each of those grants is unexpired, unrevoked, its nonce not claimed
 * by another lane of the change (as far as the change entity has said), and — for REAL_RUN and APPLY — it names
 * the evidence tree of the latest passed rehearsal of this very change spec; and, for execution, no open blocker
 * stands in the way and a passed precheck of the same spec is still within its validity window.
 * Anything else is "not ready", with one sentence per unmet precondition.
 */
import { blockersBlockingExecution, type BlockerRules, type LedgerEntry } from './blocker-rules';
import type { BlockerMap } from './blocker-map';
import { blockerStateHash } from './bindings';
import { CLOCK_SKEW_MS, type VerifiedEnvelope } from './envelope-rules';
import { personOf, type TrustRoot } from './trust-root';
import type { GrantAction, LaneKind } from './vocabulary';

/** Grants that must name the evidence tree of the rehearsal they were given for. */
export const EVIDENCE_BOUND_ACTIONS: readonly GrantAction[] = ['REAL_RUN', 'APPLY', 'PROD_ROLLBACK'];

/** What the change entity tells each of its running lanes (pushed by signal whenever it changes). */
export interface ChangeView {
  changeId: string;
  /** Increases with every change of the entity's state, so a lane keeps only the newest view. */
  version: number;
  blockers?: BlockerMap;
  rules?: BlockerRules;
  latestRehearsal?: LedgerEntry;
  latestPrecheck?: LedgerEntry;
  /** For each nonce this lane reported: the lane that used it first. */
  nonceClaims: Record<string, string>;
  /** The owners' charter of the blocker map and rules; chartered once `at` is set. */
  charter?: { hash: string; envelopes: unknown[]; at?: string };
}

export interface GateInput {
  workflowId: string;
  changeId: string;
  lane: LaneKind;
  required: readonly GrantAction[];
  thresholds: TrustRoot['thresholds'];
  grants: readonly VerifiedEnvelope[];
  revoked: ReadonlySet<string>;
  nowMs: number;
  /** sha256 of this lane's canonical change spec. */
  specHash: string;
  /** undefined until the change entity has answered. */
  change: ChangeView | undefined;
  /** Execution waits for the owners' charter of the change's blockers, or of its having none (false only replaying an older history). */
  charterRequired?: boolean;
  /**
   * Wait until the change entity confirms each grant's nonce as this lane's (true only replaying a history from
   * before it stopped waiting). A grant is bound to its lane's run and START by its signature, so no other lane can
   * present it, and production's ledger claims every nonce in the step's own transaction: the round trip through the
   * entity guarded nothing those two do not, and cost two workflow tasks and two signals between a grant and its
   * activity. Nonces are still reported, and a nonce the entity says another lane used first still stops counting.
   */
  awaitNonceConfirmation?: boolean;
}

export interface GateVerdict {
  ready: boolean;
  grantsMissing: GrantAction[];
  /** The valid envelopes behind each satisfied action: what the gated activity receives and re-verifies. */
  usable: VerifiedEnvelope[];
  blockersOpen: string[];
  waitingFor: string[];
  /** The latest passed rehearsal's evidence tree, which REAL_RUN and APPLY grants were checked against. */
  rehearsalTree?: string;
  /** Execution only: the CHARTER envelopes the production worker re-verifies against the spec's map and rules. */
  charter?: unknown[];
  /**
   * Execution only: the blocker map state the OPT4_PRODUCTION grants approve (their blockersHash). The production
   * worker re-hashes it against the signed hash and judges the blockers itself; this copy is only the carrier.
   */
  blockerState?: BlockerMap | null;
}

export function evaluateGate(input: GateInput): GateVerdict {
  const { change, nowMs } = input;
  const waitingFor: string[] = [];
  const usable: VerifiedEnvelope[] = [];
  const satisfied = new Set<GrantAction>();
  const pendingNonces = new Set<string>();
  const rehearsal = change?.latestRehearsal;
  const precheck = change?.latestPrecheck;
  const blockersNow = blockerStateHash(change?.blockers);

  for (const action of input.required) {
    const notes = new Set<string>();
    const valid = input.grants.filter((g) => {
      const p = g.payload;
      if (p.action !== action || input.revoked.has(g.id)) return false;
      if (Date.parse(p.expiresAt) <= nowMs || Date.parse(p.issuedAt) > nowMs + CLOCK_SKEW_MS) return false;
      const claimant = change?.nonceClaims[p.nonce];
      if (claimant === undefined && input.awaitNonceConfirmation) return void pendingNonces.add(p.nonce), false;
      if (claimant !== undefined && claimant !== input.workflowId) return false;
      if (EVIDENCE_BOUND_ACTIONS.includes(action)) {
        if (!rehearsal || rehearsal.specHash !== input.specHash) {
          notes.add(`${action} needs a passed rehearsal of this change spec first`);
          return false;
        }
        if (p.evidenceTree !== rehearsal.treeHash) {
          notes.add(`${action} grant names evidence tree ${p.evidenceTree ?? '(none)'}, not the latest passed rehearsal's ${rehearsal.treeHash}`);
          return false;
        }
      }
      if (action === 'OPT4_PRODUCTION' && input.lane === 'execution' && change && p.blockersHash !== blockersNow) {
        notes.add('OPT4_PRODUCTION approves another state of the blocker map than the current one (it moved since): grant it again');
        return false;
      }
      if (action === 'REAL_RUN' && change && (!precheck || precheck.specHash !== input.specHash || p.precheckTree !== precheck.treeHash)) {
        notes.add(`REAL_RUN names precheck tree ${p.precheckTree ?? '(none)'}, not the latest passed precheck's ${precheck?.specHash === input.specHash ? precheck.treeHash : '(none for this spec)'}`);
        return false;
      }
      return true;
    });
    // Distinct people, not keys or names: one person's two owner keys are one owner.
    const signers = new Set(valid.map((g) => personOf(g.signer)));
    const need = input.thresholds[action] ?? 1;
    if (signers.size >= need) {
      satisfied.add(action);
      usable.push(...valid);
      continue; // why other grants for this action do not count no longer matters
    }
    if (need > 1 && signers.size > 0) notes.add(`${action} has ${signers.size} of ${need} distinct owners`);
    waitingFor.push(...notes);
  }
  const grantsMissing = input.required.filter((a) => !satisfied.has(a));
  if (grantsMissing.length > 0) waitingFor.unshift(`grants from an owner: ${grantsMissing.join(', ')}`);
  if (!change) waitingFor.push(`the change entity change:${input.changeId} to answer`);
  else if (pendingNonces.size > 0) waitingFor.push('the change entity to confirm grant nonces are unused');

  let blockersOpen: string[] = [];
  if (input.lane === 'execution') {
    blockersOpen = blockersBlockingExecution(change?.blockers, change?.rules, input.required, satisfied).map((b) => b.id);
    if (input.charterRequired && change && !change.charter?.at) {
      waitingFor.push(`owners to charter the change's blocker map and rules, or its having none (\`lanes charter ${input.changeId} --change <spec> --key <owner key>\`)`);
    }
    if (blockersOpen.length > 0) waitingFor.push(`${blockersOpen.length} blocker${blockersOpen.length === 1 ? '' : 's'} open: ${blockersOpen.join(', ')}`);
    const pre = precheck;
    if (!pre || pre.specHash !== input.specHash) waitingFor.push('a passed precheck of this change spec');
    else if (!pre.validUntil || Date.parse(pre.validUntil) <= nowMs) waitingFor.push(`a fresh precheck (the last one was valid until ${pre.validUntil})`);
  }
  return {
    ready: waitingFor.length === 0,
    grantsMissing,
    usable,
    blockersOpen,
    waitingFor,
    ...(rehearsal && rehearsal.specHash === input.specHash ? { rehearsalTree: rehearsal.treeHash } : {}),
    ...(input.lane === 'execution' ? { blockerState: change?.blockers ?? null, charter: change?.charter?.envelopes ?? [] } : {}),
  };
}

/**
 * The next moment the verdict can change by the clock alone (a grant or a precheck expiring), so a waiting
 * lane wakes to show it; undefined when nothing time-bound is in play.
 */
export function nextExpiry(input: GateInput): number | undefined {
  const times = input.grants.map((g) => Date.parse(g.payload.expiresAt));
  const pre = input.change?.latestPrecheck?.validUntil;
  if (pre) times.push(Date.parse(pre));
  const future = times.filter((t) => t > input.nowMs);
  return future.length > 0 ? Math.min(...future) : undefined;
}
