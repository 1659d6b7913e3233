/** Builds and signs the envelopes the CLI sends: a fresh random nonce and issue time for every one. */
import { randomBytes } from 'node:crypto';
import type { EnvelopePayload, SignedAction, SignedEnvelope } from '../domain/envelope';
import { signEnvelope } from '../domain/signing';
import type { LaneKind } from '../domain/vocabulary';
import type { PrivateKeyFile } from './key-files';

export interface EnvelopeRequest {
  key: PrivateKeyFile;
  workflowId: string;
  changeId: string;
  /** Absent only for BLOCKER_UPDATE and CHARTER (sent to the change entity). */
  lane?: LaneKind;
  action: SignedAction;
  validForMs: number;
  /** The fingerprint of the trust root the signer signs under (pinned by the workers). */
  trustRoot: string;
  /** Lane envelopes: the canonical hash of the change spec the lane runs. */
  specHash?: string;
  /** Lane envelopes other than START_LANE: the lane's Temporal run id, and the id of its START. */
  runId?: string;
  startId?: string;
  /** START_LANE only: a rehearsal on a production-shaped clone; how long a precheck's pass stands. */
  shaped?: true;
  precheckValidForMs?: number;
  /** A step action's grant on an execution: arms an armed step for this long from its issue time. */
  armWindowMs?: number;
  /** START_LANE of an execution or precheck only: resume a half-applied change from this step. */
  resumeFrom?: string;
  /** REAL_RUN: the passed precheck's evidence tree. */
  precheckTree?: string;
  /** OPT4_PRODUCTION on an execution lane: the hash of the blocker map state approved. */
  blockersHash?: string;
  evidenceTree?: string;
  /** REVOKE: the grant id withdrawn. */
  revokes?: string;
  /** BLOCKER_UPDATE: the blocker, its new status, and the operator input it rests on. */
  blockerId?: string;
  blockerStatus?: EnvelopePayload['blockerStatus'];
  inputSha256?: string;
  /** OPERATOR_INPUT: what the input is. */
  inputKind?: string;
  /** CHARTER: the hash of the blocker map and rules approved. */
  charterHash?: string;
  /** For tests and probes only: reuse a nonce. */
  nonce?: string;
  /** For tests and probes only: sign as of another moment. */
  now?: number;
}

export function makeEnvelope(req: EnvelopeRequest): SignedEnvelope {
  const now = req.now ?? Date.now();
  const payload: EnvelopePayload = {
    v: 2,
    changeId: req.changeId,
    workflowId: req.workflowId,
    ...(req.lane ? { lane: req.lane } : {}),
    action: req.action,
    trustRoot: req.trustRoot,
    ...(req.specHash ? { specHash: req.specHash } : {}),
    ...(req.runId ? { runId: req.runId } : {}),
    ...(req.startId ? { startId: req.startId } : {}),
    ...(req.shaped ? { shaped: true as const } : {}),
    ...(req.precheckValidForMs !== undefined ? { precheckValidForMs: req.precheckValidForMs } : {}),
    ...(req.resumeFrom ? { resumeFrom: req.resumeFrom } : {}),
    ...(req.armWindowMs !== undefined ? { armWindowMs: req.armWindowMs } : {}),
    ...(req.precheckTree ? { precheckTree: req.precheckTree } : {}),
    ...(req.blockersHash ? { blockersHash: req.blockersHash } : {}),
    ...(req.evidenceTree ? { evidenceTree: req.evidenceTree } : {}),
    ...(req.revokes ? { revokes: req.revokes } : {}),
    ...(req.blockerId ? { blockerId: req.blockerId } : {}),
    ...(req.blockerStatus ? { blockerStatus: req.blockerStatus } : {}),
    ...(req.inputSha256 ? { inputSha256: req.inputSha256 } : {}),
    ...(req.inputKind ? { inputKind: req.inputKind } : {}),
    ...(req.charterHash ? { charterHash: req.charterHash } : {}),
    nonce: req.nonce ?? randomBytes(16).toString('hex'),
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + req.validForMs).toISOString(),
    keyId: req.key.keyId,
  };
  return signEnvelope(payload, req.key.privateKey);
}
