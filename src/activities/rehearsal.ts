/**
 * The rehearsal proof on an isolated clone (DESIGN.md §Targets and proofs): a `BEGIN … ROLLBACK` pass, then the
 * committed apply followed by the rollback SQL, proving `after_apply ≠ before` and `after_rollback == before`
 * on the surface fingerprint. A plain rehearsal runs on an empty clone; a production-shaped one on a copy of
 * production. The clone must not be production (compared by database identity). Any failed check fails closed.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { PGlite } from '@electric-sql/pglite';
import { productionTarget } from '../domain/change-spec';
import type { EvidenceRef } from '../domain/lane-status';
import { isolationProblem } from '../domain/isolation';
import { fingerprintDiff, surfaceFingerprint } from './targets/fingerprint';
import { exclusive, identityOf, openClone, openProduction } from './targets/pglite';
import { writeLanePacket, type LaneWorkRequest } from './lane-request';

function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'RehearsalProofFailed');
}

async function applyAll(db: PGlite, steps: LaneWorkRequest['change']['steps'], which: 'apply' | 'rollback'): Promise<void> {
  const ordered = which === 'apply' ? steps : [...steps].reverse();
  for (const step of ordered) {
    try {
      await db.exec(step[which]);
    } catch (err) {
      refuse(`step ${step.id}: its ${which} SQL failed on the clone: ${(err as Error).message}`);
    }
  }
}

export async function rehearse(lanesHome: string, req: LaneWorkRequest): Promise<EvidenceRef> {
  const { change } = req;
  const production = await openProduction(lanesHome, productionTarget(change).name);
  const clone = await exclusive(production, (p) => openClone(req.shaped ? p : undefined));
  try {
    const [prodId, cloneId] = [await exclusive(production, identityOf), await identityOf(clone)];
    const notIsolated = isolationProblem(prodId, cloneId);
    if (notIsolated) refuse(notIsolated);
    const surface = change.surface;
    const before = await surfaceFingerprint(clone, surface);

    await clone.exec('BEGIN');
    await applyAll(clone, change.steps, 'apply');
    await clone.exec('ROLLBACK');
    const afterTransactional = await surfaceFingerprint(clone, surface);
    if (afterTransactional.hash !== before.hash) refuse(`BEGIN … ROLLBACK did not restore: ${fingerprintDiff(before, afterTransactional).join(', ')} differ`);

    await applyAll(clone, change.steps, 'apply');
    const afterApply = await surfaceFingerprint(clone, surface);
    if (afterApply.hash === before.hash) refuse('after_apply == before: the steps changed nothing on the surface, so the rollback proves nothing');
    await applyAll(clone, change.steps, 'rollback');
    const afterRollback = await surfaceFingerprint(clone, surface);
    if (afterRollback.hash !== before.hash) {
      refuse(`rollback did not restore the surface exactly: ${fingerprintDiff(before, afterRollback).join(', ')} differ(s) from before`);
    }
    return await writeLanePacket(lanesHome, req, {
      'rehearsal.json': {
        workflowId: req.workflowId,
        changeId: change.id,
        trustRootFingerprint: req.trustRootFingerprint,
        clone: { kind: req.shaped ? 'production-shaped (copy of production, new identity)' : 'empty', identity: cloneId, productionIdentity: prodId },
        proof: { status: 'PASSED', before: before.hash, afterTransactional: afterTransactional.hash, afterApply: afterApply.hash, afterRollback: afterRollback.hash },
      },
      'fingerprints.json': { before, afterApply, afterRollback },
    });
  } finally {
    await clone.close();
  }
}
