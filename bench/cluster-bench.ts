/**
 * C1 (issue 15): rehearsal lanes per second on the real Temporal cluster (src/server/cluster.ts) with 3 worker
 * processes against 1, each `lanes worker` with its own LANES_HOME, the shared evidence store, and a PostgreSQL
 * production and clone server. The same batch of rehearsals (one change each, started together, granted at once)
 * is drained by each configuration; the figure is wall seconds per lane. On this machine every process shares two
 * cores, so the goal is that 3 workers are not slower than 1 and that each of the 3 takes a fair share (≥ 20 %) of
 * the rehearsal activities; where one cluster stops scaling is estimated in the README from these figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { startCluster } from '../src/server/cluster';
import { startTestPostgres } from '../src/server/test-postgres';
import { postgresSession, urlForDatabase } from '../src/activities/targets/postgres';
import type { ChangeSpec } from '../src/domain/change-spec';
import { DEFAULT_TASK_QUEUE } from '../src/worker/config';
import { makeKeys, runLaneWithGrants, type Harness } from '../test/support/lane-helpers';
import { WorkerHost } from '../test/support/worker-host';
import { measured, seconds, type BenchResult, type Log } from './measure';
import { postgresCpuSeconds, treeCpuSeconds } from './cpu-time';

function change(tag: string, i: number): ChangeSpec {
  const table = `c1_${tag}_${i}`;
  return {
    v: 1,
    id: `c1-${tag}-${i}`,
    title: `cluster bench ${i}`,
    surface: { tables: [table], functions: [] },
    targets: {
      production: { engine: 'postgres', urlEnv: 'C1_PROD_URL' },
      clone: { engine: 'postgres', urlEnv: 'C1_CLONE_URL', sameClusterAsProduction: true },
    },
    steps: [{ id: `c1-${i}`, action: 'APPLY', apply: `CREATE TABLE ${table} (id int PRIMARY KEY, note text)`, rollback: `DROP TABLE ${table}` }],
  } as ChangeSpec;
}

export async function clusterBench(opts: { lanes: number; log: Log }): Promise<BenchResult[]> {
  const { log } = opts;
  const pg = await startTestPostgres({ log });
  const root = mkdtempSync(join(tmpdir(), 'lanes-c1-'));
  const tag = randomBytes(3).toString('hex');
  const prefix = `c1_${tag}_`;
  const prodDb = `${prefix}prod`;
  const hosts: WorkerHost[] = [];
  try {
    const cluster = await startCluster({ postgresAdminUrl: pg.adminUrl, stateDir: join(root, 'cluster'), prefix, log });
    await postgresSession(pg.adminUrl, (s) => s.exec(`CREATE DATABASE ${prodDb} OWNER lanes_test`));
    // Worker keys for every process the bench may start (one per host, listed under the trust root's workers).
    const keys = makeKeys({ workers: Array.from({ length: 8 }, (_, i) => `w${i}`) });
    const env = {
      TEMPORAL_ADDRESS: cluster.address,
      LANES_EVIDENCE_URL: cluster.evidenceUrl,
      LANES_TRUST_ROOT: keys.trustRootPath,
      C1_PROD_URL: urlForDatabase(pg.url, prodDb),
      C1_CLONE_URL: pg.url,
    };
    const client = new Client({ connection: await Connection.connect({ address: cluster.address }) });
    const h = { client, taskQueue: DEFAULT_TASK_QUEUE } as unknown as Harness;
    let batch = 0;
    /** Drains one batch of rehearsals on `workers` worker processes: seconds per lane, and each worker's share. */
    const drain = async (workers: number) => {
      for (let i = 0; i < workers; i++) hosts.push(new WorkerHost(join(root, `w${workers}-${i}`), () => env, keys.workerKeys[`w${i}`]!));
      await Promise.all(hosts.map((w) => w.start()));
      const batchOf = (n: number) => Array.from({ length: n }, (_, i) => change(`${tag}_${batch}`, i));
      // Each fresh worker process warms up (JIT, the SQL parser's WASM, first connections) on a lane or two of its
      // own before the timed batch: what is measured is the steady state, not how many processes started cold.
      await Promise.all(batchOf(workers * 2).map((c) => runLaneWithGrants(h, keys, c, 'rehearsal', ['AUTHORIZE_REHEARSAL'])));
      batch++;
      const changes = batchOf(opts.lanes);
      batch++;
      let ids: string[] = [];
      // CPU seconds per component over the timed batch: where a bigger cluster would stop scaling.
      const cpu = () => ({ server: treeCpuSeconds(cluster.pid), postgres: postgresCpuSeconds(), workers: hosts.reduce((t, w) => t + treeCpuSeconds(w.pid), 0), client: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 });
      const cpuBefore = cpu();
      const wall = await seconds(async () => {
        const runs = await Promise.all(changes.map((c) => runLaneWithGrants(h, keys, c, 'rehearsal', ['AUTHORIZE_REHEARSAL'])));
        const failed = runs.filter((r) => r.result.state !== 'COMPLETED');
        if (failed.length) throw new Error(`${failed.length} rehearsal(s) did not complete: ${failed[0]!.result.state} ${JSON.stringify(failed[0]!.result).slice(0, 400)}`);
        ids = runs.map((r) => r.workflowId);
      });
      const cpuAfter = cpu();
      const cpuPerLane = Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, (v - cpuBefore[k as keyof typeof cpuBefore]) / opts.lanes])) as ReturnType<typeof cpu>;
      const perWorker = new Map<number, number>(hosts.map((w) => [w.pid, 0]));
      for (const id of ids) {
        for (const e of (await client.workflow.getHandle(id).fetchHistory()).events ?? []) {
          const pid = Number(/^(\d+)@/.exec(e.activityTaskStartedEventAttributes?.identity ?? '')?.[1]);
          if (perWorker.has(pid)) perWorker.set(pid, perWorker.get(pid)! + 1);
        }
      }
      await Promise.all(hosts.map((w) => w.stop()));
      hosts.length = 0;
      const total = [...perWorker.values()].reduce((a, b) => a + b, 0);
      const shares = [...perWorker.values()].map((n) => n / Math.max(1, total));
      const cpuText = Object.entries(cpuPerLane).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
      log(`C1: ${workers} worker(s) drained ${opts.lanes} rehearsals in ${wall.toFixed(1)} s; activity shares ${shares.map((s) => `${(s * 100).toFixed(0)} %`).join(', ')}; CPU s per lane: ${cpuText}`);
      return { perLane: wall / opts.lanes, shares, cpuPerLane, cpuText };
    };
    const one = await drain(1);
    const three = await drain(3);
    const again = await drain(1);
    const baseline = measured('1 worker, s per lane', [one.perLane, again.perLane]);
    const subject = measured('3 workers, s per lane', [three.perLane]);
    const minShare = Math.min(...three.shares);
    await client.connection.close();
    await cluster.teardown();
    const ratio = subject.median / baseline.median;
    return [
      {
        id: 'C1',
        title: `rehearsal lanes on the Temporal ${cluster.version} cluster (PostgreSQL), 3 workers vs 1 (${opts.lanes} per batch)`,
        goal: 'ratio <= 1, each worker >= 20 % of activities',
        ratioIs: 'seconds per lane with 3 worker processes / with 1',
        subject,
        baseline,
        ratio,
        met: ratio <= 1 && minShare >= 0.2,
        notes: [
          `Lanes/s: 1 worker ${(1 / baseline.median).toFixed(2)}, 3 workers ${(1 / subject.median).toFixed(2)}.`,
          `Activity shares with 3 workers: ${three.shares.map((s) => `${(s * 100).toFixed(0)} %`).join(', ')} (lowest ${(minShare * 100).toFixed(0)} %).`,
          'All processes (server, PostgreSQL, workers, this client) share the same cores.',
          `CPU seconds per lane (1 worker): ${one.cpuText}; (3 workers): ${three.cpuText}.`,
        ],
      },
    ];
  } finally {
    await Promise.allSettled(hosts.map((w) => w.stop()));
    await postgresSession(pg.adminUrl, async (s) => {
      for (const db of [prodDb, `${prefix}temporal`, `${prefix}temporal_visibility`, `${prefix}evidence`]) await s.exec(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      for (const role of [`${prefix}temporal`, `${prefix}evidence`]) await s.exec(`DROP ROLE IF EXISTS ${role}`);
    }).catch((err: Error) => log(`C1 cleanup: ${err.message}`));
    await pg.teardown();
    rmSync(root, { recursive: true, force: true });
  }
}
