/**
 * P7: what the point-of-action verification costs per production step (goal < 5 ms): the production worker's whole
 * check before a step body — read and parse the trust root file, verify START and the three grants with node:crypto,
 * hash the spec, resolve and re-hash the rehearsal and precheck packets the grants name, read production's identity,
 * replay the blocker chain and check the SQL with PostgreSQL's parser. Baseline, in the same run: the step's own
 * transaction on the same PGlite production (BEGIN, one UPDATE, COMMIT), the least any step costs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { createKeyPair, readPrivateKey } from '../src/cli/key-files';
import { makeEnvelope } from '../src/cli/envelopes';
import { changeSpecSchema } from '../src/domain/change-spec';
import { blockerStateHash, specHashOf } from '../src/domain/bindings';
import { charterHashOf } from '../src/domain/charter';
import { envelopeIdOf } from '../src/domain/envelope-rules';
import { parseTrustRoot } from '../src/domain/trust-root';
import { canonicalize } from '../src/domain/canonical-json';
import { evidenceDir, writeEvidencePacket } from '../src/evidence/local-store';
import { closeTargets, openProduction } from '../src/activities/targets/open';
import { inTransaction } from '../src/activities/targets/target';
import { loadSqlParser } from '../src/sql/parser';
import { PointOfAction } from '../src/worker/point-of-action';
import { readTrustRootFile } from '../src/worker/trust-root-file';
import { measured, seconds, type BenchResult, type Log } from './measure';

export async function pointOfAction(opts: { repeat: number; log: Log; steps?: number }): Promise<BenchResult> {
  const n = opts.steps ?? 200;
  const home = mkdtempSync(join(tmpdir(), 'lanes-bench-poa-'));
  try {
    const keys = Object.fromEntries((['owner', 'operator'] as const).map((role) => [role, readPrivateKey(createKeyPair(home, role, role).keyPath)]));
    const rootPath = join(home, 'trust-root.json');
    const doc = { v: 1, keys: Object.values(keys).map(({ name, role, publicKey }) => ({ name, role, publicKey })) };
    writeFileSync(rootPath, JSON.stringify(doc));
    const trustRoot = parseTrustRoot(doc).fingerprint;
    const change = changeSpecSchema.parse({
      v: 1,
      id: 'bench-poa',
      title: 'bench',
      surface: { tables: ['bench_counter'], functions: [] },
      steps: [{ id: 's1', action: 'APPLY', apply: 'UPDATE bench_counter SET n = n + 1', rollback: 'UPDATE bench_counter SET n = n - 1' }],
    });
    const specHash = specHashOf(change);
    const db = await openProduction(home, change);
    await db.session((s) => s.exec('CREATE TABLE bench_counter (n int); INSERT INTO bench_counter VALUES (0);'));
    const identity = await db.identity();
    // The two packets the grants name, written by the same code the lanes use.
    const now = Date.now();
    const rehearsal = await writeEvidencePacket(home, evidenceDir(home, change.id, 'bench.rehearsal', 'r1'), {
      'change.json': `${canonicalize(change)}\n`,
      'rehearsal.json': `${canonicalize({ proof: { status: 'PASSED' } })}\n`,
    });
    const precheck = await writeEvidencePacket(home, evidenceDir(home, change.id, 'bench.precheck', 'p1'), {
      'change.json': `${canonicalize(change)}\n`,
      'precheck.json': `${canonicalize({ status: 'PASSED', specHash, checkedAt: new Date(now).toISOString(), validUntil: new Date(now + 3_600_000).toISOString(), production: { identity } })}\n`,
    });
    const workflowId = 'bench-poa.execution.1';
    const runId = 'run-1';
    const bind = { workflowId, changeId: change.id, lane: 'execution' as const, trustRoot, specHash, validForMs: 3_600_000 };
    const start = makeEnvelope({ ...bind, key: keys.operator!, action: 'START_LANE' });
    const owner = { ...bind, key: keys.owner!, runId, startId: envelopeIdOf(start)! };
    const grants = [
      makeEnvelope({ ...owner, action: 'OPT4_PRODUCTION', blockersHash: blockerStateHash(null) }),
      makeEnvelope({ ...owner, action: 'REAL_RUN', evidenceTree: rehearsal.treeHash, precheckTree: precheck.treeHash }),
      makeEnvelope({ ...owner, action: 'APPLY', evidenceTree: rehearsal.treeHash }),
    ];
    // The owner's charter of this change (it declares no blocker map; that too is chartered).
    const charter = [makeEnvelope({ ...bind, key: keys.owner!, lane: undefined, workflowId: `change:${change.id}`, action: 'CHARTER', charterHash: charterHashOf({ changeId: change.id, blockers: change.blockers }) })];
    const req = { change, stepId: 's1', start, grants, blockerState: null, charter };
    // No server in this bench: the run's recorded signals (read from history per step by the workers) are none here.
    const poa = new PointOfAction(rootPath, { lanesHome: home }, async () => [], async () => []);
    const caller = { workflowId, runId, workflowType: 'executionLane' };
    const verify = async () => poa.productionStep(caller, await readTrustRootFile(rootPath), req);
    await loadSqlParser();
    await verify(); // warm: the first call also opens production, as a worker's first step would
    opts.log(`P7: ${n} production-step verifications ×${opts.repeat}, against ${n} bare step transactions`);
    const ours: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < opts.repeat; r++) {
      ours.push((await seconds(async () => { for (let i = 0; i < n; i++) await verify(); })) / n);
      bare.push((await seconds(async () => { for (let i = 0; i < n; i++) await db.session((s) => inTransaction(s, () => s.exec('UPDATE bench_counter SET n = n + 1'))); })) / n);
    }
    const subject = measured('point-of-action verification of one production step', ours);
    const baseline = measured('one bare step transaction on the same PGlite production', bare);
    return {
      id: 'P7',
      title: 'point-of-action verification per production step',
      goal: 'subject < 5 ms per step',
      ratioIs: 'verification seconds / bare step transaction seconds',
      subject,
      baseline,
      ratio: subject.median / baseline.median,
      met: subject.median < 0.005,
      notes: [`${(subject.median * 1000).toFixed(2)} ms per step: trust root read, START + 3 grants + the charter (node:crypto), two packets re-hashed, production identity, blocker replay, SQL containment`],
    };
  } finally {
    await closeTargets();
    rmSync(home, { recursive: true, force: true });
  }
}
