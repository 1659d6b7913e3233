/**
 * The shared evidence store on the suite's real PostgreSQL server (issue 15): a packet written by one host (one
 * LANES_HOME) is resolved by another; what the store returns is re-hashed, so a changed, missing or deleted row is
 * refused, naming it; a lane run by a worker on host A is executed by a worker on host B, whose point of action
 * resolves A's rehearsal and precheck from the store; and a worker in cluster mode refuses a PGlite lane.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { postgresSession } from '../../src/activities/targets/postgres';
import { closeTargets } from '../../src/activities/targets/open';
import { EvidenceStores } from '../../src/evidence/evidence-stores';
import { PostgresEvidenceStore } from '../../src/evidence/postgres-store';
import { closeEvidenceStores } from '../../src/evidence/open-store';
import { attesterOf } from '../../src/evidence/attestation';
import { packetOf } from '../../src/evidence/packet';
import { parseTrustRoot } from '../../src/domain/trust-root';
import { createLaneWorkers } from '../../src/worker/lane-worker';
import type { LaneStatus } from '../../src/domain/lane-status';
import { statusQuery } from '../../src/workflows/messages';
import { freshChange, grantEnvelope, harness, historyEvents, makeKeys, productionQuery, runLaneWithGrants, startLane, type Harness, type Keys } from '../support/lanes';
import { makeProduction, postgresSkipped, scratchDatabases, type TestProduction } from '../support/targets';

const storeDatabases = scratchDatabases('gl_test_evidence');
const stores: PostgresEvidenceStore[] = [];


function newStore(url: string): PostgresEvidenceStore {
  const s = new PostgresEvidenceStore(url);
  stores.push(s);
  return s;
}

// Worker hosts whose keys the trust root lists; a packet from the store counts only with one's attestation.
const wk = makeKeys({ workers: ['host-a', 'host-b'] });
const trustRoot = parseTrustRoot(JSON.parse(readFileSync(wk.trustRootPath, 'utf8')));
const attester = (name = 'host-a') => attesterOf({ workerKeyPath: wk.workerKeys[name] ?? name, trustRootPath: wk.trustRootPath });
const host = (shared: PostgresEvidenceStore, as = attester()) => new EvidenceStores(mkdtempSync(join(tmpdir(), 'lanes-host-')), shared, { cache: true, attester: as });
const sql = (url: string, text: string, params?: unknown[]) => postgresSession(url, (s) => s.query(text, params));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const key = () => ({ changeId: 'ev-change', workflowId: `ev-change.rehearsal.${randomBytes(4).toString('hex')}`, runId: 'run-1' });
const FILES = { 'rehearsal.json': '{"proof":{"status":"PASSED"}}\n', 'inputs/map-0123': 'surface map\n', 'dump.bin': Buffer.from([0, 255, 1, 254]) };

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await closeEvidenceStores();
  await closeTargets();
  await storeDatabases.dropAll();
});

describe.skipIf(postgresSkipped !== undefined)(`the shared evidence store on PostgreSQL${postgresSkipped ? ` (SKIPPED: ${postgresSkipped.split('\n')[0]})` : ''}`, () => {
  it('round-trips a packet from host A to host B byte for byte, indexed by workflow id, then cached on B', async () => {
    const url = await storeDatabases.create();
    const [a, b] = [host(newStore(url)), host(newStore(url))];
    const k = key();
    const ref = await a.writePacket(k, FILES);
    expect(existsSync(join(ref.dir, 'MANIFEST'))).toBe(true); // A's local copy is a real directory
    const found = await b.resolve(ref.treeHash, { trustRoot });
    if ('problem' in found) throw new Error(found.problem);
    expect(found.where).toMatch(/^the shared evidence store \(postgres:\/\/.*\), attested by worker host-a /);
    expect(found.bound).toEqual([k]);
    expect(found.files.sort()).toEqual(Object.keys(FILES).sort());
    expect(found.bytes('dump.bin')).toEqual(FILES['dump.bin']);
    expect(found.read('rehearsal.json')).toBe(FILES['rehearsal.json']);
    // Verified once, kept on B's disk by tree: the next resolve is local (and re-hashed there).
    const again = await b.resolve(ref.treeHash, { trustRoot });
    expect('problem' in again ? again.problem : again.where).toBe(join(b.lanesHome, 'evidence', '.cache', ref.treeHash));
    expect((await b.treesOf(k.workflowId, trustRoot)).map((t) => t.tree)).toEqual([ref.treeHash]);
    // Content-addressed: a second packet holding the same file adds no second copy of it.
    await a.writePacket({ ...k, runId: 'run-2' }, { 'rehearsal.json': FILES['rehearsal.json'] });
    expect(await sql(url, 'SELECT count(*)::int AS n FROM gated_lanes_evidence.blobs WHERE sha256 = $1', [sha(FILES['rehearsal.json'])])).toEqual([{ n: 1 }]);
  });

  it('creates its schema once under concurrent first use by several hosts', async () => {
    const url = await storeDatabases.create();
    const hosts = Array.from({ length: 4 }, () => host(newStore(url)));
    const refs = await Promise.all(hosts.map((h, i) => h.writePacket({ ...key(), runId: `r${i}` }, { 'a.json': `{"i":${i}}\n` })));
    expect(await sql(url, 'SELECT count(*)::int AS n FROM gated_lanes_evidence.runs')).toEqual([{ n: 4 }]);
    for (const ref of refs) expect('problem' in (await host(newStore(url)).resolve(ref.treeHash, { trustRoot }))).toBe(false);
  });

  it('fails closed on a changed blob, a changed MANIFEST, a deleted blob or a deleted packet, naming the problem; publishing again repairs it', async () => {
    const url = await storeDatabases.create();
    const writer = host(newStore(url));
    const ref = await writer.writePacket(key(), FILES);
    const tree = ref.treeHash;
    const fresh = async () => {
      const r = await host(newStore(url)).resolve(tree, { trustRoot });
      return 'problem' in r ? r.problem : undefined;
    };
    expect(await fresh()).toBeUndefined();

    await sql(url, 'UPDATE gated_lanes_evidence.blobs SET content = $2 WHERE sha256 = $1', [sha(FILES['rehearsal.json']), Buffer.from('{"proof":{"status":"FAILED"}}\n')]);
    expect(await fresh()).toMatch(/in the shared evidence store .* does not verify: rehearsal\.json: content changed \(it hashes to [0-9a-f]{64}, its MANIFEST line says/);

    // The writer publishing the same packet again puts the row right (a retried activity does exactly this).
    await writer.writePacket(key(), FILES);
    expect(await fresh()).toBeUndefined();

    const manifest = (await sql(url, 'SELECT manifest FROM gated_lanes_evidence.trees WHERE tree = $1', [tree]))[0] as { manifest: string };
    await sql(url, 'UPDATE gated_lanes_evidence.trees SET manifest = $2 WHERE tree = $1', [tree, manifest.manifest.split('\n').filter((l) => !l.endsWith(' dump.bin')).join('\n')]);
    expect(await fresh()).toMatch(new RegExp(`its MANIFEST hashes to [0-9a-f]{64}, not ${tree} \\(the MANIFEST was changed\\)`));
    await writer.writePacket(key(), FILES);

    await sql(url, 'DELETE FROM gated_lanes_evidence.blobs WHERE sha256 = $1', [createHash('sha256').update(FILES['dump.bin']).digest('hex')]);
    expect(await fresh()).toMatch(/dump\.bin: missing \(no content with sha256 [0-9a-f]{64}\)/);
    await writer.writePacket(key(), FILES);

    await sql(url, 'DELETE FROM gated_lanes_evidence.runs; DELETE FROM gated_lanes_evidence.attestations; DELETE FROM gated_lanes_evidence.trees');
    expect(await fresh()).toMatch(new RegExp(`no evidence packet with tree ${tree} on this host .*; and the shared evidence store \\(postgres://.*\\) has no packet with tree ${tree}`));
  });

  it('refuses when the shared store cannot be reached, and a host without it sees only its own disk', async () => {
    const url = await storeDatabases.create();
    const ref = await host(newStore(url)).writePacket(key(), FILES);
    const unreachable = new URL(url);
    unreachable.port = '1';
    const r = await host(newStore(unreachable.toString())).resolve(ref.treeHash, { trustRoot });
    expect('problem' in r ? r.problem : '').toMatch(/the shared evidence store \(postgres:\/\/.*:1\/.*\) cannot be read: .*ECONNREFUSED/);
    const alone = await new EvidenceStores(mkdtempSync(join(tmpdir(), 'lanes-host-')), undefined).resolve(ref.treeHash);
    expect('problem' in alone ? alone.problem : '').toMatch(/^no evidence packet with tree [0-9a-f]{64} on this host/);
  });

  it("keeps decision packets where any host's `lanes packet` finds them", async () => {
    const url = await storeDatabases.create();
    const k = key();
    await host(newStore(url)).writeDecision(k, { json: { state: 'HOLD' }, markdown: '# HOLD\n' });
    const b = host(newStore(url));
    expect(await b.readDecision(k, 'md', { trustRoot })).toMatchObject({ text: '# HOLD\n', attestedBy: { worker: { id: 'host-a' } } });
    expect(await b.readDecision({ changeId: k.changeId, workflowId: k.workflowId }, 'json', { trustRoot })).toMatchObject({ text: '{"state":"HOLD"}\n' });
  });

  // --- provenance (attack review of issue 15): every worker and CLI user can write to the store.

  it('refuses a packet no worker attested, one attested by a worker key not in the trust root, and one whose attestation is for another tree', async () => {
    const url = await storeDatabases.create();
    const k = key();
    // Published straight to the store, as anyone with LANES_EVIDENCE_URL can: no attestation.
    const forged = packetOf({ 'rehearsal.json': '{"proof":{"status":"PASSED"}}\n' });
    await newStore(url).publishPacket(k, forged);
    const r1 = await host(newStore(url)).resolve(forged.tree, { trustRoot });
    expect('problem' in r1 ? r1.problem : '').toMatch(new RegExp(`the packet with tree ${forged.tree} in the shared evidence store .* is NOT ATTESTED by any worker in the trust root \\(no worker attestation is stored for it\\)`));
    // Attested, but by a worker key the trust root does not list (a key its holder made for itself).
    const stranger = await host(newStore(url), attesterOf({ workerKeyPath: wk.strangerWorkerKey, trustRootPath: wk.trustRootPath })).writePacket({ ...k, runId: 'run-s' }, { 'rehearsal.json': '{"proof":{"status":"PASSED"},"s":1}\n' });
    const r2 = await host(newStore(url)).resolve(stranger.treeHash, { trustRoot });
    expect('problem' in r2 ? r2.problem : '').toMatch(/NOT ATTESTED by any worker in the trust root \(an attestation by key [0-9a-f]{16} is by no worker the trust root lists\)/);
    // A real attestation by a listed worker, for another tree, copied onto the forged one.
    const real = await host(newStore(url)).writePacket({ ...k, runId: 'run-r' }, FILES);
    await sql(url, `INSERT INTO gated_lanes_evidence.attestations (tree, key_id, change_id, workflow_id, run_id, statement, signature)
                    SELECT $1, key_id, change_id, workflow_id, run_id, statement, signature FROM gated_lanes_evidence.attestations WHERE tree = $2`, [forged.tree, real.treeHash]);
    const r3 = await host(newStore(url)).resolve(forged.tree, { trustRoot });
    expect('problem' in r3 ? r3.problem : '').toMatch(new RegExp(`NOT ATTESTED by any worker in the trust root \\(an attestation by worker host-a \\([0-9a-f]{16}\\) is for tree ${real.treeHash}, not ${forged.tree}\\)`));
    // A statement edited to name the forged tree no longer matches its signature.
    await sql(url, `UPDATE gated_lanes_evidence.attestations SET statement = replace(statement, $2, $1) WHERE tree = $1`, [forged.tree, real.treeHash]);
    const r4 = await host(newStore(url)).resolve(forged.tree, { trustRoot });
    expect('problem' in r4 ? r4.problem : '').toMatch(/an attestation by worker host-a \([0-9a-f]{16}\) has a signature that does not verify/);
    // Without a trust root to check against, nothing from the store counts.
    const r5 = await host(newStore(url)).resolve(real.treeHash);
    expect('problem' in r5 ? r5.problem : '').toMatch(/NOT ATTESTED .*there is no trust root to check attestations against/);
  });

  it('re-verifies the attestation of a cached copy on every local resolve: a worker dropped from the trust root no longer vouches for it', async () => {
    const url = await storeDatabases.create();
    const ref = await host(newStore(url)).writePacket(key(), FILES);
    const b = host(newStore(url));
    expect('problem' in (await b.resolve(ref.treeHash, { trustRoot }))).toBe(false);
    const cached = await b.resolve(ref.treeHash, { trustRoot });
    expect('problem' in cached ? cached.problem : cached.where).toBe(join(b.lanesHome, 'evidence', '.cache', ref.treeHash));
    const withoutA = { workers: trustRoot.workers!.filter((w) => w.id !== 'host-a') };
    const r = await b.resolve(ref.treeHash, { trustRoot: withoutA });
    expect('problem' in r ? r.problem : '').toMatch(/NOT ATTESTED by any worker in the trust root \(an attestation by key [0-9a-f]{16} is by no worker the trust root lists\).*\(the copy of tree [0-9a-f]{64} cached from the shared store .* is not attested by a worker of the trust root \(an attestation by key [0-9a-f]{16} is by no worker/);
    // The cache's attestations removed (or never kept): the cached copy alone proves nothing.
    rmSync(join(b.lanesHome, 'evidence', '.attested'), { recursive: true });
    await sql(url, 'DELETE FROM gated_lanes_evidence.attestations');
    const r2 = await b.resolve(ref.treeHash, { trustRoot });
    expect('problem' in r2 ? r2.problem : '').toMatch(/NOT ATTESTED by any worker in the trust root \(no worker attestation is stored for it\).*cached from the shared store .*\(no attestation kept with it\)/);
  });

  it('shows a decision packet from the store only with its worker attestation: a changed or added row is refused', async () => {
    const url = await storeDatabases.create();
    const k = key();
    await host(newStore(url)).writeDecision(k, { json: { state: 'HOLD' }, markdown: '# HOLD\n' });
    await sql(url, `UPDATE gated_lanes_evidence.decisions SET markdown = '# GO: apply now\n'`);
    const r = await host(newStore(url)).readDecision(k, 'md', { trustRoot });
    expect(r && 'problem' in r ? r.problem : r).toMatch(/NOT ATTESTED by any worker in the trust root \(run run-1: an attestation by worker host-a .* is for other texts/);
    // A newer row for another run, written by anyone: skipped for the newest attested one.
    await host(newStore(url)).writeDecision(k, { json: { state: 'HOLD' }, markdown: '# HOLD\n' });
    await newStore(url).publishDecision({ ...k, runId: 'zzz' }, { json: '{}\n', markdown: '# GO\n' });
    expect(await host(newStore(url)).readDecision({ changeId: k.changeId, workflowId: k.workflowId }, 'md', { trustRoot })).toMatchObject({ text: '# HOLD\n' });
  });
});

describe.skipIf(postgresSkipped !== undefined)('workers on two hosts sharing the evidence store', () => {
  let h: Harness;
  let keys: Keys;
  let url: string;
  let prod: TestProduction | undefined;
  beforeAll(async () => {
    h = await harness();
    keys = makeKeys({ workers: ['host-a', 'host-b'] });
    url = await storeDatabases.create();
  });
  afterAll(async () => {
    await prod?.drop();
    await h?.close();
  });

  it("host B's point of action executes with the rehearsal and precheck host A wrote (its own LANES_HOME never saw them)", async () => {
    prod = await makeProduction('postgres', freshChange({ blockers: false }), 'CREATE TABLE keep_me (id int PRIMARY KEY);');
    const { change } = prod;
    const [homeA, homeB] = [mkdtempSync(join(tmpdir(), 'lanes-hostA-')), mkdtempSync(join(tmpdir(), 'lanes-hostB-'))];
    const a = await h.startWorker(keys.trustRootPath, { lanesHome: homeA, evidenceUrl: url, workerKeyPath: keys.workerKeys['host-a']! });
    const rehearsal = await runLaneWithGrants(h, keys, change, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
    const precheck = await runLaneWithGrants(h, keys, change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    expect([rehearsal.result.state, precheck.result.state]).toEqual(['COMPLETED', 'COMPLETED']);
    expect(rehearsal.result.evidence!.dir.startsWith(homeA)).toBe(true);
    await a.stop();

    const b = await h.startWorker(keys.trustRootPath, { lanesHome: homeB, evidenceUrl: url, workerKeyPath: keys.workerKeys['host-b']! });
    try {
      const execution = await runLaneWithGrants(h, keys, change, 'execution', ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'], { evidenceTree: rehearsal.result.evidence!.treeHash });
      expect((execution.result as LaneStatus).state).toBe('COMPLETED');
      expect(execution.result.evidence!.dir.startsWith(homeB)).toBe(true);
    } finally {
      await b.stop();
    }
    const applied = await productionQuery<{ step_id: string }>(prod.lanesHome, change, 'SELECT step_id FROM gated_lanes.applied_steps ORDER BY applied_at');
    expect(applied.map((r) => r.step_id)).toEqual(['qt001-apply', 'qt001-activation']);
    // B resolved A's packets from the store (verified, then cached by tree): A's run directories never reached B.
    expect(readdirSync(join(homeB, 'evidence', '.cache')).sort()).toEqual([rehearsal.result.evidence!.treeHash, precheck.result.evidence!.treeHash].sort());
  });

  it('a worker in cluster mode does not start without a worker key its trust root lists, saying what to fix', async () => {
    const start = (workerKeyPath?: string) =>
      createLaneWorkers({ connection: undefined as never, namespace: 'x', taskQueue: 'x', activities: { trustRootPath: keys.trustRootPath, lanesHome: mkdtempSync(join(tmpdir(), 'lanes-nokey-')), evidenceUrl: url, ...(workerKeyPath ? { workerKeyPath } : {}) } });
    await expect(start()).rejects.toThrow(/LANES_WORKER_KEY is not set: .*lanes keys new --role worker --name <host> --out <dir>/);
    await expect(start(keys.strangerWorkerKey)).rejects.toThrow(/is not listed under "workers" in the trust root .*; add \{"id": "worker-stranger", "publicKey": "[0-9a-f]{64}"\} to its "workers"/);
    await expect(start(join(keys.dir, 'owner.key'))).rejects.toThrow(/an owner key \(owner\); a worker attests with a worker key of its own, never a person's/);
  });

  it('a worker in cluster mode refuses a PGlite lane, non-retryably, naming why and what to use; nothing is created under LANES_HOME/targets', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lanes-cluster-'));
    const w = await h.startWorker(keys.trustRootPath, { lanesHome: home, evidenceUrl: url, workerKeyPath: keys.workerKeys['host-a']! });
    try {
      const change = freshChange();
      const { workflowId } = await startLane(h, keys, { lane: 'rehearsal', change });
      const handle = h.client.workflow.getHandle(workflowId);
      await handle.signal('grant', grantEnvelope(keys, workflowId, change.id, 'rehearsal', 'AUTHORIZE_REHEARSAL'));
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const why = /targets a PGlite production, but this worker runs in cluster mode \(LANES_EVIDENCE_URL .*PGlite is an in-process database on one host's disk.*targets\.production \{"engine": "postgres", "urlEnv": "…"\} and targets\.clone/;
      expect((err as WorkflowFailedError).cause?.message).toMatch(why);
      expect(await handle.query(statusQuery)).toMatchObject({ state: 'FAILED', failure: expect.stringMatching(why) });
      // Refused by the activity itself, once: not retried, and before anything was opened.
      const failed = (await historyEvents(h.client, workflowId)).flatMap((e) => (e.activityTaskFailedEventAttributes ? [e.activityTaskFailedEventAttributes.failure!] : []));
      expect(failed.map((f) => [f.applicationFailureInfo?.type, f.applicationFailureInfo?.nonRetryable])).toEqual([['TargetNotClusterSafe', true]]);
      expect(existsSync(join(home, 'targets'))).toBe(false);
    } finally {
      await w.stop();
    }
  });
});
