/**
 * Issue 15: the product on a real Temporal cluster (the server 1.29.1 on PostgreSQL, src/server/cluster.ts), with
 * three worker processes that share nothing but the cluster, the shared evidence store and production — each has
 * its own LANES_HOME, as separate hosts would — and the CLI run from a fourth directory. Twenty changes go through
 * a shaped rehearsal, the real-run precheck and the execution, with every grant signed by the CLI, while workers
 * running production steps are killed with SIGKILL and replaced. Every lane completes, every step is applied exactly
 * once (the ledger and the rows say so), and every evidence packet is pulled into the CLI's directory and verifies.
 *
 * Skipped, with a banner, only where the server cannot be built (no Go) or PostgreSQL cannot be started.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startCluster, type RunningCluster } from '../../src/server/cluster';
import { provisionTemporalServer } from '../../src/server/provision-temporal';
import { postgresSession, urlForDatabase } from '../../src/activities/targets/postgres';
import { WorkerHost } from '../support/worker-host';

const REPO = join(__dirname, '..', '..');
const LANES = join(REPO, 'bin', 'lanes.js');
const CHANGES = Number(process.env.GLC_CHANGES ?? 20);
const CONCURRENT_CHANGES = 4;
const KILLS = 5;
/** Kills are spread over the run, so they land in different changes' steps, not all in the first batch. */
const KILL_SPACING_MS = 15_000;
const ROWS = 20_000;
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

const postgres = inject('postgres');
const serverMissing = await provisionTemporalServer({ log: (m) => process.stderr.write(`[temporal-server] ${m}\n`) }).then(
  () => undefined,
  (err: Error) => err.message,
);
const skipped = 'skipped' in postgres ? `PostgreSQL: ${postgres.skipped}` : serverMissing ? `Temporal server: ${serverMissing}` : undefined;
if (skipped) {
  const bar = '!'.repeat(100);
  process.stderr.write(`\n${bar}\nCLUSTER TEST SKIPPED: ${skipped}\n${bar}\n\n`);
}

const tag = randomBytes(4).toString('hex');
const root = mkdtempSync(join(tmpdir(), 'lanes-cluster-'));
const cliDir = join(root, 'cli');
let cluster: RunningCluster | undefined;
let client: Client | undefined;
let env: Record<string, string> = {};
const prodDb = `glc_${tag}_prod`;
const admin = () => (postgres as { adminUrl: string }).adminUrl;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as an operator or owner runs it: from its own directory, with only the cluster's addresses. */
function lanes(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LANES, ...args], { cwd: cliDir, env: { ...process.env, ...env, LANES_HOME: join(cliDir, '.lanes'), NO_COLOR: '1' }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await lanes(args);
  if (r.code !== 0) throw new Error(`lanes ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const hosts: WorkerHost[] = [];

function spec(i: number): { id: string; file: string } {
  const id = `glc-${tag}-${i}`;
  const table = `t_${tag}_${i}`;
  const file = join(cliDir, `${id}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      v: 1,
      id,
      title: `cluster change ${i}`,
      surface: { tables: [table], functions: [] },
      targets: {
        production: { engine: 'postgres', urlEnv: 'GLC_PROD_URL' },
        // One PostgreSQL server in the suite: the clones share production's cluster, declared as the spec must.
        clone: { engine: 'postgres', urlEnv: 'GLC_CLONE_URL', sameClusterAsProduction: true },
      },
      steps: [
        { id: `s${i}-apply`, action: 'APPLY', apply: `CREATE TABLE ${table} (id int PRIMARY KEY)`, rollback: `DROP TABLE ${table}` },
        // Enough rows that the step takes a moment to run, so a kill can land inside it; and a second apply would
        // show (a primary key violation, or twice the rows).
        { id: `s${i}-fill`, action: 'ACTIVATION', apply: `INSERT INTO ${table} SELECT g FROM generate_series(1, ${ROWS}) g`, rollback: `DELETE FROM ${table}` },
      ],
    }),
  );
  return { id, file };
}

async function result(workflowId: string): Promise<{ state: string; evidence?: { treeHash: string } }> {
  return (await client!.workflow.getHandle(workflowId).result()) as { state: string; evidence?: { treeHash: string } };
}

const owner = () => join(cliDir, 'keys', 'owner.key');
const operator = () => join(cliDir, 'keys', 'operator.key');

async function startLane(lane: string, file: string, extra: string[] = []): Promise<string> {
  return (JSON.parse(await ok(['start', lane, '--change', file, '--key', operator(), ...extra, '--json'])) as { workflowId: string }).workflowId;
}

async function grant(workflowId: string, actions: string[], tree?: string): Promise<void> {
  for (const a of actions) await ok(['grant', workflowId, a, '--key', owner(), ...(tree && ['REAL_RUN', 'APPLY'].includes(a) ? ['--evidence-tree', tree] : [])]);
}

describe.skipIf(skipped !== undefined)(`on a real Temporal cluster${skipped ? ` (SKIPPED: ${skipped.split('\n')[0]})` : ''}`, () => {
  beforeAll(async () => {
    cluster = await startCluster({ postgresAdminUrl: admin(), stateDir: join(root, 'cluster'), prefix: `glc_${tag}_`, log: (m) => process.stderr.write(`[cluster] ${m}\n`) });
    const { url } = postgres as { url: string };
    await postgresSession(admin(), (s) => s.exec(`CREATE DATABASE ${prodDb} OWNER lanes_test`));
    mkdirSync(cliDir, { recursive: true });
    env = {
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: cluster.namespace,
      LANES_EVIDENCE_URL: cluster.evidenceUrl,
      LANES_TRUST_ROOT: join(cliDir, 'trust-root.json'),
      GLC_PROD_URL: urlForDatabase(url, prodDb),
      GLC_CLONE_URL: url,
    };
    // The keys and the trust root, made with the CLI as a newcomer would.
    const pub = async (role: string, name: string) => {
      await ok(['keys', 'new', '--role', role, '--name', name, '--out', join(cliDir, 'keys')]);
      const { role: r, keyId, publicKey } = JSON.parse(readFileSync(join(cliDir, 'keys', `${name}.pub`), 'utf8')) as { role: string; keyId: string; publicKey: string };
      return { role: r, keyId, publicKey };
    };
    const [o, p] = [await pub('owner', 'owner'), await pub('operator', 'operator')];
    // Each worker host its own worker key, listed under the trust root's workers: what attests what it publishes.
    const workers = [];
    for (let i = 0; i < 3; i++) workers.push({ id: `host-${i}`, publicKey: (await pub('worker', `host-${i}`)).publicKey });
    writeFileSync(env.LANES_TRUST_ROOT!, JSON.stringify({ v: 2, people: [{ id: 'olga', name: 'Olga Owner', keys: [o] }, { id: 'oscar', name: 'Oscar Operator', keys: [p] }], workers }));
    expect(await ok(['trust', 'check', '--file', env.LANES_TRUST_ROOT!])).toMatch(/3 workers \(host-\d [0-9a-f]{16}, host-\d [0-9a-f]{16}, host-\d /);
    for (let i = 0; i < 3; i++) hosts.push(new WorkerHost(join(root, `host-${i}`), () => env, join(cliDir, 'keys', `host-${i}.key`)));
    await Promise.all(hosts.map((h) => h.start()));
    client = new Client({ connection: await Connection.connect({ address: cluster.address }), namespace: cluster.namespace });
  }, 600_000);

  afterAll(async () => {
    await Promise.allSettled(hosts.map((h) => h.stop()));
    await client?.connection.close();
    await cluster?.teardown();
    await postgresSession(admin(), async (s) => {
      for (const db of [prodDb, `glc_${tag}_temporal`, `glc_${tag}_temporal_visibility`, `glc_${tag}_evidence`]) await s.exec(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      for (const role of [`glc_${tag}_temporal`, `glc_${tag}_evidence`]) await s.exec(`DROP ROLE IF EXISTS ${role}`);
    }).catch((err: Error) => process.stderr.write(`[cluster] cleanup: ${err.message}\n`));
    rmSync(root, { recursive: true, force: true });
  }, 120_000);

  it(`${CHANGES} changes through rehearsal, precheck and execution on three worker hosts, with kill -9 during production steps`, async () => {
    const executions = new Set<string>();
    const lanesRun: { workflowId: string; tree: string }[] = [];
    let finished = false;

    // The killer: a worker whose process is running a production step right now is killed with SIGKILL and a new
    // process takes its place on the same host (its LANES_HOME), as a restarted machine would.
    const kills: string[] = [];
    let lastKill = 0;
    const killer = (async () => {
      while (!finished && kills.length < KILLS) {
        await new Promise((r) => setTimeout(r, 100));
        if (Date.now() - lastKill < KILL_SPACING_MS) continue;
        for (const wf of executions) {
          const d = await client!.workflow.getHandle(wf).describe().catch(() => undefined);
          const running = d?.raw.pendingActivities?.find((a) => a.activityType?.name === 'applyProductionStep' && a.state === STARTED);
          const pid = Number(/^(\d+)@/.exec(running?.lastWorkerIdentity ?? '')?.[1]);
          const host = hosts.find((h) => h.pid === pid);
          if (!host) continue;
          host.kill9();
          kills.push(`${wf} (pid ${pid})`);
          lastKill = Date.now();
          await host.start();
          break;
        }
      }
    })();

    const through = async (i: number) => {
      const { id, file } = spec(i);
      await ok(['charter', id, '--change', file, '--key', owner()]);
      const rehearsal = await startLane('rehearsal', file, ['--shaped']);
      await grant(rehearsal, ['AUTHORIZE_REHEARSAL']);
      const rehearsed = await result(rehearsal);
      expect(rehearsed.state, `rehearsal of ${id}`).toBe('COMPLETED');
      const tree = rehearsed.evidence!.treeHash;
      const precheck = await startLane('precheck', file);
      await grant(precheck, ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
      const prechecked = await result(precheck);
      expect(prechecked.state, `precheck of ${id}`).toBe('COMPLETED');
      const execution = await startLane('execution', file);
      executions.add(execution);
      await grant(execution, ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'], tree);
      const executed = await result(execution);
      executions.delete(execution);
      expect(executed.state, `execution of ${id}`).toBe('COMPLETED');
      lanesRun.push({ workflowId: rehearsal, tree }, { workflowId: precheck, tree: prechecked.evidence!.treeHash }, { workflowId: execution, tree: executed.evidence!.treeHash });
    };
    try {
      let next = 0;
      // Settled, not raced: on a failure the other changes stop taking work, and none is left talking to a cluster
      // that afterAll is tearing down.
      let failed = false;
      const pool = await Promise.allSettled(
        Array.from({ length: CONCURRENT_CHANGES }, async () => {
          while (next < CHANGES && !failed) await through(next++).catch((err: unknown) => ((failed = true), Promise.reject(err)));
        }),
      );
      const failure = pool.find((p): p is PromiseRejectedResult => p.status === 'rejected');
      if (failure) throw failure.reason;
    } finally {
      finished = true;
      await killer;
    }
    process.stderr.write(`[cluster] killed ${kills.length} worker(s) during production steps: ${kills.join(', ')}\n`);
    expect(kills.length, 'a worker was killed while it ran a production step').toBeGreaterThan(0);

    // Exactly once: one ledger row per step, and each table holds its rows once.
    const applied = await postgresSession(env.GLC_PROD_URL!, (s) =>
      s.query<{ change_id: string; step_id: string; n: string }>('SELECT change_id, step_id, count(*)::text AS n FROM gated_lanes.applied_steps GROUP BY 1, 2 ORDER BY 1, 2'),
    );
    expect(applied.length).toBe(CHANGES * 2);
    expect(applied.filter((r) => r.n !== '1')).toEqual([]);
    for (let i = 0; i < CHANGES; i++) {
      const [row] = await postgresSession(env.GLC_PROD_URL!, (s) => s.query<{ n: string }>(`SELECT count(*)::text AS n FROM t_${tag}_${i}`));
      expect(row!.n, `rows of change ${i}`).toBe(String(ROWS));
    }

    // Every packet, pulled by workflow id into the CLI's directory, verifies there with the tree the lane reported.
    const pulled = join(cliDir, 'pulled');
    mkdirSync(pulled);
    for (const { workflowId, tree } of lanesRun) {
      const dir = join(pulled, workflowId.replace(/[^A-Za-z0-9.-]/g, '_'));
      await ok(['evidence', 'pull', workflowId, dir]);
      const verified = await lanes(['evidence', 'verify', dir, '--tree', tree]);
      expect(verified.code, `${workflowId}: ${verified.stdout}${verified.stderr}`).toBe(0);
    }
  }, 1_800_000);
});
