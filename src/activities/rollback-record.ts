/**
 * The rollback lane's packet, from production's own ledger and production itself (never from what the workflow
 * says): which steps this run rolled back, the fingerprint production had before the first of them, the fingerprint
 * now, and the proof that `after` is the baseline recorded before the execution's first step — or every difference.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { EvidenceRef } from '../domain/lane-status';
import { readBaseline, rolledBackByRun } from './rollback-ledger';
import { fingerprintDiff, surfaceFingerprint } from './targets/fingerprint';
import { openProduction } from './targets/open';
import { writeLanePacket, type AuthorizedWork } from './lane-request';
import type { WorkerPlace } from './worker-place';

export async function recordRollback(place: WorkerPlace, req: AuthorizedWork): Promise<EvidenceRef> {
  const db = await openProduction(place, req.change);
  const run = { changeId: req.change.id, workflowId: req.workflowId, runId: req.runId };
  const { rolledBack, baseline, after } = await db.session(async (s) => ({
    rolledBack: await rolledBackByRun(s, run),
    baseline: await readBaseline(s, req.change.id),
    after: await surfaceFingerprint(s, req.change.surface),
  }));
  if (rolledBack.length === 0) {
    throw ApplicationFailure.nonRetryable(`production's ledger shows no step rolled back by ${req.workflowId} (run ${req.runId}): production holds no applied step of change ${req.change.id} to undo`, 'RollbackFailed');
  }
  // Present whenever a step was rolled back: the ledger refuses a rollback without a baseline.
  const base = baseline!;
  const before = rolledBack[0]!.fingerprintBefore;
  const restored = after.hash === base.fingerprint.hash;
  const differences = fingerprintDiff(base.fingerprint, after);
  // The hash covers more than the per-object summary (e.g. a column default): never claim equality it did not prove.
  if (!restored && differences.length === 0) differences.push('the surface fingerprint differs in detail (see fingerprints.json)');
  return writeLanePacket(place, req, {
    'rollback.json': {
      workflowId: req.workflowId,
      runId: req.runId,
      production: { target: db.label, identity: await db.identity() },
      steps: rolledBack.map(({ stepId, rolledBackAt }) => ({ stepId, rolledBackAt })),
      baseline: { fingerprint: base.fingerprint.hash, recordedAt: base.recordedAt, by: base.workflowId, specHash: base.specHash },
      before: before.hash,
      after: after.hash,
      restored,
      differences,
    },
    'fingerprints.json': { baseline: base.fingerprint, before, after },
  });
}
