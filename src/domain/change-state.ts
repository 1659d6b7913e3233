/**
 * The per-change entity's durable state (workflow `change:<changeId>`): the blocker map, the ledger of lanes run
 * with their outcomes and evidence trees, and which lane used each grant nonce first. Plain data, safe for history.
 */
import type { BlockerMap } from './blocker-map';
import type { BlockerRules, LedgerEntry } from './blocker-rules';
import type { ChangeView } from './gate-rules';
import type { RejectedEnvelope } from './lane-status';
import type { LaneKind } from './vocabulary';
import { charterHashOf } from './charter';

export interface LaneStarted {
  workflowId: string;
  lane: LaneKind;
  shaped: boolean;
  specHash: string;
}

export interface NonceClaim {
  workflowId: string;
  nonces: string[];
}

export type LaneFinished = LedgerEntry;

/**
 * The owners' charter of the entity's blocker map and rules, or of its having none (charter.ts): until `at` is set
 * they bind nobody and no execution opens.
 */
export interface CharterState {
  /** charterHashOf the map and rules the entity holds. */
  hash: string;
  /** Valid CHARTER envelopes for that hash, as received (re-verified at the point of action). */
  envelopes: unknown[];
  /** When the trust root's threshold of distinct owners was met. */
  at?: string;
  signers?: { keyId: string; name: string; person: string }[];
}

export interface ChangeState {
  changeId: string;
  version: number;
  blockers?: BlockerMap;
  rules?: BlockerRules;
  ledger: LedgerEntry[];
  /** Running lanes, each with the nonces it reported: they get a fresh view whenever the entity changes. */
  active: (LaneStarted & { nonces: string[] })[];
  /** nonce → the workflow id of the lane that used it first. */
  nonceClaims: Record<string, string>;
  /** Blocker updates refused, with the reason (audit). */
  rejected: (RejectedEnvelope & { blockerId?: string })[];
  trustRootFingerprint?: string;
  /** Absent on an entity started by an earlier release; computed (unchartered) when first needed. */
  charter?: CharterState;
}

export interface ChangeInput {
  changeId: string;
  blockers?: { map: BlockerMap; rules?: BlockerRules };
  /** Carried across continue-as-new. */
  state?: ChangeState;
}

export function initialChangeState(input: ChangeInput): ChangeState {
  return (
    input.state ?? {
      changeId: input.changeId,
      version: 0,
      ...(input.blockers ? { blockers: input.blockers.map, rules: input.blockers.rules ?? {} } : {}),
      // Every change has a charter to sign, a change without blockers too: "no blocker map" is owners' word as well.
      charter: { hash: charterHashOf({ changeId: input.changeId, blockers: input.blockers }), envelopes: [] },
      ledger: [],
      active: [],
      nonceClaims: {},
      rejected: [],
    }
  );
}

function latest(state: ChangeState, lane: LaneKind): LedgerEntry | undefined {
  for (let i = state.ledger.length - 1; i >= 0; i--) {
    const e = state.ledger[i]!;
    if (e.lane === lane && e.outcome === 'COMPLETED') return e;
  }
  return undefined;
}

/** What one lane is told: the map, the latest passed rehearsal and precheck, and the fate of its own nonces. */
export function viewFor(state: ChangeState, laneNonces: readonly string[]): ChangeView {
  const nonceClaims: Record<string, string> = {};
  for (const n of laneNonces) {
    const owner = state.nonceClaims[n];
    if (owner !== undefined) nonceClaims[n] = owner;
  }
  const rehearsal = latest(state, 'rehearsal');
  const precheck = latest(state, 'precheck');
  return {
    changeId: state.changeId,
    version: state.version,
    ...(state.blockers ? { blockers: state.blockers, rules: state.rules ?? {} } : {}),
    ...(rehearsal ? { latestRehearsal: rehearsal } : {}),
    ...(precheck ? { latestPrecheck: precheck } : {}),
    ...(state.charter ? { charter: { hash: state.charter.hash, envelopes: state.charter.envelopes, ...(state.charter.at ? { at: state.charter.at } : {}) } } : {}),
    nonceClaims,
  };
}
