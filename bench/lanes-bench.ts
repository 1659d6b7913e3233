/**
 * P1–P3 and the crash harness (issue 6), on a dev server and workers of the benchmark's own:
 *   P1 gate overhead: a 6-step execution lane, all grants sent at start ÷ a bare workflow running the same 6 SQL
 *      steps on the same engine after the same 6 signals;
 *   P2 grant signal → gated activity started (rehearsal lane), p50 and p99 ÷ bare signal → activity started;
 *   P3 N lanes parked waiting for grants: worker process RSS, and time for all to finish once granted;
 *   crash: the worker kill -9 harness, its kills, lanes completed and duplicate production steps.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { startDevServer } from '../src/server/dev-server';
import { ensureSearchAttributes } from '../src/server/namespace-setup';
import { createLaneWorkers } from '../src/worker/lane-worker';
import { inTransaction, BOOKKEEPING_SQL } from '../src/activities/targets/target';
import { pgliteSession, targetDir, withPgliteDb } from '../src/activities/targets/pglite';
import type { ChangeSpec } from '../src/domain/change-spec';
import type { LaneStatus } from '../src/domain/lane-status';
import { statusQuery } from '../src/workflows/messages';
import { charterChange, grantEnvelope, makeKeys, runLaneWithGrants, startLane, waitFor, type Harness, type Keys } from '../test/support/lane-helpers';
import { runCrashHarness, stopChild } from '../test/faults/crash-harness';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { atMost, measured, median, seconds, type BenchResult, type Log } from './measure';
import { startup } from './startup';

type Event = temporal.api.history.v1.IHistoryEvent;
const ms = (e: Event | undefined) => (e?.eventTime ? Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6) : NaN);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const SIX_STEPS = (id: string, production?: string): ChangeSpec => ({
  v: 1,
  id,
  title: 'six-step bench change',
  surface: { tables: ['bench_t'], functions: [] },
  ...(production ? { targets: { production: { engine: 'pglite' as const, name: production } } } : {}),
  steps: [
    { id: 's1', action: 'APPLY', apply: 'CREATE TABLE bench_t (x int);', rollback: 'DROP TABLE bench_t;' },
    { id: 's2', action: 'APPLY', apply: 'INSERT INTO bench_t VALUES (2);', rollback: 'DELETE FROM bench_t WHERE x = 2;' },
    { id: 's3', action: 'PERMIT', apply: 'INSERT INTO bench_t VALUES (3);', rollback: 'DELETE FROM bench_t WHERE x = 3;' },
    { id: 's4', action: 'ACTIVATION', apply: 'INSERT INTO bench_t VALUES (4);', rollback: 'DELETE FROM bench_t WHERE x = 4;' },
    { id: 's5', action: 'ACTIVATION', apply: 'INSERT INTO bench_t VALUES (5);', rollback: 'DELETE FROM bench_t WHERE x = 5;' },
    { id: 's6', action: 'CUTOVER', apply: 'INSERT INTO bench_t VALUES (6);', rollback: 'DELETE FROM bench_t WHERE x = 6;' },
  ],
});
const SIX_GRANTS = ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'PERMIT', 'ACTIVATION', 'CUTOVER'] as const;

interface Stack {
  h: Harness;
  keys: Keys;
  bundlePath: string;
  bareQueue: string;
  /** The bare activities' second queue, served by a worker of its own (same topology as production steps). */
  bareActivityQueue: string;
  close(): Promise<void>;
}

async function stack(log: Log): Promise<Stack> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  log('starting a dev server');
  const server = await startDevServer({});
  const connection = await Connection.connect({ address: server.address });
  await ensureSearchAttributes(connection, 'default');
  const client = new Client({ connection });
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-'));
  const bundlePath = join(dir, 'workflows.js');
  // The prebuilt bundle scripts/bench.mjs brought up to date (scripts/build.mjs), copied: a rebuild during the run
  // must not change it under a worker.
  copyFileSync(join(__dirname, '..', 'dist', 'workflow-bundle.js'), bundlePath);
  const keys = makeKeys();
  const lanesHome = join(dir, 'home');
  const taskQueue = `bench-${randomUUID()}`;
  const native = await NativeConnection.connect({ address: server.address });
  const lanes = await createLaneWorkers({ connection: native, namespace: 'default', taskQueue, activities: { trustRootPath: keys.trustRootPath, lanesHome }, workflowBundle: { codePath: bundlePath } });
  const bareQueue = `${taskQueue}-bare`;
  const bareActivities = {
    // The same work a production step does: its SQL and a ledger row, in one transaction, on PGlite.
    async bareApply(db: string, stepId: string, sql: string) {
      await withPgliteDb(targetDir(lanesHome, db), (pg) => inTransaction(pgliteSession(pg), async () => {
        await pg.exec(BOOKKEEPING_SQL);
        await pg.query('INSERT INTO gated_lanes.applied_steps (workflow_id, step_id, change_id) VALUES ($1, $2, $3)', [db, stepId, db]);
        await pg.exec(sql);
      }));
    },
  };
  const bare = await Worker.create({ connection: native, taskQueue: bareQueue, workflowsPath: require.resolve('./workflows'), activities: bareActivities });
  // A second worker, activities only, on a second queue: what the lane's production worker is to its lane worker.
  const bareActivityQueue = `${bareQueue}-activities`;
  const bareSecond = await Worker.create({ connection: native, taskQueue: bareActivityQueue, activities: bareActivities });
  const runs = [lanes.run(), bare.run(), bareSecond.run()];
  const h = { client, address: server.address, taskQueue, lanesHome } as Harness;
  return {
    h,
    keys,
    bundlePath,
    bareQueue,
    bareActivityQueue,
    async close() {
      lanes.shutdown();
      bare.shutdown();
      bareSecond.shutdown();
      await Promise.allSettled(runs);
      await native.close();
      await connection.close();
      await server.teardown();
    },
  };
}


/** One bare run: `signals` signals, then the steps; the activities on the workflow's queue or on the second one. */
async function bareRun(s: Stack, db: string, signals: number, steps: { id: string; sql: string }[], secondQueue: boolean) {
  const handle = await s.h.client.workflow.start('bareSteps', { taskQueue: s.bareQueue, workflowId: `bare-${randomUUID()}`, args: [{ db, signals, steps, ...(secondQueue ? { activityQueue: s.bareActivityQueue } : {}) }] });
  return handle;
}

/** Where a finished workflow's time went: per activity type, seconds from scheduled to completed, summed. */
async function activityTimes(s: Stack, workflowId: string): Promise<Map<string, number>> {
  const events = (await s.h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Map<string, Event>();
  const out = new Map<string, number>();
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e);
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    if (done) {
      const start = scheduled.get(String(done.scheduledEventId));
      const name = start?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      out.set(name, (out.get(name) ?? 0) + (ms(e) - ms(start)) / 1000);
    }
  }
  out.set('(whole run)', (ms(events.at(-1)) - ms(events[0])) / 1000);
  return out;
}

async function p1(s: Stack, repeat: number, log: Log): Promise<BenchResult[]> {
  const breakdown = new Map<string, number[]>();
  const lane: number[] = [];
  const bare: number[] = [];
  const bare2: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const change = SIX_STEPS(`p1-${r}-${randomUUID().slice(0, 6)}`);
    const tree = (await runLaneWithGrants(s.h, s.keys, change, 'rehearsal', ['AUTHORIZE_REHEARSAL'])).result.evidence!.treeHash;
    await runLaneWithGrants(s.h, s.keys, change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    // The owners' charter, like the rehearsal and the precheck, comes before the execution and is not timed.
    await charterChange(s.h, s.keys, change);
    let laneId = '';
    lane.push(await seconds(async () => {
      const { workflowId } = await startLane(s.h, s.keys, { lane: 'execution', change, charter: false });
      laneId = workflowId;
      const handle = s.h.client.workflow.getHandle(workflowId);
      for (const a of SIX_GRANTS) await handle.signal('grant', grantEnvelope(s.keys, workflowId, change.id, 'execution', a, a === 'REAL_RUN' || a === 'APPLY' ? { evidenceTree: tree } : {}));
      const result = (await handle.result()) as LaneStatus;
      if (result.state !== 'COMPLETED') throw new Error(`P1 lane ended ${result.state}`);
    }));
    for (const [name, secs] of await activityTimes(s, laneId)) breakdown.set(name, [...(breakdown.get(name) ?? []), secs]);
    // The lane's production database is already open (its precheck opened it): open the bare one first too.
    const db = `bare-${randomUUID()}`;
    await withPgliteDb(targetDir(s.h.lanesHome, db), async () => undefined);
    const steps = change.steps.map((st) => ({ id: st.id, sql: st.apply }));
    for (const [second, into] of [[false, bare], [true, bare2]] as const) {
      const bareDb = second ? `${db}-2` : db;
      if (second) await withPgliteDb(targetDir(s.h.lanesHome, bareDb), async () => undefined);
      into.push(await seconds(async () => {
        const handle = await bareRun(s, bareDb, 6, steps, second);
        for (let i = 0; i < 6; i++) await handle.signal('go');
        await handle.result();
      }));
    }
    log(`P1 run ${r + 1}: lane ${lane.at(-1)!.toFixed(2)} s, bare ${bare.at(-1)!.toFixed(2)} s, bare on a second queue ${bare2.at(-1)!.toFixed(2)} s`);
  }
  const subject = measured('6-step execution lane, all grants sent at start (start → completed)', lane);
  const where = [...breakdown.entries()].map(([name, xs]) => `${name} ${median(xs).toFixed(3)} s`).join(', ');
  const notes = [
    'Both databases are open before timing, and the change is chartered (as it is rehearsed and prechecked) before the lane starts. The lane also loads the trust root, runs its bad-input probes, registers with its change entity, re-verifies every grant in the production interceptor, and writes evidence and a decision packet.',
    `Where the lane's time goes (medians from its history, scheduled → completed per activity type, summed): ${where}.`,
  ];
  const mk = (id: string, title: string, goal: number, baseline: ReturnType<typeof measured>, note: string): BenchResult => {
    const ratio = subject.median / baseline.median;
    return { id, title, goal: `ratio <= ${goal}`, ratioIs: 'lane seconds / bare seconds', subject, baseline, ratio, met: ratio <= goal, notes: [...notes, note] };
  };
  return [
    mk('P1', 'Gate overhead: 6-step execution lane vs bare workflow (activities on its own queue)', 1.15, measured('bare workflow: 6 signals, then the same 6 SQL steps, on its own queue', bare), 'The original baseline: one worker, one queue.'),
    mk('P1-topology', 'Gate overhead: 6-step execution lane vs bare workflow, same topology', 2, measured('bare workflow: 6 signals, then the same 6 SQL steps on a second queue served by a second worker', bare2), "Same topology as the lane: its production steps run on `<queue>-production`, served by the production worker; the bare workflow's activities run on a second queue served by a second worker."),
  ];
}

async function p2(s: Stack, repeat: number, log: Log): Promise<BenchResult[]> {
  const lane: number[] = [];
  const bare: number[] = [];
  const bare2: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const change: ChangeSpec = { ...SIX_STEPS(`p2-${r}-${randomUUID().slice(0, 6)}`) };
    const { workflowId } = await startLane(s.h, s.keys, { lane: 'rehearsal', change });
    const handle = s.h.client.workflow.getHandle(workflowId);
    await waitFor('WAITING_FOR_GRANT', async () => ((await handle.query(statusQuery)).state === 'WAITING_FOR_GRANT' ? true : undefined), 60_000);
    // The same pause the bare workflow gets before its signal: the grant meets a lane at rest (its change entity's
    // first view may still be on its way when it starts waiting), as an owner's grant, seconds later, does.
    await new Promise((res) => setTimeout(res, 200));
    await handle.signal('grant', grantEnvelope(s.keys, workflowId, change.id, 'rehearsal', 'AUTHORIZE_REHEARSAL'));
    await handle.result();
    const events = (await handle.fetchHistory()).events ?? [];
    const signal = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'grant');
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'rehearseOnClone');
    const started = events.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled?.eventId?.toString());
    lane.push((ms(started) - ms(signal)) / 1000);

    for (const [second, into] of [[false, bare], [true, bare2]] as const) {
      const bareDb = `bare-${randomUUID()}`;
      await withPgliteDb(targetDir(s.h.lanesHome, bareDb), async () => undefined);
      const bareHandle = await bareRun(s, bareDb, 1, [{ id: 's1', sql: 'SELECT 1' }], second);
      await new Promise((res) => setTimeout(res, 200));
      await bareHandle.signal('go');
      await bareHandle.result();
      const be = (await bareHandle.fetchHistory()).events ?? [];
      into.push((ms(be.find((e) => e.activityTaskStartedEventAttributes)) - ms(be.find((e) => e.workflowExecutionSignaledEventAttributes))) / 1000);
    }
  }
  log(`P2: lane p50 ${(median(lane) * 1000).toFixed(0)} ms, bare p50 ${(median(bare) * 1000).toFixed(0)} ms, bare on a second queue p50 ${(median(bare2) * 1000).toFixed(0)} ms`);
  const samples = (xs: number[]) => xs.map((x) => (x * 1000).toFixed(0)).join(', ');
  const mk = (p: number, topology: boolean): BenchResult => {
    const subject = measured(`grant signal → gated activity started, p${p} (rehearsal lane)`, [pct(lane, p)]);
    const baseline = topology
      ? measured(`signal → activity started, p${p} (bare workflow, activity on a second queue served by a second worker)`, [pct(bare2, p)])
      : measured(`signal → activity started, p${p} (bare workflow, activity on its own queue)`, [pct(bare, p)]);
    const ratio = subject.median / baseline.median;
    const goal = topology ? 1.5 : 1.2;
    return {
      id: `P2${topology ? '-topology' : ''}-p${p}`,
      title: `Grant signal → gated activity started, p${p}${topology ? ', baseline on a second queue' : ''}`,
      goal: `ratio <= ${goal}`,
      ratioIs: 'lane seconds / bare seconds (from history event times)',
      subject,
      baseline,
      ratio,
      met: ratio <= goal,
      notes: [
        "Between the grant and the activity the lane verifies the grant's Ed25519 signature in pure JS (the workflow sandbox has no node:crypto), re-evaluates its gate, updates its status and search attributes, and reports the nonce to its change entity in the same workflow task (no longer waiting for the entity's answer).",
        ...(topology ? ["The rehearsal lane's gated activity (rehearseOnClone) runs on the lane's own queue; production steps, which P1 times, run on the second queue."] : []),
        `${repeat} lanes and ${repeat} bare workflows of each kind; samples lane ${samples(lane)} ms; bare ${samples(bare)} ms; bare on a second queue ${samples(bare2)} ms.`,
      ],
    };
  };
  return [mk(50, false), mk(99, false), mk(50, true), mk(99, true)];
}

/** Resident memory of a process, from /proc (Linux). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** `lanes worker` as deployed (compiled, prebuilt workflow bundle, default cache), in a process of its own. */
class CompiledWorker {
  private child?: ChildProcess;
  get pid(): number | undefined {
    return this.child?.pid;
  }
  constructor(private readonly env: Record<string, string>) {}
  async start(): Promise<void> {
    const child = spawn(process.execPath, [join(__dirname, '..', 'bin', 'lanes.js'), 'worker'], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stderr! }).on('line', (l) => (l.startsWith('[lanes worker] polling') ? resolve() : process.stderr.write(`[p3 worker] ${l}\n`)));
      child.once('exit', (code) => reject(new Error(`lanes worker exited (${code}) before it polled`)));
    });
  }
  stop(): Promise<void> {
    return stopChild(this.child);
  }
}

/**
 * P3's lanes are changes to one production: a PGlite production is a data directory of ~40 MiB on disk, so 2,000
 * changes with a production each would need ~80 GB (bench R1-new-prod times rehearsals against new productions).
 */
const P3_PRODUCTION = 'p3-production';

async function p3(s: Stack, count: number, log: Log, drain = true): Promise<BenchResult[]> {
  // The worker under test is `lanes worker`, compiled, alone in its own process (default cache), on its own queue
  // and lanes home: its RSS is the worker's, not the benchmark's.
  const h = { ...s.h, taskQueue: `${s.h.taskQueue}-p3`, lanesHome: `${s.h.lanesHome}-p3` };
  const worker = new CompiledWorker({ TEMPORAL_ADDRESS: h.address, LANES_TASK_QUEUE: h.taskQueue, LANES_HOME: h.lanesHome, LANES_TRUST_ROOT: s.keys.trustRootPath, LANES_LOG_LEVEL: 'ERROR' });
  await worker.start();
  try {
    const rssIdle = rssOf(worker.pid!);
    const lanes: { workflowId: string; change: ChangeSpec }[] = [];
    const t0 = Date.now();
    // One lane first: what the worker loads once, on its first lane (the probes' PGlite database, the SQL parser's
    // WASM), is not what each further lane costs.
    const first = await startLane(h, s.keys, { lane: 'rehearsal', change: SIX_STEPS(`p3-first-${randomUUID().slice(0, 6)}`, P3_PRODUCTION) });
    await waitFor('parked', async () => ((await h.client.workflow.getHandle(first.workflowId).query(statusQuery)).state === 'WAITING_FOR_GRANT' ? true : undefined), 600_000);
    const rssFirst = rssOf(worker.pid!);
    lanes.push(first);
    for (let i = 1; i < count; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, count - i) }, (_, k) => startLane(h, s.keys, { lane: 'rehearsal', change: SIX_STEPS(`p3-${i + k}-${randomUUID().slice(0, 6)}`, P3_PRODUCTION) })),
      );
      lanes.push(...batch);
      if (Math.floor(lanes.length / 250) > Math.floor((lanes.length - batch.length) / 250)) log(`P3: ${lanes.length} lanes started`);
    }
    let parked = 0;
    for (const l of lanes) {
      await waitFor('parked', async () => ((await h.client.workflow.getHandle(l.workflowId).query(statusQuery)).state === 'WAITING_FOR_GRANT' ? true : undefined), 600_000);
      parked++;
    }
    const parkedIn = (Date.now() - t0) / 1000;
    const rss = rssOf(worker.pid!);
    log(`P3: ${parked} lanes parked in ${parkedIn.toFixed(0)} s; worker RSS ${(rss / 2 ** 20).toFixed(0)} MiB (idle ${(rssIdle / 2 ** 20).toFixed(0)} MiB)`);
    const perLaneResult = (): BenchResult => {
      const perLane = (rss - rssFirst) / (count - 1) / 2 ** 20;
      const cached = Math.min(2 * count, Number(process.env.LANES_MAX_CACHED_WORKFLOWS ?? 200));
      return { id: 'P3-per-lane', title: `${count} parked lanes: worker RSS per parked lane (MiB)`, goal: 'subject <= 1 MiB; idle <= 300 MiB', ratioIs: '(RSS with all parked − RSS with the first parked) / (lanes − 1), MiB', subject: measured('RSS growth per further parked lane (MiB)', [perLane]), baseline: measured('idle worker RSS (MiB)', [rssIdle / 2 ** 20]), ratio: perLane, met: perLane <= 1 && rssIdle / 2 ** 20 <= 300, notes: [`RSS idle ${(rssIdle / 2 ** 20).toFixed(0)} MiB, with the first lane parked ${(rssFirst / 2 ** 20).toFixed(0)} MiB (what the worker loads once), with all ${count} ${(rss / 2 ** 20).toFixed(0)} MiB; (all − idle) / lanes = ${((rss - rssIdle) / count / 2 ** 20).toFixed(2)} MiB.`, `Each lane is two workflows (the lane and its change entity); the worker caches at most ${cached} of them (LANES_MAX_CACHED_WORKFLOWS), so beyond ${cached / 2} lanes the rest are evicted and replayed when a grant arrives. Heap per cached lane, by snapshot: bench/NOTES.md.`] };
    };
    if (!drain) {
      return [perLaneResult(), { id: 'P3-rss', title: `${count} lanes parked waiting for grants: worker process RSS (GiB)`, goal: 'RSS <= 1 GiB', ratioIs: 'RSS in GiB (absolute; the worker runs alone in its own process)', subject: measured('worker RSS with all lanes parked (GiB)', [rss / 2 ** 30]), baseline: measured('worker RSS idle, before any lane (GiB)', [rssIdle / 2 ** 30]), ratio: rss / 2 ** 30, met: rss / 2 ** 30 <= 1, notes: [`${parked} lanes parked in ${parkedIn.toFixed(0)} s; not drained (--no-drain).`] }];
    }
    let peak = rss;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(worker.pid!))), 1000);
    const failed: string[] = [];
    const drainSeconds = await seconds(async () => {
      // A bounded number of calls at a time: 2,000 signals and 2,000 long polls at once overran the dev server
      // (deadline exceeded), and the run died.
      await atMost(50, lanes.length, (i) => h.client.workflow.getHandle(lanes[i]!.workflowId).signal('grant', grantEnvelope(s.keys, lanes[i]!.workflowId, lanes[i]!.change.id, 'rehearsal', 'AUTHORIZE_REHEARSAL')));
      let done = 0;
      await atMost(50, lanes.length, async (i) => {
        await h.client.workflow.getHandle(lanes[i]!.workflowId).result().catch((err: Error) => failed.push(`${lanes[i]!.workflowId}: ${(err.cause as Error | undefined)?.message ?? err.message}`));
        if (++done % 250 === 0) log(`P3: ${done} of ${lanes.length} drained`);
      });
    }).finally(() => clearInterval(sampler));
    log(`P3: all ${count} finished ${drainSeconds.toFixed(0)} s after their grants; peak worker RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
    const gib = rss / 2 ** 30;
    return [
      { id: 'P3-rss', title: `${count} lanes parked waiting for grants: worker process RSS (GiB)`, goal: 'RSS <= 1 GiB', ratioIs: 'RSS in GiB (absolute; the worker runs alone in its own process)', subject: measured('worker RSS with all lanes parked (GiB)', [gib]), baseline: measured('worker RSS idle, before any lane (GiB)', [rssIdle / 2 ** 30]), ratio: gib, met: gib <= 1, notes: [`${parked} lanes parked in ${parkedIn.toFixed(0)} s (each ran its probes and registered with its own change entity); peak RSS while draining ${(peak / 2 ** 30).toFixed(2)} GiB.`] },
      perLaneResult(),
      { id: 'P3-drain', title: `${count} parked lanes: time for all to finish once granted (s)`, goal: 'reported; every lane completed', ratioIs: 'seconds (absolute)', subject: measured('grant all → all completed (s)', [drainSeconds]), baseline: measured('parking them (s)', [parkedIn]), ratio: drainSeconds, met: failed.length === 0, notes: [`${((count / drainSeconds) * 60).toFixed(1)} rehearsal lanes per minute; ${failed.length} failed${failed.length ? ` (first: ${failed[0]})` : ''}. Each lane then rehearses on its own in-memory PGlite clone, at most LANES_MAX_CONCURRENT_ACTIVITIES (4) at a time; all ${count} are changes to one PGlite production (${P3_PRODUCTION}).`] },
    ];
  } finally {
    await worker.stop();
  }
}

export async function lanesBench(opts: { repeat: number; only: (id: string) => boolean; lanes: number; kills: number; drain?: boolean; log: Log }): Promise<BenchResult[]> {
  const s = await stack(opts.log);
  const out: BenchResult[] = [];
  try {
    if (['CLI-HELP', 'CLI-STATUS', 'WORKER'].some(opts.only)) out.push(...(await startup({ h: s.h, keys: s.keys, repeat: opts.repeat, only: opts.only, log: opts.log })));
    if (opts.only('P1')) out.push(...(await p1(s, opts.repeat, opts.log)));
    if (opts.only('P2')) out.push(...(await p2(s, Math.max(20, opts.repeat * 4), opts.log)));
    if (opts.only('CRASH')) {
      const t = Date.now();
      // Its own queue and lanes home: the benchmark's in-process workers must not take the harness's tasks.
      const h = { ...s.h, taskQueue: `${s.h.taskQueue}-crash`, lanesHome: `${s.h.lanesHome}-crash` };
      const r = await runCrashHarness({ h, keys: s.keys, bundlePath: s.bundlePath, kills: opts.kills, log: (m) => opts.log(`crash: ${m}`) });
      out.push({
        id: 'CRASH', title: `Crash harness: ${r.kills} kill -9s of the worker (${r.killsInProduction} inside production steps)`, goal: 'duplicate production steps == 0; every lane completed',
        ratioIs: 'duplicate production steps', subject: measured('duplicate production steps', [r.duplicateSteps]), baseline: measured('production steps checked', [r.productionSteps]), ratio: r.duplicateSteps,
        met: r.duplicateSteps === 0 && r.lanesCompleted === r.lanes && r.evidenceMismatches.length === 0,
        notes: [`${r.lanesCompleted}/${r.lanes} lanes completed${r.failures.length ? ` (failed: ${r.failures.join('; ')})` : ''}; ${r.missingSteps} missing steps; ${r.evidenceMismatches.length} evidence mismatches; seed ${r.seed}; ${((Date.now() - t) / 1000).toFixed(0)} s.`],
      });
    }
    if (opts.only('P3')) out.push(...(await p3(s, opts.lanes, opts.log, opts.drain ?? true)));
  } finally {
    await s.close();
  }
  return out;
}
