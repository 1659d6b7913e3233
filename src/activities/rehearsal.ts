/**
 * The rehearsal proof on an isolated clone (DESIGN.md §Targets and proofs; seeds 001–003 "rollback proven
 * byte/row-exact"), on any target engine:
 *   1. `BEGIN … ROLLBACK` of every step leaves the surface as it was;
 *   2. the committed apply changes it (`after_apply ≠ before`) and the rollback SQL restores it exactly
 *      (`after_rollback == before`);
 *   3. snapshot/restore as the second path: the before-state is captured with the engine's own dump, the steps
 *      are applied again, and restoring the capture gives `after_restore == before`.
 * A production-shaped clone is made from production by dump and load and must have production's schema
 * fingerprint (schema compatibility). The clone must not be production (compared by identity), nor share its
 * PostgreSQL cluster unless the spec declares so (src/domain/isolation.ts). The steps' SQL is checked with
 * PostgreSQL's own parser before anything runs (src/sql/). Any failed check fails the lane closed, naming the
 * tables that differ.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { EvidenceRef } from '../domain/lane-status';
import { checkIsolation } from '../domain/isolation';
import { assertSqlContained } from '../sql/assert-contained';
import { fingerprintDiff, surfaceFingerprint, type SurfaceFingerprint } from './targets/fingerprint';
import { openClone, openProduction } from './targets/open';
import type { TargetSession } from './targets/target';
import { writeLanePacket, type AuthorizedWork } from './lane-request';
import type { WorkerPlace } from './worker-place';
import { progress } from './progress';

function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'RehearsalProofFailed');
}

async function applyAll(s: TargetSession, steps: AuthorizedWork['change']['steps'], which: 'apply' | 'rollback'): Promise<void> {
  const ordered = which === 'apply' ? steps : [...steps].reverse();
  for (const step of ordered) {
    try {
      await s.exec(step[which]);
    } catch (err) {
      refuse(`step ${step.id}: its ${which} SQL failed on the clone: ${(err as Error).message}`);
    }
  }
}

const mustEqual = (before: SurfaceFingerprint, after: SurfaceFingerprint, what: string) => {
  if (after.hash !== before.hash) refuse(`${what} did not restore the surface exactly: ${fingerprintDiff(before, after).join(', ')} differ(s) from before`);
};

export async function rehearse(place: WorkerPlace, req: AuthorizedWork): Promise<EvidenceRef> {
  const { change } = req;
  await assertSqlContained(change);
  const surface = change.surface;
  const production = await openProduction(place, change);
  progress(req.shaped ? 'cloning production (dump and load)' : 'creating an empty clone');
  const clone = await openClone(place, change, !!req.shaped);
  try {
    const [prodId, cloneId] = [await production.identity(), await clone.identity()];
    const isolation = checkIsolation(prodId, cloneId, { sameClusterDeclared: change.targets?.clone?.sameClusterAsProduction === true, allow: surface?.allow });
    if (!isolation.ok) refuse(isolation.problem);
    const fingerprint = () => clone.session((s) => surfaceFingerprint(s, surface));
    progress('fingerprinting the surface (before)');
    const before = await fingerprint();

    let compatibility: { productionSchema: string; cloneSchema: string; equal: true } | undefined;
    if (req.shaped) {
      const schemaOf = (t: typeof production) => t.session((s) => surfaceFingerprint(s, surface, { schemaOnly: true }), { readOnly: true });
      const [prodSchema, cloneSchema] = [await schemaOf(production), await schemaOf(clone)];
      if (prodSchema.schemaHash !== cloneSchema.schemaHash) {
        refuse(`the production-shaped clone's schema differs from production's: ${fingerprintDiff(prodSchema, cloneSchema).join(', ')}`);
      }
      compatibility = { productionSchema: prodSchema.schemaHash, cloneSchema: cloneSchema.schemaHash, equal: true };
    }

    /** Runs every step's apply (or rollback) SQL on the clone — inside BEGIN … ROLLBACK if asked — then fingerprints. */
    const runSteps = (which: 'apply' | 'rollback', rolledBack = false) =>
      clone.session(async (s) => {
        if (rolledBack) await s.exec('BEGIN');
        await applyAll(s, change.steps, which);
        if (rolledBack) await s.exec('ROLLBACK');
        return surfaceFingerprint(s, surface);
      });

    progress('BEGIN … ROLLBACK pass');
    const afterTransactional = await runSteps('apply', true);
    mustEqual(before, afterTransactional, 'BEGIN … ROLLBACK');

    progress('snapshot, then committed apply and rollback SQL');
    await clone.snapshot();
    const afterApply = await runSteps('apply');
    if (afterApply.hash === before.hash) refuse('after_apply == before: the steps changed nothing on the surface, so the rollback proves nothing');
    const afterRollback = await runSteps('rollback');
    mustEqual(before, afterRollback, 'the rollback SQL');

    const afterReapply = await runSteps('apply');
    if (afterReapply.hash === before.hash) refuse('the second apply changed nothing, so the snapshot restore proves nothing');
    progress('restoring the snapshot');
    await clone.restore();
    const afterRestore = await fingerprint();
    mustEqual(before, afterRestore, 'the snapshot restore');

    return await writeLanePacket(place, req, {
      'rehearsal.json': {
        workflowId: req.workflowId,
        changeId: change.id,
        trustRootFingerprint: req.trustRootFingerprint,
        engine: clone.engine,
        isolation: { clone: cloneId, production: prodId, isolated: true, checked: isolation.kind, detail: isolation.detail },
        proof: {
          status: 'PASSED',
          before: before.hash,
          afterTransactional: afterTransactional.hash,
          afterApply: afterApply.hash,
          afterRollback: afterRollback.hash,
          afterReapply: afterReapply.hash,
          afterRestore: afterRestore.hash,
          checks: ['BEGIN … ROLLBACK == before', 'after_apply != before', 'after_rollback == before', 'after_restore (snapshot) == before'],
        },
      },
      'clone-provenance.json': { ...clone.provenance, clone: clone.label },
      ...(compatibility ? { 'schema-compatibility.json': compatibility } : {}),
      'fingerprints.json': { before, afterApply, afterRollback, afterRestore },
    });
  } finally {
    await clone.dispose();
  }
}
