/**
 * The crash harness (issue 6): lanes run on a worker process that is `kill -9`ed at random moments — some chosen
 * while a production step is running — and restarted, again and again. Shared by `npm test` (at least 10 kills)
 * and the benchmark (100). Afterwards every lane must have completed, its evidence tree must be the one on disk
 * and in its memo, and each production step must have taken effect exactly once in the target database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { ChangeSpec } from '../../src/domain/change-spec';
import type { LaneStatus } from '../../src/domain/lane-status';
import { verifyEvidenceDir } from '../../src/evidence/local-store';
import { closeTargets, openProduction } from '../../src/activities/targets/open';
import { grantEnvelope, startLane, type Harness, type Keys } from '../support/lane-helpers';

export interface CrashReport {
  kills: number;
  /** Kills that landed while an applyProductionStep attempt was running. */
  killsInProduction: number;
  lanes: number;
  lanesCompleted: number;
  productionSteps: number;
  duplicateSteps: number;
  missingSteps: number;
  evidenceMismatches: string[];
  /** Lanes that did not complete, with why. */
  failures: string[];
  seed: number;
}

/** A change whose production effects can be counted: a duplicate step would leave a second row. */
export function crashChange(id: string): ChangeSpec {
  return {
    v: 1,
    id,
    title: 'crash harness change',
    surface: { tables: ['crash_log'], functions: [] },
    steps: [
      { id: 'create', action: 'APPLY', apply: "CREATE TABLE crash_log (step text NOT NULL); INSERT INTO crash_log VALUES ('create'); SELECT pg_sleep(0.5);", rollback: 'DROP TABLE crash_log;' },
      { id: 'activate', action: 'ACTIVATION', apply: "INSERT INTO crash_log VALUES ('activate'); SELECT pg_sleep(0.5);", rollback: "DELETE FROM crash_log WHERE step = 'activate';" },
    ],
  };
}

/** Deterministic pseudo-random numbers, so a failing run can be repeated with its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Stops a child process: SIGTERM, then SIGKILL if it is still there after 20 s; at once when it already exited. */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  });
}

/** A lane worker in a process of its own (the crash harness kills it; bench P3 measures its memory). */
export class WorkerProcess {
  private child?: ChildProcess;

  get pid(): number | undefined {
    return this.child?.pid;
  }
  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'crash-worker.ts')], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (l) => l === 'ready' && resolve());
      child.once('exit', (code) => reject(new Error(`crash worker exited (${code}) before it was ready`)));
    });
  }

  kill9(): Promise<void> {
    const child = this.child!;
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}

async function productionRunning(client: Client, workflowIds: string[]): Promise<boolean> {
  for (const id of workflowIds) {
    const d = await client.workflow.getHandle(id).describe().catch(() => undefined);
    const started = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
    if (d?.raw.pendingActivities?.some((a) => a.activityType?.name === 'applyProductionStep' && a.state === started)) return true;
  }
  return false;
}

export async function runCrashHarness(opts: { h: Harness; keys: Keys; bundlePath: string; kills: number; seed?: number; log?: (m: string) => void }): Promise<CrashReport> {
  const { h, keys } = opts;
  const seed = opts.seed ?? Date.now() % 1_000_000;
  const random = rng(seed);
  const log = opts.log ?? (() => undefined);
  const worker = new WorkerProcess({
    CRASH_WORKER: JSON.stringify({ address: h.address, taskQueue: h.taskQueue, lanesHome: h.lanesHome, trustRootPath: keys.trustRootPath, bundlePath: opts.bundlePath }),
  });
  await worker.start();
  const report: CrashReport = { kills: 0, killsInProduction: 0, lanes: 0, lanesCompleted: 0, productionSteps: 0, duplicateSteps: 0, missingSteps: 0, evidenceMismatches: [], failures: [], seed };
  const executions: { change: ChangeSpec; workflowId: string; completed: boolean }[] = [];
  const results: { workflowId: string; result: LaneStatus }[] = [];
  const running: string[] = [];

  const runLane = async (change: ChangeSpec, lane: 'rehearsal' | 'precheck' | 'execution', actions: string[], trees: { evidenceTree?: string; precheckTree?: string } = {}) => {
    const { workflowId } = await startLane(h, keys, { lane, change });
    report.lanes++;
    running.push(workflowId);
    const handle = h.client.workflow.getHandle(workflowId);
    // Each grant carries only the trees its action names (grantEnvelope drops the rest).
    for (const a of actions) await handle.signal('grant', grantEnvelope(keys, workflowId, change.id, lane, a as never, trees));
    const result = (await handle.result().catch((err: Error & { cause?: Error & { cause?: Error } }) => {
      report.failures.push(`${workflowId}: ${err.cause?.message ?? err.message}${err.cause?.cause ? ` ← ${err.cause.cause.message}` : ''}`);
      return { state: 'FAILED' } as LaneStatus;
    })) as LaneStatus;
    running.splice(running.indexOf(workflowId), 1);
    results.push({ workflowId, result });
    // Failed executions are checked for duplicates too; only completed ones must have every step.
    if (lane === 'execution') executions.push({ change, workflowId, completed: result.state === 'COMPLETED' });
    if (result.state !== 'COMPLETED') throw new Error(`lane ${workflowId} ended ${result.state}`);
    return result;
  };
  const pipeline = async (n: number) => {
    const change = crashChange(`crash-${seed}-${n}`);
    const rehearsal = await runLane(change, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
    const precheck = await runLane(change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    await runLane(change, 'execution', ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'], { evidenceTree: rehearsal.evidence!.treeHash, precheckTree: precheck.evidence!.treeHash });
  };

  // Waves of two changes at a time, until enough kills have landed; the killer runs beside them.
  let n = 0;
  while (report.kills < opts.kills) {
    // A failed lane ends its change's pipeline (it is in the report); the other carries on.
    const wave = Promise.all([pipeline(n++), pipeline(n++)].map((p) => p.catch(() => undefined)));
    let done = false;
    void wave.finally(() => (done = true)).catch(() => undefined);
    while (!done && report.kills < opts.kills) {
      // Half the kills wait for a production step to be running (up to 30 s); the rest land anywhere.
      const targeted = random() < 0.5;
      const until = Date.now() + (targeted ? 30_000 : 500 + random() * 3500);
      let inProduction = false;
      while (Date.now() < until && !done) {
        if (targeted && (inProduction = await productionRunning(h.client, [...running]))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (done) break;
      if (!targeted) inProduction = await productionRunning(h.client, [...running]);
      await worker.kill9();
      report.kills++;
      if (inProduction) report.killsInProduction++;
      log(`kill ${report.kills}${inProduction ? ' (inside a production step)' : ''}`);
      await worker.start();
    }
    await wave;
  }
  await worker.stop();

  report.lanesCompleted = results.filter((r) => r.result.state === 'COMPLETED').length;
  for (const { workflowId, result } of results) {
    if (!result.evidence) continue;
    const onDisk = verifyEvidenceDir(result.evidence.dir);
    const { memo } = await h.client.workflow.getHandle(workflowId).describe();
    if (onDisk.problems.length > 0 || onDisk.treeHash !== result.evidence.treeHash || memo?.evidenceTree !== result.evidence.treeHash) {
      report.evidenceMismatches.push(`${workflowId}: result ${result.evidence.treeHash}, disk ${onDisk.treeHash} ${onDisk.problems.join('; ')}, memo ${String(memo?.evidenceTree)}`);
    }
  }
  for (const { change, workflowId, completed } of executions) {
    const db = await openProduction(h.lanesHome, change);
    const effects = await db.session((s) => s.query<{ step: string; n: number }>('SELECT step, count(*)::int AS n FROM crash_log GROUP BY step'));
    const ledger = await db.session((s) => s.query<{ step_id: string; n: number }>('SELECT step_id, count(*)::int AS n FROM gated_lanes.applied_steps WHERE workflow_id = $1 GROUP BY step_id', [workflowId]));
    for (const step of change.steps) {
      report.productionSteps++;
      const effect = effects.find((e) => e.step === step.id)?.n ?? 0;
      const recorded = ledger.find((l) => l.step_id === step.id)?.n ?? 0;
      if (effect > 1 || recorded > 1) report.duplicateSteps++;
      if (completed && (effect === 0 || recorded === 0)) report.missingSteps++;
    }
  }
  await closeTargets();
  return report;
}
