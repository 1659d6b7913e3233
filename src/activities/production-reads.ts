/**
 * The lanes that look at production without changing it, on any target engine: dry-run (`BEGIN READ ONLY`,
 * each statement EXPLAINed and then tried inside it, so a step that would write is caught by the engine and
 * never takes effect; `transaction_read_only` and the role captured; fingerprint at entry == exit) and precheck
 * (the real run's preconditions, read-only). Both fail closed when production moved under them.
 *
 * Both first check the change's SQL with PostgreSQL's own parser (src/sql/), and connect as the spec's read-only
 * role when it names one. The dry-run runs the step SQL one parsed statement at a time through the extended query
 * protocol (which refuses a text of several statements, so nothing the parser did not see as one statement runs),
 * under SET LOCAL statement_timeout / lock_timeout, and checks after every statement that the transaction is still
 * read-only and still the same role.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { EvidenceRef } from '../domain/lane-status';
import { productionTarget, type ChangeSpec } from '../domain/change-spec';
import { assertSqlContained } from '../sql/assert-contained';
import { splitStatements } from '../sql/statements';
import { fingerprintDiff, surfaceFingerprint, type SurfaceFingerprint } from './targets/fingerprint';
import { openProduction } from './targets/open';
import { inRolledBackTransaction, type Target, type TargetIdentity, type TargetSession } from './targets/target';
import { writeLanePacket, type AuthorizedWork } from './lane-request';
import type { WorkerPlace } from './worker-place';
import { MAX_PRECHECK_AGE_MS } from '../domain/point-of-action';
import { progress } from './progress';
import { resumeProblem } from './resume-ledger';
import { stepsAppliedBefore } from '../domain/resume';

interface ReadOnlyRun<T> {
  result: T;
  /** Which production was read (no secrets): for the lane's evidence. */
  production: { target: string; identity: TargetIdentity };
  entry: SurfaceFingerprint;
  exit: SurfaceFingerprint;
  transactionReadOnly: string;
  role: string;
}

/** Defaults for `targets.production.readTimeouts`: a read-only lane never waits long on production. */
export const DEFAULT_READ_TIMEOUTS = { statementMs: 5_000, lockMs: 1_000 } as const;

function readTimeouts(change: ChangeSpec): { statementMs: number; lockMs: number } {
  return productionTarget(change).readTimeouts ?? DEFAULT_READ_TIMEOUTS;
}

const readFailed = (message: string) => ApplicationFailure.nonRetryable(message, 'ProductionReadFailed');

/**
 * Fails closed unless the session is still in a read-only transaction as `role`. Extended protocol, like the
 * statements it follows.
 */
async function assertStillReadOnly(s: TargetSession, role: string, after: string): Promise<void> {
  let state: { ro: string; r: string } | undefined;
  try {
    [state] = await s.statement<{ ro: string; r: string }>("SELECT current_setting('transaction_read_only') AS ro, current_user::text AS r");
  } catch (err) {
    throw readFailed(`after ${after}, the read-only transaction could not be checked (${(err as Error).message}); the lane stops`);
  }
  if (state?.ro !== 'on') throw readFailed(`after ${after}, transaction_read_only reads ${state?.ro}, not on; the lane stops`);
  if (state.r !== role) throw readFailed(`after ${after}, the session runs as ${state.r}, not ${role}; the lane stops`);
}

/** Runs `fn` inside a read-only transaction that is always rolled back; entry and exit fingerprints must match. */
async function readOnly<T>(db: Target, req: AuthorizedWork, fn: (s: TargetSession, role: string) => Promise<T>): Promise<ReadOnlyRun<T>> {
  return db.session(async (s) => {
    progress('fingerprinting production (entry)');
    const entry = await surfaceFingerprint(s, req.change.surface);
    const inside = await inRolledBackTransaction(s, 'BEGIN READ ONLY', async () => {
      const limits = readTimeouts(req.change);
      // Integers from the schema, so safe in the text. Strings are read the way the SQL check parsed them.
      await s.exec(`SET LOCAL statement_timeout = ${limits.statementMs}; SET LOCAL lock_timeout = ${limits.lockMs}; SET LOCAL standard_conforming_strings = on`);
      const [ro] = await s.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
      const [role] = await s.query<{ r: string }>('SELECT current_user AS r');
      if (ro!.transaction_read_only !== 'on') throw ApplicationFailure.nonRetryable(`transaction_read_only is ${ro!.transaction_read_only}, not on`, 'ProductionReadFailed');
      return { transactionReadOnly: ro!.transaction_read_only, role: role!.r, result: await fn(s, role!.r) };
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

/** The lane's own savepoint handling; if it fails, the transaction is not the one the lane opened: stop. */
async function savepoint(s: TargetSession, sql: string, after: string): Promise<void> {
  try {
    await s.exec(sql);
  } catch (err) {
    throw readFailed(`after ${after}, \`${sql}\` failed (${(err as Error).message}); the lane stops`);
  }
}

/**
 * EXPLAIN, then try, one parsed statement in a savepoint of the read-only transaction: a write is refused by the
 * engine. Both go through the extended protocol, so `sql` runs as one statement or not at all.
 */
async function tryStatement(s: TargetSession, sql: string, role: string, where: string): Promise<StatementReport> {
  const report: StatementReport = { sql, explain: null, wouldWrite: false };
  await savepoint(s, 'SAVEPOINT explain', `EXPLAIN of ${where}`);
  try {
    report.explain = (await s.statement<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).map((r) => r['QUERY PLAN']);
  } catch (err) {
    report.explainError = (err as Error).message;
  }
  await savepoint(s, 'ROLLBACK TO SAVEPOINT explain', `EXPLAIN of ${where}`);
  await savepoint(s, 'SAVEPOINT step', where);
  try {
    await s.statement(sql);
    await assertStillReadOnly(s, role, where);
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    // Whatever failed here left nothing behind (the savepoint is rolled back); the message is evidence.
    report.caught = (err as Error).message;
  }
  await savepoint(s, 'ROLLBACK TO SAVEPOINT step', where);
  await assertStillReadOnly(s, role, where);
  // It would write if the engine refused it as a write, or if its plan modifies a table.
  report.wouldWrite = /read-only transaction/i.test(report.caught ?? '') || /^(Insert|Update|Delete|Merge) on /.test(report.explain?.[0] ?? '');
  return report;
}

export async function dryRun(place: WorkerPlace, req: AuthorizedWork): Promise<EvidenceRef> {
  await assertSqlContained(req.change);
  const db = await openProduction(place, req.change, { readOnly: true });
  const run = await readOnly(db, req, async (s, role) => {
    const steps = [];
    for (const [i, step] of req.change.steps.entries()) {
      progress(`step ${i + 1}/${req.change.steps.length} (${step.id}): EXPLAIN and try, read-only`);
      const statements: StatementReport[] = [];
      for (const st of splitStatements(step.apply)) statements.push(await tryStatement(s, st.text, role, `statement ${st.index} of step ${step.id}`));
      steps.push({ id: step.id, wouldWrite: statements.some((st) => st.wouldWrite), statements });
    }
    return steps;
  });
  return writeLanePacket(place, req, {
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

export async function precheck(place: WorkerPlace, req: AuthorizedWork): Promise<EvidenceRef> {
  await assertSqlContained(req.change);
  const db = await openProduction(place, req.change, { readOnly: true });
  const resuming = req.resumeFrom !== undefined;
  const run = await readOnly(db, req, async (s) => {
    // A resume (signed in the START) accepts exactly the change's own steps before it as applied, and nothing else.
    if (resuming) return { applied: [], resume: await resumeProblem(s, req.change.id, req.specHash, stepsAppliedBefore(req.change, req.resumeFrom)) };
    // A production Gated Lanes never applied a step to has no bookkeeping schema yet.
    const [ledger] = await s.query<{ t: string | null }>("SELECT to_regclass('gated_lanes.applied_steps')::text AS t");
    if (!ledger?.t) return { applied: [] };
    const applied = await s.query<{ step_id: string; workflow_id: string }>(
      'SELECT step_id, workflow_id FROM gated_lanes.applied_steps WHERE change_id = $1 ORDER BY step_id',
      [req.change.id],
    );
    return { applied };
  });
  if (run.result.resume) throw ApplicationFailure.nonRetryable(`precheck failed: ${run.result.resume}`, 'PrecheckFailed');
  if (run.result.applied.length > 0) {
    const which = run.result.applied.map((r) => `${r.step_id} (by ${r.workflow_id})`).join(', ');
    throw ApplicationFailure.nonRetryable(`precheck failed: steps already applied to production: ${which}`, 'PrecheckFailed');
  }
  // What the production worker re-reads at the point of action: this spec (change.json), this production, until when.
  const checkedAt = Date.now();
  const validFor = Math.min(req.precheckValidForMs ?? MAX_PRECHECK_AGE_MS, MAX_PRECHECK_AGE_MS);
  return writeLanePacket(place, req, {
    'precheck.json': {
      status: 'PASSED',
      specHash: req.specHash,
      checkedAt: new Date(checkedAt).toISOString(),
      validUntil: new Date(checkedAt + validFor).toISOString(),
      workflowId: req.workflowId,
      runId: req.runId,
      production: run.production,
      transactionReadOnly: run.transactionReadOnly,
      role: run.role,
      fingerprint: run.entry.hash,
      ...(resuming ? { resumeFrom: req.resumeFrom } : {}),
      checks: [
        { check: 'production reachable and identified', result: 'PASS' },
        { check: 'read-only transaction', result: 'PASS' },
        resuming
          ? { check: `exactly this change's steps before ${req.resumeFrom} applied, under this spec, none rolled back`, result: 'PASS' }
          : { check: 'no step of this change already applied', result: 'PASS' },
        { check: 'entry == exit', result: 'PASS' },
      ],
    },
  });
}
