/**
 * REGRESSION (attack review of issue 15, MEDIUM): `lanes evidence pull <workflowId>` took the newest row of the shared
 * store's runs index; any store writer added one under the victim's workflow id, and the pull "verified" the
 * attacker's packet against the attacker's own tree. Now only trees a worker of the trust root attested as that
 * workflow's count.
 */
import { afterAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { postgresSession, urlForDatabase } from '../../src/activities/targets/postgres';
import { EvidenceStores } from '../../src/evidence/evidence-stores';
import { PostgresEvidenceStore } from '../../src/evidence/postgres-store';
import { packetOf } from '../../src/evidence/packet';
import { attesterOf } from '../../src/evidence/attestation';
import { makeKeys } from '../support/lane-helpers';

const LANES = join(__dirname, '..', '..', 'bin', 'lanes.js');
const postgres = inject('postgres') as { url: string };
const admin = (sql: string) => postgresSession(postgres.url, (s) => s.exec(sql));
const db = `gl_attack_pull_${randomBytes(5).toString('hex')}`;
afterAll(() => admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));

it('pull by workflow id never yields a packet the attacker indexed under it', async () => {
  await admin(`CREATE DATABASE ${db}`);
  const url = urlForDatabase(postgres.url, db);
  const home = mkdtempSync(join(tmpdir(), 'lanes-hostA-'));
  const worker = new PostgresEvidenceStore(url);
  const key = { changeId: 'c1', workflowId: 'c1.precheck.abc', runId: 'run-1' };
  const keys = makeKeys({ workers: ['host-a'] });
  const attester = attesterOf({ workerKeyPath: keys.workerKeys['host-a']!, trustRootPath: keys.trustRootPath });
  const real = await new EvidenceStores(mkdtempSync(join(tmpdir(), 'lanes-worker-')), worker, { cache: true, attester }).writePacket(key, { 'precheck.json': '{"status":"FAILED"}\n' });
  await worker.close();

  const attacker = new PostgresEvidenceStore(url);
  const forged = packetOf({ 'precheck.json': '{"status":"PASSED"}\n' });
  await attacker.publishPacket({ ...key, runId: 'zzz' }, forged); // same workflow id, any run id, newest
  await attacker.close();

  const out = join(mkdtempSync(join(tmpdir(), 'lanes-pull-')), 'p');
  const { LANES_EVIDENCE_URL: _x, ...base } = process.env;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [LANES, 'evidence', 'pull', key.workflowId, out], { env: { ...base, LANES_HOME: home, LANES_EVIDENCE_URL: url, LANES_TRUST_ROOT: keys.trustRootPath } }, (e, so, se) => (e ? reject(new Error(se)) : resolve(so))),
  );
  console.log(stdout);
  expect(real.treeHash).not.toBe(forged.tree);
  expect(stdout).not.toContain(forged.tree);
  expect(stdout).toContain(`pulled evidence tree ${real.treeHash}`);
  expect(stdout).toMatch(/attested by worker host-a \(key [0-9a-f]{16}\): change c1, workflow c1\.precheck\.abc, run run-1/);
  expect(readFileSync(join(out, 'precheck.json'), 'utf8')).toBe('{"status":"FAILED"}\n');
});
