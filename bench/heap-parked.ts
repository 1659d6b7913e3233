/**
 * Where a parked lane's memory goes (issue 14), by V8 heap snapshots rather than RSS alone:
 *   node --expose-gc --import tsx bench/heap-parked.ts [--lanes 40,120] [--out DIR]
 * Runs the real lane workers (prebuilt dist/workflow-bundle.js) with workflows on the main thread (debugMode), so
 * the snapshot holds the workflow contexts; parks the first count of rehearsal lanes (each with its own change
 * entity), collects garbage, measures the heap and writes a snapshot; then parks up to the second count and does
 * the same. Prints the heap growth per parked lane and the object kinds (constructor or type) that grew most
 * between the two snapshots, by retained bytes of their own (self size) and count.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { writeHeapSnapshot } from 'node:v8';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startDevServer } from '../src/server/dev-server';
import { ensureSearchAttributes } from '../src/server/namespace-setup';
import { createLaneWorkers } from '../src/worker/lane-worker';
import type { ChangeSpec } from '../src/domain/change-spec';
import { statusQuery } from '../src/workflows/messages';
import { makeKeys, startLane, waitFor, type Harness } from '../test/support/lane-helpers';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const counts = arg('lanes', '40,120').split(',').map(Number);
const outDir = arg('out', mkdtempSync(join(tmpdir(), 'lanes-heap-')));

const change = (id: string): ChangeSpec => ({
  v: 1,
  id,
  title: 'heap bench change',
  surface: { tables: ['bench_t'], functions: [] },
  steps: [{ id: 's1', action: 'APPLY', apply: 'CREATE TABLE bench_t (x int);', rollback: 'DROP TABLE bench_t;' }],
});

interface Kind {
  count: number;
  bytes: number;
}

/** The integers of a JSON array of integers starting at `from` (the snapshot is too large for one JSON string). */
function intArray(buf: Buffer, from: number): number[] {
  const out: number[] = [];
  let n = -1;
  for (let i = from; ; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) n = (n < 0 ? 0 : n * 10) + (c - 48);
    else {
      if (n >= 0) out.push(n);
      n = -1;
      if (c === 93) return out; // ]
    }
  }
}

/** Self sizes summed per object kind: constructor name for objects, node type otherwise (strings, code, arrays …). */
function summarize(path: string): Map<string, Kind> {
  const buf = readFileSync(path);
  const section = (name: string) => buf.indexOf(`"${name}":`) + name.length + 3;
  const head = JSON.parse(buf.subarray(buf.indexOf('{"snapshot":') + 12, buf.indexOf(',\n"nodes":')).toString()) as { meta: { node_fields: string[]; node_types: [string[]] } };
  const nodes = intArray(buf, section('nodes'));
  const stringsAt = buf.indexOf('"strings":') + 10;
  const strings = JSON.parse(buf.subarray(stringsAt, buf.lastIndexOf(']') + 1).toString()) as string[];
  const fields = head.meta.node_fields;
  const types = head.meta.node_types[0];
  const [ti, ni, si] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const out = new Map<string, Kind>();
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + ti]!]!;
    const key = type === 'object' || type === 'closure' ? `${type} ${strings[nodes[i + ni]!]}` : `(${type})`;
    const k = out.get(key) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += nodes[i + si]!;
    out.set(key, k);
  }
  return out;
}

if (process.argv.includes('--summarize')) {
  // Re-read two snapshots written earlier: --summarize A B LANES
  const [a, b, lanes] = process.argv.slice(process.argv.indexOf('--summarize') + 1);
  printGrowth(summarize(a!), summarize(b!), Number(lanes));
  process.exit(0);
}

function printGrowth(sa: Map<string, Kind>, sb: Map<string, Kind>, n: number): void {
  const growth = [...sb.entries()].map(([key, k]) => ({ key, count: k.count - (sa.get(key)?.count ?? 0), bytes: k.bytes - (sa.get(key)?.bytes ?? 0) })).sort((x, y) => y.bytes - x.bytes);
  const total = growth.reduce((s, g) => s + g.bytes, 0);
  process.stdout.write(`growth of self sizes between the snapshots: ${(total / 2 ** 20).toFixed(1)} MiB, ${(total / n / 1024).toFixed(0)} KiB per lane; by kind:\n`);
  for (const g of growth.slice(0, 40)) process.stdout.write(`  ${(g.bytes / n / 1024).toFixed(1).padStart(8)} KiB/lane  ${String(Math.round(g.count / n)).padStart(6)} objects/lane  ${g.key}\n`);
}

async function main(): Promise<void> {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer({});
  const connection = await Connection.connect({ address: server.address });
  await ensureSearchAttributes(connection, 'default');
  const client = new Client({ connection });
  const keys = makeKeys();
  const lanesHome = join(outDir, 'home');
  const taskQueue = `heap-${randomUUID()}`;
  const native = await NativeConnection.connect({ address: server.address });
  const workers = await createLaneWorkers({
    connection: native,
    namespace: 'default',
    taskQueue,
    activities: { trustRootPath: keys.trustRootPath, lanesHome },
    workflowBundle: { codePath: join(__dirname, '..', 'dist', 'workflow-bundle.js') },
    cache: { maxCachedWorkflows: 10_000 },
    debugMode: true,
  });
  const running = workers.run();
  const h = { client, address: server.address, taskQueue, lanesHome } as Harness;
  const measured: { lanes: number; heap: number; rss: number; snapshot: string }[] = [];
  let parked = 0;
  try {
    for (const target of counts) {
      const started: string[] = [];
      for (; parked + started.length < target; ) {
        const batch = Math.min(10, target - parked - started.length);
        started.push(...(await Promise.all(Array.from({ length: batch }, () => startLane(h, keys, { lane: 'rehearsal', change: change(`heap-${randomUUID().slice(0, 8)}`) })))).map((l) => l.workflowId));
      }
      for (const id of started) await waitFor('parked', async () => ((await client.workflow.getHandle(id).query(statusQuery)).state === 'WAITING_FOR_GRANT' ? true : undefined), 600_000);
      parked += started.length;
      await new Promise((r) => setTimeout(r, 3000));
      for (let i = 0; i < 3; i++) global.gc();
      const snapshot = writeHeapSnapshot(join(outDir, `parked-${parked}.heapsnapshot`));
      const m = process.memoryUsage();
      measured.push({ lanes: parked, heap: m.heapUsed, rss: m.rss, snapshot });
      process.stderr.write(`[heap] ${parked} lanes parked: heapUsed ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB, rss ${(m.rss / 2 ** 20).toFixed(1)} MiB, snapshot ${snapshot}\n`);
    }
  } finally {
    workers.shutdown();
    await running.catch(() => undefined);
    await native.close();
    await connection.close();
    await server.teardown();
  }
  const [a, b] = [measured[0]!, measured.at(-1)!];
  const n = b.lanes - a.lanes;
  process.stdout.write(`heap per parked lane (lane + its change entity): ${((b.heap - a.heap) / n / 2 ** 20).toFixed(3)} MiB; rss per lane ${((b.rss - a.rss) / n / 2 ** 20).toFixed(3)} MiB (${a.lanes} → ${b.lanes} lanes)\n`);
  printGrowth(summarize(a.snapshot), summarize(b.snapshot), n);
}

main().catch((err: Error) => {
  process.stderr.write(`heap bench failed: ${err.stack}\n`);
  process.exit(1);
});
