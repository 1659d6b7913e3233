/**
 * The lanes that look at production without changing it: dry-run (`BEGIN READ ONLY`, every step tried inside
 * it so a step that would write is caught, fingerprint at entry == exit) and precheck (the real run's
 * preconditions, read-only). Both fail closed when production moved under them.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { PGlite } from '@electric-sql/pglite';
import { productionTarget } from '../domain/change-spec';
import type { EvidenceRef } from '../domain/lane-status';
import { fingerprintDiff, surfaceFingerprint, type SurfaceFingerprint } from './targets/fingerprint';
import { exclusive, identityOf, openProduction } from './targets/pglite';
import { writeLanePacket, type LaneWorkRequest } from './lane-request';

/** Runs `fn` inside a read-only transaction that is always rolled back; entry and exit fingerprints must match. */
async function readOnly<T>(db: PGlite, req: LaneWorkRequest, fn: (db: PGlite) => Promise<T>): Promise<{ result: T; entry: SurfaceFingerprint; exit: SurfaceFingerprint; readOnly: string; role: string }> {
  const entry = await surfaceFingerprint(db, req.change.surface);
  await db.exec('BEGIN READ ONLY');
  let result: T;
  let ro: string;
  let role: string;
  try {
    ro = (await db.query<{ transaction_read_only: string }>('SHOW transaction_read_only')).rows[0]!.transaction_read_only;
    role = (await db.query<{ r: string }>('SELECT current_user AS r')).rows[0]!.r;
    if (ro !== 'on') throw ApplicationFailure.nonRetryable(`transaction_read_only is ${ro}, not on`, 'ProductionReadFailed');
    result = await fn(db);
  } finally {
    await db.exec('ROLLBACK');
  }
  const exit = await surfaceFingerprint(db, req.change.surface);
  if (exit.hash !== entry.hash) {
    throw ApplicationFailure.nonRetryable(`production changed during a read-only lane: ${fingerprintDiff(entry, exit).join(', ')}`, 'ProductionReadFailed');
  }
  return { result, entry, exit, readOnly: ro, role };
}

export async function dryRun(lanesHome: string, req: LaneWorkRequest): Promise<EvidenceRef> {
  const db = await openProduction(lanesHome, productionTarget(req.change).name);
  const run = await exclusive(db, () => readOnly(db, req, async (tx) => {
    const steps = [];
    for (const step of req.change.steps) {
      await tx.exec('SAVEPOINT step');
      try {
        await tx.exec(step.apply);
        steps.push({ id: step.id, wouldWrite: false });
      } catch (err) {
        steps.push({ id: step.id, wouldWrite: true, caught: (err as Error).message });
      }
      await tx.exec('ROLLBACK TO SAVEPOINT step');
    }
    return steps;
  }));
  return writeLanePacket(lanesHome, req, {
    'dry-run.json': {
      workflowId: req.workflowId,
      productionIdentity: await identityOf(db),
      transactionReadOnly: run.readOnly,
      role: run.role,
      entry: run.entry.hash,
      exit: run.exit.hash,
      entryEqualsExit: true,
      steps: run.result,
    },
  });
}

export async function precheck(lanesHome: string, req: LaneWorkRequest): Promise<EvidenceRef> {
  const db = await openProduction(lanesHome, productionTarget(req.change).name);
  const run = await exclusive(db, () => readOnly(db, req, async (tx) => {
    const applied = await tx.query<{ step_id: string; workflow_id: string }>(
      'SELECT step_id, workflow_id FROM gated_lanes.applied_steps WHERE change_id = $1 ORDER BY step_id',
      [req.change.id],
    );
    return applied.rows;
  }));
  if (run.result.length > 0) {
    const which = run.result.map((r) => `${r.step_id} (by ${r.workflow_id})`).join(', ');
    throw ApplicationFailure.nonRetryable(`precheck failed: steps already applied to production: ${which}`, 'PrecheckFailed');
  }
  return writeLanePacket(lanesHome, req, {
    'precheck.json': {
      workflowId: req.workflowId,
      productionIdentity: await identityOf(db),
      transactionReadOnly: run.readOnly,
      role: run.role,
      fingerprint: run.entry.hash,
      checks: [
        { check: 'production reachable and identified', result: 'PASS' },
        { check: 'read-only transaction', result: 'PASS' },
        { check: 'no step of this change already applied', result: 'PASS' },
        { check: 'entry == exit', result: 'PASS' },
      ],
    },
  });
}
