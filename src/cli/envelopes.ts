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
  lane: LaneKind;
  action: SignedAction;
  validForMs: number;
  evidenceTree?: string;
  /** For tests and probes only: sign as of another moment. */
  now?: number;
}

export function makeEnvelope(req: EnvelopeRequest): SignedEnvelope {
  const now = req.now ?? Date.now();
  const payload: EnvelopePayload = {
    v: 1,
    changeId: req.changeId,
    workflowId: req.workflowId,
    lane: req.lane,
    action: req.action,
    ...(req.evidenceTree ? { evidenceTree: req.evidenceTree } : {}),
    nonce: randomBytes(16).toString('hex'),
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + req.validForMs).toISOString(),
    keyId: req.key.keyId,
  };
  return signEnvelope(payload, req.key.privateKey);
}
