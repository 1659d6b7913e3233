/**
 * R1 (issue 14, "fast where people wait"): rehearsals per minute on PGlite, the whole rehearsal activity body
 * (`rehearse`: containment parse, clone, isolation check, the three proofs, evidence packet), `concurrency` at a
 * time in one process as a worker runs them, against the path before images (LANES_PGLITE_IMAGES=off: initdb per
 * empty clone and per new production, PGlite tarballs for copies), batches of each in alternation in the same
 * run. Three kinds:
 *   empty     — the usual rehearsal: an empty clone, production already open;
 *   shaped    — a production-shaped clone of a production with the registry fixture (rows, indexes, a trigger);
 *   new-prod  — every rehearsal against a production it creates on first use (what bench P3's lanes do).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { rehearse } from '../src/activities/rehearsal';
import { closeTargets, openProduction } from '../src/activities/targets/open';
import type { ChangeSpec } from '../src/domain/change-spec';
import { specHashOf } from '../src/domain/bindings';
import type { AuthorizedWork } from '../src/activities/lane-request';
import { REGISTRY_SEED, REGISTRY_SURFACE } from '../test/support/registry-fixture';
import { atMost, measured, seconds, type BenchResult, type Log } from './measure';
import { placeOf } from '../src/activities/worker-place';

type Kind = 'empty' | 'shaped' | 'new-prod';

const TWO_STEPS = (id: string, production: string): ChangeSpec => ({
  v: 1,
  id,
  title: 'rehearsal-rate bench change',
  surface: { tables: ['bench_t'], functions: [] },
  targets: { production: { engine: 'pglite', name: production } },
  steps: [
    { id: 's1', action: 'APPLY', apply: 'CREATE TABLE bench_t (x int);', rollback: 'DROP TABLE bench_t;' },
    { id: 's2', action: 'APPLY', apply: 'INSERT INTO bench_t VALUES (2);', rollback: 'DELETE FROM bench_t WHERE x = 2;' },
  ],
});

const SHAPED = (production: string): ChangeSpec => ({
  v: 1,
  id: 'rate-shaped',
  title: 'rehearsal-rate bench change (shaped)',
  surface: REGISTRY_SURFACE,
  targets: { production: { engine: 'pglite', name: production } },
  steps: [{ id: 'a', action: 'APPLY', apply: "INSERT INTO birth_registry (object_id, origin) VALUES ('obj-r', 'lane');", rollback: "DELETE FROM birth_registry WHERE object_id = 'obj-r';" }],
});

const request = (change: ChangeSpec, shaped: boolean): AuthorizedWork => ({
  workflowId: `bench-${randomUUID()}`,
  runId: 'run-1',
  change,
  specHash: specHashOf(change),
  grants: [],
  trustRootFingerprint: 'bench',
  ...(shaped ? { shaped: true } : {}),
});

/** Runs `count` rehearsals, `concurrency` at a time; returns rehearsals per minute. */
async function batch(home: string, kind: Kind, count: number, concurrency: number): Promise<number> {
  const one = async (i: number) => {
    const change = kind === 'shaped' ? SHAPED('rate-shaped') : TWO_STEPS(`rate-${kind}-${i}`, kind === 'new-prod' ? `rate-${randomUUID().slice(0, 8)}` : 'rate-shared');
    const ref = await rehearse(placeOf({ lanesHome: home }), request(change, kind === 'shaped'));
    rmSync(ref.dir, { recursive: true, force: true });
  };
  const secs = await seconds(() => atMost(concurrency, count, one));
  return (count / secs) * 60;
}

export async function rehearsalRate(opts: { repeat: number; log: Log; count?: number; concurrency?: number; kinds?: Kind[] }): Promise<BenchResult[]> {
  const count = opts.count ?? 12;
  const concurrency = opts.concurrency ?? 4;
  const out: BenchResult[] = [];
  const home = mkdtempSync(join(tmpdir(), 'lanes-bench-rate-'));
  const withImages = async (on: boolean, fn: () => Promise<number>) => {
    if (on) delete process.env.LANES_PGLITE_IMAGES;
    else process.env.LANES_PGLITE_IMAGES = 'off';
    try {
      return await fn();
    } finally {
      delete process.env.LANES_PGLITE_IMAGES;
    }
  };
  try {
    await (await openProduction(home, SHAPED('rate-shaped'))).session((s) => s.exec(REGISTRY_SEED));
    for (const kind of opts.kinds ?? (['empty', 'shaped', 'new-prod'] as const)) {
      // Warm-up, untimed: what a worker pays once (module loading, WebAssembly compilation, the pristine image).
      await withImages(true, () => batch(home, kind, 2, 1));
      await withImages(false, () => batch(home, kind, 2, 1));
      const ours: number[] = [];
      const before: number[] = [];
      for (let r = 0; r < opts.repeat; r++) {
        ours.push(await withImages(true, () => batch(home, kind, count, concurrency)));
        before.push(await withImages(false, () => batch(home, kind, count, concurrency)));
        opts.log(`R1-${kind} run ${r + 1}: ${ours.at(-1)!.toFixed(1)} rehearsals/min with images, ${before.at(-1)!.toFixed(1)} without`);
      }
      const subject = measured(`rehearsals per minute, clones from images (${count} per sample, ${concurrency} at a time)`, ours);
      const baseline = measured('rehearsals per minute, the path before (LANES_PGLITE_IMAGES=off: initdb per clone, tarball copies)', before);
      out.push({
        id: `R1-${kind}`,
        title: `Rehearsals per minute on PGlite (${kind === 'empty' ? 'empty clone' : kind === 'shaped' ? 'production-shaped clone' : 'empty clone, each against a new production'}), one process`,
        goal: 'subject >= 30 per minute',
        ratioIs: 'subject per minute / baseline per minute (higher is faster; figures are rehearsals per minute, not seconds)',
        subject,
        baseline,
        ratio: subject.median / baseline.median,
        met: subject.median >= 30,
        notes: [`The whole \`rehearse\` activity body, ${concurrency} at a time in one process (a worker's LANES_MAX_CONCURRENT_ACTIVITIES); PGlite runs on the main thread, so one process uses one core.`],
      });
    }
  } finally {
    await closeTargets();
    rmSync(home, { recursive: true, force: true });
  }
  return out;
}
