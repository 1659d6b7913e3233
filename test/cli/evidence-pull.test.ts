/**
 * `lanes evidence pull` as a user on a machine with no worker runs it (child processes of bin/lanes.js, no Temporal):
 * a packet a worker published to the shared store is pulled by workflow id or tree into a new directory that
 * `lanes evidence verify` and the README's coreutils recipe accept; a tampered store row makes it fail, leaving no
 * directory behind; it works against LANES_HOME alone too; bad usage exits 2 and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { postgresSession, urlForDatabase } from '../../src/activities/targets/postgres';
import { EvidenceStores } from '../../src/evidence/evidence-stores';
import { PostgresEvidenceStore } from '../../src/evidence/postgres-store';
import { attesterOf } from '../../src/evidence/attestation';
import { packetOf } from '../../src/evidence/packet';
import { postgresSkipped } from '../support/targets';
import { makeKeys } from '../support/lane-helpers';

const LANES = join(__dirname, '..', '..', 'bin', 'lanes.js');
const postgres = inject('postgres');
const FILES = { 'rehearsal.json': '{"proof":{"status":"PASSED"}}\n', 'sub/notes.txt': 'notes\n', 'dump.bin': Buffer.from([0, 1, 2, 255]) };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function lanes(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const { LANES_EVIDENCE_URL: _inherited, ...base } = process.env;
    execFile(process.execPath, [LANES, ...args], { env: { ...base, NO_COLOR: '1', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The README's coreutils recipe, run in `dir`: the tree hash, from nothing but sha256sum, stat, find and sort. */
const recipe = (dir: string) =>
  execFileSync('sh', ['-c', `find . -type f ! -name MANIFEST -printf '%P\\n' | LC_ALL=C sort | while IFS= read -r f; do printf '%s %s %s\\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"; done | sha256sum | cut -d' ' -f1`], { cwd: dir, encoding: 'utf8' }).trim();

const fresh = () => mkdtempSync(join(tmpdir(), 'lanes-pull-'));

describe('lanes evidence pull against LANES_HOME alone', () => {
  it('pulls by tree and by workflow id from the local store; refuses a non-empty <dir> and bad usage with exit 2', async () => {
    const home = fresh();
    const ref = await new EvidenceStores(home, undefined).writePacket({ changeId: 'c1', workflowId: 'c1.rehearsal.x', runId: 'r1' }, FILES);
    const out = join(fresh(), 'by-tree');
    const byTree = await lanes(['evidence', 'pull', ref.treeHash, out], { LANES_HOME: home });
    expect(byTree).toMatchObject({ code: 0, stdout: expect.stringContaining(`pulled evidence tree ${ref.treeHash} (3 files)`) });
    expect(await lanes(['evidence', 'verify', out, '--tree', ref.treeHash], { LANES_HOME: home })).toMatchObject({ code: 0 });
    const byId = join(fresh(), 'by-id');
    expect((await lanes(['evidence', 'pull', 'c1.rehearsal.x', byId, '--json'], { LANES_HOME: home })).stdout).toContain(`"treeHash": "${ref.treeHash}"`);
    expect(recipe(byId)).toBe(ref.treeHash);

    const busy = fresh();
    writeFileSync(join(busy, 'keep.txt'), 'mine');
    const refused = await lanes(['evidence', 'pull', ref.treeHash, busy], { LANES_HOME: home });
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringMatching(/already exists and is not empty; pull into a new directory \(nothing was written\)/)]);
    expect(readdirSync(busy)).toEqual(['keep.txt']);
    expect((await lanes(['evidence', 'pull', ref.treeHash], { LANES_HOME: home })).code).toBe(2);
    const unknown = await lanes(['evidence', 'pull', 'no-such-lane', join(fresh(), 'x')], { LANES_HOME: home });
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/no evidence packet is indexed under workflow id "no-such-lane" .*LANES_EVIDENCE_URL is not set/)]);
    const empty = fresh(); // an existing empty directory is taken
    expect((await lanes(['evidence', 'pull', ref.treeHash, empty], { LANES_HOME: home })).code).toBe(0);
  });
});

describe.skipIf(postgresSkipped !== undefined)('lanes evidence pull from the shared store (LANES_EVIDENCE_URL)', () => {
  let url: string;
  let db: string;
  const admin = (sql: string) => postgresSession((postgres as { url: string }).url, (s) => s.exec(sql));
  const store: PostgresEvidenceStore[] = [];
  beforeAll(async () => {
    db = `gl_test_pull_${randomBytes(5).toString('hex')}`;
    await admin(`CREATE DATABASE ${db}`);
    url = urlForDatabase((postgres as { url: string }).url, db);
    store.push(new PostgresEvidenceStore(url));
  });
  // The worker that publishes (its key listed in the trust root), and the trust root the CLI checks attestations with.
  const keys = makeKeys({ workers: ['host-a'] });
  const worker = () => new EvidenceStores(fresh(), store[0]!, { cache: true, attester: attesterOf({ workerKeyPath: keys.workerKeys['host-a']!, trustRootPath: keys.trustRootPath }) });
  const cli = (home: string) => ({ LANES_HOME: home, LANES_EVIDENCE_URL: url, LANES_TRUST_ROOT: keys.trustRootPath });
  afterAll(async () => {
    await Promise.all(store.map((s) => s.close()));
    await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });

  it("pulls what a worker on another host published, by workflow id, into a fresh machine's directory that verifies offline", async () => {
    const workflowId = `c2.rehearsal.${randomBytes(4).toString('hex')}`;
    const ref = await worker().writePacket({ changeId: 'c2', workflowId, runId: 'r1' }, FILES);
    const home = fresh(); // this machine's LANES_HOME has never seen the packet
    const out = join(fresh(), 'packet');
    const r = await lanes(['evidence', 'pull', workflowId, out], cli(home));
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`pulled evidence tree ${ref.treeHash} \\(3 files\\) from the shared evidence store \\(postgres://.*\\n  attested by worker host-a \\(key [0-9a-f]{16}\\): change c2, workflow ${workflowId}, run r1, at `)) });
    expect(await lanes(['evidence', 'verify', out, '--tree', ref.treeHash], { LANES_HOME: home })).toMatchObject({ code: 0, stdout: `evidence intact: 3 files, tree ${ref.treeHash}\n` });
    expect(recipe(out)).toBe(ref.treeHash);
    expect(existsSync(join(home, 'evidence'))).toBe(false); // the CLI only reads: nothing cached in LANES_HOME
  });

  it('fails (1) on a tampered store row, naming it, and leaves no directory (nor a partial one) behind', async () => {
    const workflowId = `c3.rehearsal.${randomBytes(4).toString('hex')}`;
    const ref = await worker().writePacket({ changeId: 'c3', workflowId, runId: 'r1' }, FILES);
    await postgresSession(url, (s) =>
      s.query('UPDATE gated_lanes_evidence.blobs SET content = $2 WHERE sha256 = $1', [createHash('sha256').update('notes\n').digest('hex'), Buffer.from('NOTES\n')]),
    );
    const parent = fresh();
    const out = join(parent, 'packet');
    const r = await lanes(['evidence', 'pull', workflowId, out], cli(fresh()));
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(new RegExp(`cannot pull evidence tree ${ref.treeHash}: .*does not verify: sub/notes\\.txt: content changed`))]);
    expect(readdirSync(parent)).toEqual([]);
    mkdirSync(out);
    const bad = await lanes(['evidence', 'pull', ref.treeHash, out], { LANES_HOME: fresh(), LANES_EVIDENCE_URL: 'mysql://x' });
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/LANES_EVIDENCE_URL has scheme mysql:, not postgres:/)]);
  });

  // --- provenance (attack review of issue 15, test/attack/pull-shadow.test.ts): anyone with the URL writes rows.

  it('by workflow id, takes only trees a worker of the trust root attested as that workflow\'s, never a newer row anyone indexed', async () => {
    const key = { changeId: 'c4', workflowId: `c4.precheck.${randomBytes(4).toString('hex')}`, runId: 'run-1' };
    const real = await worker().writePacket(key, { 'precheck.json': '{"status":"FAILED"}\n' });
    const forged = packetOf({ 'precheck.json': '{"status":"PASSED"}\n' });
    await store[0]!.publishPacket({ ...key, runId: 'zzz' }, forged); // same workflow id, newest, unattested
    const out = join(fresh(), 'p');
    const r = await lanes(['evidence', 'pull', key.workflowId, out], cli(fresh()));
    expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining(`pulled evidence tree ${real.treeHash}`) });
    // A packet attested by a real worker, but as another workflow's, is not this workflow's either.
    const other = await worker().writePacket({ ...key, workflowId: 'c4.precheck.other' }, { 'precheck.json': '{"status":"PASSED","other":1}\n' });
    await postgresSession(url, (s) => s.query(`UPDATE gated_lanes_evidence.attestations SET workflow_id = $1 WHERE tree = $2`, [key.workflowId, other.treeHash]));
    const again = await lanes(['evidence', 'pull', key.workflowId, join(fresh(), 'p')], cli(fresh()));
    expect(again.stdout).toContain(`pulled evidence tree ${real.treeHash}`);
  });

  it('by tree, refuses (1) a packet no worker of the trust root attested, NOT ATTESTED, unless --unattested (then warns); needs LANES_TRUST_ROOT', async () => {
    const forged = packetOf({ 'precheck.json': '{"status":"PASSED","forged":true}\n' });
    await store[0]!.publishPacket({ changeId: 'c5', workflowId: 'c5.precheck.x', runId: 'r' }, forged);
    const parent = fresh();
    const r = await lanes(['evidence', 'pull', forged.tree, join(parent, 'p')], cli(fresh()));
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/NOT ATTESTED by any worker in the trust root .*--unattested pulls it anyway/)]);
    expect(readdirSync(parent)).toEqual([]);
    const anyway = await lanes(['evidence', 'pull', forged.tree, join(parent, 'p'), '--unattested'], cli(fresh()));
    expect(anyway).toMatchObject({ code: 0, stdout: expect.stringContaining('WARNING: NOT ATTESTED by any worker in the trust root') });
    const { LANES_TRUST_ROOT: _t, ...noRoot } = cli(fresh());
    const without = await lanes(['evidence', 'pull', forged.tree, join(fresh(), 'p')], noRoot);
    expect([without.code, without.stderr]).toEqual([2, expect.stringMatching(/LANES_TRUST_ROOT is not set/)]);
  });
});
