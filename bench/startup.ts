/**
 * Start-up, where people wait (issue 14):
 *   CLI-help    `lanes --help`, the compiled CLI as users run it (bin/lanes.js), ÷ `node -e 0`;
 *   CLI-status  `lanes status <id>` of a parked lane, a worker answering its query, ÷ `node -e 0`;
 *   WORKER      `lanes worker` from process start until the server lists its workflow poller, ÷ the same
 *               command run from the TypeScript sources through tsx, bundling the workflows at start (how it ran
 *               before dist/); plus the idle compiled worker's RSS.
 * Each pair runs alternately (A B A B …) in this process, so drift on a shared machine hits both alike. The tsx
 * figures for the CLI are kept in the notes: they are what every command cost before the compiled build.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { statusQuery } from '../src/workflows/messages';
import { startLane, waitFor, type Harness, type Keys } from '../test/support/lane-helpers';
import { measured, median, type BenchResult, type Log } from './measure';

const ROOT = join(__dirname, '..');
const LANES = join(ROOT, 'bin', 'lanes.js');
const FROM_SOURCES = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];

/**
 * Wall seconds of one run of `node <args>`, which must exit 0 having printed `expect`. Asynchronous on purpose:
 * the worker answering `lanes status` runs in this process, and a synchronous spawn would stall it.
 */
function timeNode(args: string[], env: NodeJS.ProcessEnv, expect?: RegExp): Promise<number> {
  const t = process.hrtime.bigint();
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { cwd: ROOT, env }, (err, stdout, stderr) => {
      const s = Number(process.hrtime.bigint() - t) / 1e9;
      if (err) reject(new Error(`node ${args.join(' ')} failed: ${err.message} ${stderr.slice(0, 500)}`));
      else if (expect && !expect.test(stdout)) reject(new Error(`node ${args.join(' ')} printed no ${expect}: ${stdout.slice(0, 500)}`));
      else resolve(s);
    }),
  );
}

/** A and B alternately, `repeat` times each after one warm-up of each. */
async function alternate(repeat: number, a: () => Promise<number>, b: () => Promise<number>): Promise<{ a: number[]; b: number[] }> {
  await a();
  await b();
  const out = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < repeat; i++) {
    out.a.push(await a());
    out.b.push(await b());
  }
  return out;
}

const ms = (xs: number[]) => xs.map((x) => (x * 1000).toFixed(0)).join(', ');

function cliResult(id: string, what: string, goal: number, subject: number[], baseline: number[], tsx: number[]): BenchResult {
  const s = measured(`compiled CLI: ${what}`, subject);
  const b = measured('node -e 0', baseline);
  return {
    id,
    title: `CLI start-up: ${what} (wall s)`,
    goal: `subject <= ${goal} s`,
    ratioIs: 'compiled CLI seconds / `node -e 0` seconds',
    subject: s,
    baseline: b,
    ratio: s.median / b.median,
    met: s.median <= goal,
    notes: [`Run from the TypeScript sources through tsx, as every command was before the compiled build: median ${median(tsx).toFixed(3)} s (${(median(tsx) / b.median).toFixed(1)}× node -e 0; samples ${ms(tsx)} ms).`],
  };
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function hasWorkflowPoller(client: Client, taskQueue: string): Promise<boolean> {
  const r = await client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (r.pollers ?? []).length > 0;
}

/** Starts `node <args> worker` on a queue of its own; resolves with the seconds until the server saw it poll. */
async function workerStart(h: Harness, keys: Keys, args: string[]): Promise<{ seconds: number; rss: number }> {
  const taskQueue = `bench-start-${randomUUID()}`;
  const t = process.hrtime.bigint();
  const child: ChildProcess = spawn(process.execPath, [...args, 'worker'], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: h.address, LANES_TASK_QUEUE: taskQueue, LANES_TRUST_ROOT: keys.trustRootPath, LANES_HOME: `${h.lanesHome}-start` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the worker exited ${child.exitCode} before polling: ${stderr.slice(0, 800)}`);
      if (await hasWorkflowPoller(h.client, taskQueue)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    // Settled for a moment: the idle figure, not the start-up peak.
    await new Promise((r) => setTimeout(r, 2000));
    return { seconds, rss: rssOf(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

export async function startup(opts: { h: Harness; keys: Keys; repeat: number; only: (id: string) => boolean; log: Log }): Promise<BenchResult[]> {
  const { h, keys, log } = opts;
  const repeat = Math.max(5, opts.repeat);
  const env = { ...process.env, TEMPORAL_ADDRESS: h.address, LANES_TASK_QUEUE: h.taskQueue, LANES_HOME: h.lanesHome, LANES_TRUST_ROOT: keys.trustRootPath, NO_COLOR: '1' };
  const out: BenchResult[] = [];
  const base = () => timeNode(['-e', '0'], env);
  if (opts.only('CLI-HELP')) {
    const r = await alternate(repeat, () => timeNode([LANES, '--help'], env, /Usage:/), base);
    const tsx = (await alternate(Math.min(repeat, 5), () => timeNode([...FROM_SOURCES, '--help'], env, /Usage:/), async () => 0)).a;
    out.push(cliResult('CLI-help', '`lanes --help`', 0.3, r.a, r.b, tsx));
    log(`CLI-help: ${median(r.a).toFixed(3)} s vs node -e 0 ${median(r.b).toFixed(3)} s (tsx ${median(tsx).toFixed(3)} s)`);
  }
  if (opts.only('CLI-STATUS')) {
    const { workflowId } = await startLane(h, keys, { lane: 'rehearsal' });
    const handle = h.client.workflow.getHandle(workflowId);
    await waitFor('parked', async () => ((await handle.query(statusQuery)).state === 'WAITING_FOR_GRANT' ? true : undefined), 60_000);
    // The full status, from the lane's own query (not the search-attribute fallback of a worker that did not answer).
    const full = /grants missing +AUTHORIZE_REHEARSAL/;
    const r = await alternate(repeat, () => timeNode([LANES, 'status', workflowId], env, full), base);
    const tsx = (await alternate(Math.min(repeat, 5), () => timeNode([...FROM_SOURCES, 'status', workflowId], env, full), async () => 0)).a;
    out.push(cliResult('CLI-status', '`lanes status <id>` (a parked lane, a worker answering)', 0.6, r.a, r.b, tsx));
    log(`CLI-status: ${median(r.a).toFixed(3)} s vs node -e 0 ${median(r.b).toFixed(3)} s (tsx ${median(tsx).toFixed(3)} s)`);
    await handle.terminate('bench done');
  }
  if (opts.only('WORKER')) {
    const compiled: number[] = [];
    const sources: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < Math.min(repeat, 3); i++) {
      const c = await workerStart(h, keys, [LANES]);
      compiled.push(c.seconds);
      rss.push(c.rss / 2 ** 20);
      sources.push((await workerStart(h, keys, FROM_SOURCES)).seconds);
      log(`WORKER run ${i + 1}: compiled ${c.seconds.toFixed(2)} s (idle RSS ${(c.rss / 2 ** 20).toFixed(0)} MiB), from sources ${sources.at(-1)!.toFixed(2)} s`);
    }
    const s = measured('compiled `lanes worker`, prebuilt workflow bundle: start → polling', compiled);
    const b = measured('`lanes worker` from sources (tsx), bundling workflows at start: start → polling', sources);
    out.push({ id: 'WORKER-start', title: 'Worker start → polling (wall s)', goal: 'subject <= 3 s', ratioIs: 'compiled seconds / from-sources seconds', subject: s, baseline: b, ratio: s.median / b.median, met: s.median <= 3, notes: ['Polling = the server lists a workflow poller on the worker\'s own task queue (DescribeTaskQueue, checked every 25 ms).'] });
    const idle = measured('idle compiled worker RSS (MiB), 2 s after it polls', rss);
    out.push({ id: 'WORKER-idle-rss', title: 'Idle worker RSS (MiB)', goal: 'subject <= 300 MiB', ratioIs: 'MiB (absolute)', subject: idle, baseline: idle, ratio: idle.median, met: idle.median <= 300, notes: ['Lane and production workers in one process, nothing cached yet.'] });
  }
  return out;
}
