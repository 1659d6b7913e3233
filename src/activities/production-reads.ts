/**
 * The lanes that look at production without changing it, on any target engine: dry-run (`BEGIN READ ONLY`,
 * each statement EXPLAINed and then tried inside it, so a step that would write is caught by the engine and
 * never takes effect; `transaction_read_only` and the role captured; fingerprint at entry == exit) and precheck
 * (the real run's preconditions, read-only). Both fail closed when production moved under them.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { EvidenceRef } from '../domain/lane-status';
import { splitStatements } from '../domain/sql-statements';
import { fingerprintDiff, surfaceFingerprint, type SurfaceFingerprint } from './targets/fingerprint';
import { openProduction } from './targets/open';
import { inRolledBackTransaction, type Target, type TargetIdentity, type TargetSession } from './targets/target';
import { writeLanePacket, type LaneWorkRequest } from './lane-request';
import { progress } from './progress';

interface ReadOnlyRun<T> {
  result: T;
  /** Which production was read (no secrets): for the lane's evidence. */
  production: { target: string; identity: TargetIdentity };
  entry: SurfaceFingerprint;
  exit: SurfaceFingerprint;
  transactionReadOnly: string;
  role: string;
}

/** Runs `fn` inside a read-only transaction that is always rolled back; entry and exit fingerprints must match. */
async function readOnly<T>(db: Target, req: LaneWorkRequest, fn: (s: TargetSession) => Promise<T>): Promise<ReadOnlyRun<T>> {
  return db.session(async (s) => {
    progress('fingerprinting production (entry)');
    const entry = await surfaceFingerprint(s, req.change.surface);
    const inside = await inRolledBackTransaction(s, 'BEGIN READ ONLY', async () => {
      const [ro] = await s.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
      const [role] = await s.query<{ r: string }>('SELECT current_user AS r');
      if (ro!.transaction_read_only !== 'on') throw ApplicationFailure.nonRetryable(`transaction_read_only is ${ro!.transaction_read_only}, not on`, 'ProductionReadFailed');
      return { transactionReadOnly: ro!.transaction_read_only, role: role!.r, result: await fn(s) };
    });
    progress('fingerprinting production (exit)');
    const exit = await surfaceFingerprint(s, req.change.surface);
    if (exit.hash !== entry.hash) {
      throw ApplicationFailure.nonRetryable(`production changed during a read-only lane: ${fingerprintDiff(entry, exit).join(', ')}`, 'ProductionReadFailed');
    }
    return { ...inside, entry, exit };
  }).then(async (run) => ({ ...run, production: { target: db.label, identity: await db.identity() } }));
}

interface StatementReport {
  sql: string;
  /** The plan EXPLAIN gave, or why the statement has none (DDL and utility statements cannot be EXPLAINed). */
  explain: string[] | null;
  explainError?: string;
  wouldWrite: boolean;
  /** What the engine said when the statement tried to write inside the read-only transaction. */
  caught?: string;
}

/** EXPLAIN, then try, one statement in a savepoint of the read-only transaction: a write is refused by the engine. */
async function tryStatement(s: TargetSession, sql: string): Promise<StatementReport> {
  const report: StatementReport = { sql, explain: null, wouldWrite: false };
  await s.exec('SAVEPOINT explain');
  try {
    report.explain = (await s.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).map((r) => r['QUERY PLAN']);
  } catch (err) {
    report.explainError = (err as Error).message;
  }
  await s.exec('ROLLBACK TO SAVEPOINT explain');
  await s.exec('SAVEPOINT step');
  try {
    await s.exec(sql);
  } catch (err) {
    // Whatever failed here left nothing behind (the savepoint is rolled back); the message is evidence.
    report.caught = (err as Error).message;
  }
  await s.exec('ROLLBACK TO SAVEPOINT step');
  // It would write if the engine refused it as a write, or if its plan modifies a table.
  report.wouldWrite = /read-only transaction/i.test(report.caught ?? '') || /^(Insert|Update|Delete|Merge) on /.test(report.explain?.[0] ?? '');
  return report;
}

export async function dryRun(lanesHome: string, req: LaneWorkRequest): Promise<EvidenceRef> {
  const db = await openProduction(lanesHome, req.change);
  const run = await readOnly(db, req, async (s) => {
    const steps = [];
    for (const [i, step] of req.change.steps.entries()) {
      progress(`step ${i + 1}/${req.change.steps.length} (${step.id}): EXPLAIN and try, read-only`);
      const statements: StatementReport[] = [];
      for (const sql of splitStatements(step.apply)) statements.push(await tryStatement(s, sql));
      steps.push({ id: step.id, wouldWrite: statements.some((st) => st.wouldWrite), statements });
    }
    return steps;
  });
  return writeLanePacket(lanesHome, req, {
    'dry-run.json': {
      workflowId: req.workflowId,
      production: run.production,
      transactionReadOnly: run.transactionReadOnly,
      role: run.role,
      entry: run.entry.hash,
      exit: run.exit.hash,
      entryEqualsExit: true,
      steps: run.result,
    },
    'fingerprints.json': { entry: run.entry, exit: run.exit },
  });
}

export async function precheck(lanesHome: string, req: LaneWorkRequest): Promise<EvidenceRef> {
  const db = await openProduction(lanesHome, req.change);
  const run = await readOnly(db, req, async (s) => {
    // A production Gated Lanes never applied a step to has no bookkeeping schema yet.
    const [ledger] = await s.query<{ t: string | null }>("SELECT to_regclass('gated_lanes.applied_steps')::text AS t");
    if (!ledger?.t) return [];
    return s.query<{ step_id: string; workflow_id: string }>(
      'SELECT step_id, workflow_id FROM gated_lanes.applied_steps WHERE change_id = $1 ORDER BY step_id',
      [req.change.id],
    );
  });
  if (run.result.length > 0) {
    const which = run.result.map((r) => `${r.step_id} (by ${r.workflow_id})`).join(', ');
    throw ApplicationFailure.nonRetryable(`precheck failed: steps already applied to production: ${which}`, 'PrecheckFailed');
  }
  return writeLanePacket(lanesHome, req, {
    'precheck.json': {
      workflowId: req.workflowId,
      production: run.production,
      transactionReadOnly: run.transactionReadOnly,
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
