/**
 * REGRESSION (attack review of issue 15, CRITICAL): the shared evidence store holds content, not provenance. Anyone
 * with LANES_EVIDENCE_URL publishes a packet no lane produced (a "PASSED" rehearsal and a fresh "PASSED" precheck of
 * the spec), and the change entity, which takes laneFinished from anyone, reports it as the latest passed
 * rehearsal/precheck: the owner's `lanes grant` names it. Host B's point of action must refuse it — no worker of its
 * trust root attested those trees — and production must stay untouched. Variants: the forged packets attested by a
 * worker key the trust root does not list, and a real worker's attestation of another change's packet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeTargets, openProduction } from '../../src/activities/targets/open';
import { PostgresEvidenceStore } from '../../src/evidence/postgres-store';
import { packetOf } from '../../src/evidence/packet';
import { closeEvidenceStores } from '../../src/evidence/open-store';
import { specHashOf } from '../../src/domain/bindings';
import { changeWorkflowId, changeQuery, laneFinishedSignal } from '../../src/workflows/messages';
import { ensureChangeEntity } from '../../src/cli/lane-client';
import type { ChangeState } from '../../src/domain/change-state';
import { WorkflowFailedError } from '@temporalio/client';
import { freshChange, harness, makeKeys, productionQuery, runLaneWithGrants, waitFor, type Harness, type Keys } from '../support/lanes';
import { EvidenceStores } from '../../src/evidence/evidence-stores';
import { attesterOf } from '../../src/evidence/attestation';
import type { ChangeSpec } from '../../src/domain/change-spec';
import { makeProduction, postgresSkipped, scratchDatabases, type TestProduction } from '../support/targets';

const storeDatabases = scratchDatabases('gl_attack_evidence');


type Publish = (url: string, keys: Keys, change: ChangeSpec, files: Record<string, string>, runId: string) => Promise<string>;

/** As anyone with the store's URL can: straight into the tables, no attestation. */
const unattested: Publish = async (url, _keys, change, files, runId) => {
  const attacker = new PostgresEvidenceStore(url);
  const p = packetOf(files);
  await attacker.publishPacket({ changeId: change.id, workflowId: 'forged', runId }, p);
  await attacker.close();
  return p.tree;
};
/** Attested, by a worker key the attacker made for itself (not in the trust root). */
const strangerAttested: Publish = async (url, keys, change, files, runId) => {
  const attacker = new EvidenceStores(mkdtempSync(join(tmpdir(), 'lanes-attacker-')), new PostgresEvidenceStore(url), { cache: false, attester: attesterOf({ workerKeyPath: keys.strangerWorkerKey, trustRootPath: keys.trustRootPath }) });
  const ref = await attacker.writePacket({ changeId: change.id, workflowId: 'forged', runId }, files);
  return ref.treeHash;
};
/** Attested by a real worker (a stolen host key, or a lane of another change): bound to another change. */
const otherChangeAttested: Publish = async (url, keys, change, files, runId) => {
  const worker = new EvidenceStores(mkdtempSync(join(tmpdir(), 'lanes-other-')), new PostgresEvidenceStore(url), { cache: false, attester: attesterOf({ workerKeyPath: keys.workerKeys['host-a']!, trustRootPath: keys.trustRootPath }) });
  const ref = await worker.writePacket({ changeId: `${change.id}-other`, workflowId: 'forged', runId }, files);
  return ref.treeHash;
};

describe.skipIf(postgresSkipped !== undefined)('forged evidence through the shared store', () => {
  let h: Harness;
  let keys: Keys;
  let url: string;
  const prods: TestProduction[] = [];
  beforeAll(async () => {
    h = await harness();
    keys = makeKeys({ workers: ['host-a', 'host-b'] });
    url = await storeDatabases.create();
  });
  afterAll(async () => {
    for (const p of prods) await p.drop();
    await h?.close();
    await closeEvidenceStores();
    await closeTargets();
    await storeDatabases.dropAll();
  });

  for (const [how, publish, why] of [
    ['no worker attested', unattested, /NOT ATTESTED by any worker in the trust root \(no worker attestation is stored for it\)/],
    ['a worker key not in the trust root attested', strangerAttested, /NOT ATTESTED by any worker in the trust root \(an attestation by key [0-9a-f]{16} is by no worker the trust root lists\)/],
    ["a worker of the trust root attested as another change's", otherChangeAttested, /is bound to change demo-[0-9a-f]{8}-other \(workflow forged\), not to change demo-/],
  ] as const) {
    it(`refuses to execute on a rehearsal and a precheck that no lane of this change ran (${how}); production untouched`, { timeout: 240_000 }, async () => {
      const prod = await makeProduction('postgres', freshChange({ blockers: false }), 'CREATE TABLE keep_me (id int PRIMARY KEY);');
      prods.push(prod);
      const { change } = prod;
      const specHash = specHashOf(change);

      // --- the attacker: the evidence URL (every CLI user has it) and production's identity (any earlier precheck or
      // dry-run packet in the store records it; here read directly for brevity).
      const identity = await (await openProduction(prod.lanesHome, change)).identity();
      const now = Date.now();
      const rehearsalTree = await publish(url, keys, change, { 'change.json': JSON.stringify(change), 'rehearsal.json': JSON.stringify({ proof: { status: 'PASSED' } }) }, 'r');
      const precheckTree = await publish(url, keys, change, {
        'change.json': JSON.stringify(change),
        'precheck.json': JSON.stringify({ status: 'PASSED', checkedAt: new Date(now).toISOString(), validUntil: new Date(now + 30 * 60_000).toISOString(), production: { identity } }),
      }, 'p');

      const homeB = mkdtempSync(join(tmpdir(), 'lanes-hostB-'));
      const b = await h.startWorker(keys.trustRootPath, { lanesHome: homeB, evidenceUrl: url, workerKeyPath: keys.workerKeys['host-b']! });
      // --- the attacker, as a namespace writer: laneFinished is taken from anyone, so the change entity now reports the
      // forged trees as the latest passed rehearsal and precheck of this spec (what `lanes grant REAL_RUN` names).
      await ensureChangeEntity(h.client, change, h.taskQueue);
      const entity = h.client.workflow.getHandle(changeWorkflowId(change.id));
      for (const [lane, tree] of [['rehearsal', rehearsalTree], ['precheck', precheckTree]] as const) {
        await entity.signal(laneFinishedSignal, { workflowId: `forged-${lane}`, lane, shaped: false, outcome: 'COMPLETED', specHash, finishedAt: new Date().toISOString(), treeHash: tree, ...(lane === 'precheck' ? { validUntil: new Date(now + 30 * 60_000).toISOString() } : {}) } as never);
      }
      const st = await waitFor('ledger', async () => {
        const s = (await entity.query(changeQuery)) as ChangeState;
        return s.ledger.length >= 2 ? s : undefined;
      });
      const latest = (k: string) => [...st.ledger].reverse().find((e) => e.lane === k && e.outcome === 'COMPLETED' && e.specHash === specHash)?.treeHash;
      expect([latest('rehearsal'), latest('precheck')]).toEqual([rehearsalTree, precheckTree]);

      // --- the owner signs what `lanes grant` names; host B (cluster mode) must refuse at its point of action.
      let outcome: unknown;
      try {
        outcome = await runLaneWithGrants(h, keys, change, 'execution', ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'], { evidenceTree: rehearsalTree, precheckTree }).catch((e: unknown) => e);
      } finally {
        await b.stop();
      }
      // The lane fails, non-retryably, with the point of action's refusal (it never reached the step's SQL).
      expect(outcome).toBeInstanceOf(WorkflowFailedError);
      const failure = (outcome as WorkflowFailedError).cause?.message ?? '';
      expect(failure).toMatch(/point of action refused applyProductionStep for demo-[0-9a-f]{8}\.execution\.[^:]*: REAL_RUN's rehearsal: /);
      expect(failure).toMatch(why);
      // Nothing applied: no ledger row (the ledger may not even exist yet), and the step's table was never created.
      const [ledger] = await productionQuery<{ t: string | null }>(prod.lanesHome, change, "SELECT to_regclass('gated_lanes.applied_steps')::text AS t");
      if (ledger?.t) expect(await productionQuery(prod.lanesHome, change, 'SELECT step_id FROM gated_lanes.applied_steps')).toEqual([]);
    });
  }
});
