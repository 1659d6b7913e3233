/**
 * `npm run bench`: runs the benchmarks, writes bench/results.json and bench/results.md. Each figure is a median
 * over repeated runs and a ratio to a baseline measured in the same run, on this machine. Never part of
 * `npm test`: speed is reported, not asserted.
 *   --cluster-lanes N  rehearsals per batch for C1 (the real Temporal cluster: 3 worker processes vs 1; default 24)
 *   --only CLI,WORKER,P4,P5     run a subset (CLI: start-up of `lanes --help` and `lanes status`; WORKER: start → polling) (P6: SQL containment per step, P7: point-of-action verification per step; R1: rehearsals per minute on PGlite; C1: the cluster)      --repeat N     repetitions (default 5; 3 for the 1M-row runs)
 *   --rows N         rows for P5 (default 1,000,000)
 *   --lanes N        parked lanes for P3 (default 2,000); --no-drain: measure them parked, do not grant and drain them
 *   --rehearsals N   rehearsals per R1 sample (default 12)     --kills N     crash harness kills (default 100)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres } from '../src/server/test-postgres';
import { evidenceHashing } from './evidence-hashing';
import { rehearsalProof } from './rehearsal-proof';
import { lanesBench } from './lanes-bench';
import { sqlParsing } from './sql-parsing';
import { pointOfAction } from './point-of-action';
import { clusterBench } from './cluster-bench';
import { rehearsalRate } from './rehearsal-rate';
import type { BenchResult } from './measure';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
};
const only = opt('only')?.split(',').map((s) => s.trim().toUpperCase());
const repeat = Number(opt('repeat') ?? 5);
const rows = Number(opt('rows') ?? 1_000_000);
const lanes = Number(opt('lanes') ?? 2_000);
const kills = Number(opt('kills') ?? 100);
const rehearsals = Number(opt('rehearsals') ?? 12);
const wanted = (id: string) => !only || only.some((o) => id.toUpperCase().startsWith(o) || o.startsWith(id.toUpperCase()));
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

async function main(): Promise<void> {
  const results: BenchResult[] = [];
  if (['CLI-HELP', 'CLI-STATUS', 'WORKER', 'P1', 'P2', 'P3', 'CRASH'].some(wanted)) results.push(...(await lanesBench({ repeat, only: wanted, lanes, kills, drain: !args.includes('--no-drain'), log })));
  if (wanted('P4')) results.push(await evidenceHashing({ repeat, log }));
  if (wanted('P6')) results.push(await sqlParsing({ repeat, log }));
  if (wanted('P7')) results.push(await pointOfAction({ repeat, log }));
  if (wanted('R1')) results.push(...(await rehearsalRate({ repeat: Math.min(repeat, 3), count: rehearsals, log })));
  if (wanted('C1')) results.push(...(await clusterBench({ lanes: Number(opt('cluster-lanes') ?? 24), log })));
  if (wanted('P5')) {
    const big = Math.max(3, Math.min(repeat, 3));
    results.push(await rehearsalProof({ repeat: big, log, rows, engine: 'pglite' }));
    const server = await startTestPostgres({ log }).catch((err: Error) => {
      log(`P5-postgres SKIPPED: no PostgreSQL server (${err.message})`);
      return undefined;
    });
    if (server) {
      try {
        results.push(await rehearsalProof({ repeat: big, log, rows, engine: 'postgres', postgresUrl: server.url }));
      } finally {
        await server.teardown();
      }
    }
  }

  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.versions.node };
  const out = join(__dirname);
  writeFileSync(join(out, 'results.json'), `${JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2)}\n`);
  const f = (n: number) => n.toFixed(3);
  const md = [
    '# Benchmark results',
    '',
    `${new Date().toISOString()} — ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}. Medians; ratios are to a baseline measured in the same run.`,
    '',
    '| id | what | subject (median s) | baseline (median s) | ratio | goal | met |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.id} | ${r.title} | ${f(r.subject.median)} (${r.subject.name}) | ${f(r.baseline.median)} (${r.baseline.name}) | ${r.ratio.toFixed(2)} | ${r.goal} | ${r.met ? 'yes' : '**no**'} |`),
    '',
    ...results.flatMap((r) => [`- **${r.id}**: ratio = ${r.ratioIs}. ${r.notes.join(' ')} Samples: subject ${r.subject.samples.map(f).join(', ')}; baseline ${r.baseline.samples.map(f).join(', ')}.`]),
    '',
  ].join('\n');
  // The notes (bench/NOTES.md: where the time and the memory go, measured, and what stands in the way of each goal
  // still open) travel with every run's figures.
  writeFileSync(join(out, 'results.md'), `${md}\n${readFileSync(join(out, 'NOTES.md'), 'utf8')}`);
  process.stdout.write(md);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
