/**
 * Which authorization each lane-queue activity needs at the point of action (DESIGN.md §The gate). Anyone on the
 * namespace can schedule any activity type on any queue, so this table is the lane worker's whole answer to "may
 * this run?": an activity type missing from it is refused.
 */
import type { ChangeSpec } from '../domain/change-spec';
import { requiredGrants, type GrantAction, type LaneKind } from '../domain/vocabulary';
import type { VerifiedEnvelope } from '../domain/envelope-rules';
import { stepsToApply } from '../domain/resume';

export type LanePolicy =
  /** Touches no database and writes no evidence: needs nothing. */
  | { kind: 'open' }
  | {
      kind: 'lane';
      lane: LaneKind | 'any';
      required: (change: ChangeSpec, lane: LaneKind, start: VerifiedEnvelope['payload']) => readonly GrantAction[];
      /** Records work already authorised: grants judged as of their issue time (they may have expired since). */
      grantsAsOfIssue?: boolean;
    };

// A resumed execution was granted only the actions of the steps it applies (its START signs the resume).
const laneGrants = (change: ChangeSpec, lane: LaneKind, start: VerifiedEnvelope['payload']) => requiredGrants(lane, stepsToApply(change, start.resumeFrom).map((s) => s.action));
const none = () => [] as GrantAction[];

export const LANE_ACTIVITY_POLICY: Readonly<Record<string, LanePolicy>> = {
  loadTrustRoot: { kind: 'open' },
  runProbes: { kind: 'open' },
  scopeChange: { kind: 'lane', lane: 'scoping', required: laneGrants },
  rehearseOnClone: { kind: 'lane', lane: 'rehearsal', required: laneGrants },
  dryRunProduction: { kind: 'lane', lane: 'dry-run', required: laneGrants },
  precheckProduction: { kind: 'lane', lane: 'precheck', required: laneGrants },
  recordExecution: { kind: 'lane', lane: 'execution', required: laneGrants, grantsAsOfIssue: true },
  recordRollback: { kind: 'lane', lane: 'rollback', required: laneGrants, grantsAsOfIssue: true },
  writeDecisionPacket: { kind: 'lane', lane: 'any', required: none },
};
