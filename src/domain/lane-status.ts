/** What the `status` query returns and a lane workflow returns when it ends. Plain data, safe for history. */
import type { RejectCode } from './envelope-rules';
import type { GrantAction, LaneKind, LaneState } from './vocabulary';

export interface GrantRecord {
  id: string;
  action: GrantAction;
  signer: { keyId: string; name: string };
  issuedAt: string;
  expiresAt: string;
  receivedAt: string;
}

export interface RejectedEnvelope {
  /** sha256 of the canonical payload, when it had one: lets the sender find its own verdict. */
  id?: string;
  receivedAt: string;
  signal: string;
  code: RejectCode;
  reason: string;
  keyId?: string;
  action?: string;
}

export interface EvidenceRef {
  dir: string;
  treeHash: string;
  files: number;
}

export interface ProbeResult {
  id: string;
  /** True when the bad input was refused, as it must be. */
  failedClosed: boolean;
  detail: string;
}

export interface ProbeReport {
  total: number;
  failedClosed: number;
  results: ProbeResult[];
}

export interface StepRecord {
  id: string;
  action: GrantAction;
  /** Execution: PENDING → RUNNING → APPLIED (APPLIED_EARLIER: before a resume, by the run that failed or held). Rollback: PENDING → RUNNING → ROLLED_BACK, or NOT_APPLIED (nothing to undo). */
  state: 'PENDING' | 'RUNNING' | 'APPLIED' | 'FAILED' | 'ROLLED_BACK' | 'NOT_APPLIED' | 'APPLIED_EARLIER';
  /** The grant ids the step was authorised by. */
  grants?: string[];
  appliedAt?: string;
  rolledBackAt?: string;
  /** An armed step: until when its grants arm it, and what its last look at production found. */
  armedUntil?: string;
  lastCheck?: string;
}

export interface LaneStatus {
  workflowId: string;
  changeId: string;
  lane: LaneKind;
  state: LaneState;
  startedBy?: { keyId: string; name: string };
  trustRootFingerprint?: string;
  /** Rehearsal only: on a production-shaped clone. */
  shaped?: boolean;
  /** sha256 of the canonical change spec this lane runs. */
  specHash?: string;
  requiredGrants: GrantAction[];
  grantsPresent: GrantRecord[];
  grantsMissing: GrantAction[];
  /** Ids of grants an owner revoked on this lane. */
  revoked: string[];
  rejected: RejectedEnvelope[];
  /** What the gate still waits for, one sentence each (empty when it may proceed). */
  waitingFor: string[];
  /** Blockers that stop this lane (execution only). */
  blockersOpen: string[];
  /** Execution only: each step as it ran. */
  steps?: StepRecord[];
  /** Execution and precheck: the signed START resumes a half-applied change from this step. */
  resumeFrom?: string;
  /** When the current wait for grants ends in HOLD. */
  deadline?: string;
  holdReason?: string;
  /** The owner's signed HOLD that ended the lane, if one did (silence until the deadline leaves this empty). */
  hold?: { id: string; by: { keyId: string; name: string }; receivedAt: string };
  failure?: string;
  evidence?: EvidenceRef;
  /** The lane's bad-input probes: N/N must fail closed. */
  probes?: { total: number; failedClosed: number; accepted: string[] };
  /** Where the decision packet rendered at the lane's end was written. */
  decisionPacket?: string;
  /** Operator inputs the lane accepted (signed by an operator; content in the evidence packet). */
  inputs?: OperatorInputRecord[];
}

export interface OperatorInputRecord {
  /** The envelope's id (sha256 of its canonical payload). */
  id: string;
  kind: string;
  sha256: string;
  bytes: number;
  by: { keyId: string; name: string };
  receivedAt: string;
}
