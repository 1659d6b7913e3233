/**
 * PGlite clones made from images (issue 14: fast rehearsals, no loss of isolation). One worker process makes
 * every empty clone from one pristine image and every production-shaped clone from a copy of production kept
 * while production is unchanged; these tests show that nothing one rehearsal does reaches the next, that every
 * clone is an instance of its own, and that a kept copy never outlives a change to production.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChangeSpec } from '../../src/domain/change-spec';
import { rehearse } from '../../src/activities/rehearsal';
import { surfaceFingerprint } from '../../src/activities/targets/fingerprint';
import { closeTargets, openClone, openProduction } from '../../src/activities/targets/open';
import type { AuthorizedWork } from '../../src/activities/lane-request';
import type { CloneTarget } from '../../src/activities/targets/target';
import { specHashOf } from '../../src/domain/bindings';
import { makeProduction, REGISTRY_SEED, REGISTRY_SURFACE, type TestProduction } from '../support/targets';

afterAll(() => closeTargets());

const request = (p: TestProduction, change: ChangeSpec, over: Partial<AuthorizedWork> = {}): AuthorizedWork => ({
  workflowId: `wf-${Math.random().toString(36).slice(2)}`,
  runId: 'run-1',
  change,
  specHash: specHashOf(change),
  grants: [],
  trustRootFingerprint: 'test-trust-root',
  ...over,
});
const packet = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

/** Everything a clone holds beyond a fresh database, by name: what a clone made after another must not show. */
const LEFT_BEHIND = `SELECT kind || ' ' || name AS o FROM (
  SELECT 'relation' AS kind, c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'scratch')
  UNION ALL SELECT 'function', p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('public', 'scratch')
  UNION ALL SELECT 'schema', nspname::text FROM pg_namespace WHERE nspname = 'scratch'
  UNION ALL SELECT 'claim', nonce FROM gated_lanes.grant_claims
  UNION ALL SELECT 'database setting', array_to_string(setconfig, ',') FROM pg_db_role_setting
) x ORDER BY 1`;

describe('PGlite clones in one worker process', () => {
  it('an empty clone shows nothing a previous clone made (objects, rows, bookkeeping), and each has its own instance id', async () => {
    const p = await makeProduction('pglite', { v: 1, id: 'clones-empty', title: 'clones', surface: { tables: ['t'], functions: [] }, steps: [] });
    const prodId = (await (await openProduction(p.lanesHome, p.change)).identity()).instance;
    const makeObjects = (c: CloneTarget) =>
      c.session((s) =>
        s.exec(`CREATE TABLE t (x int); INSERT INTO t VALUES (1); CREATE SCHEMA scratch; CREATE TABLE scratch.u (y int);
          CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
          INSERT INTO gated_lanes.grant_claims VALUES ('nonce-1', 'g', 'APPLY', 'c', 'w', 'r');
          ALTER DATABASE postgres SET search_path = scratch, public;`),
      );
    const ids = [prodId];
    // The first clone is changed and disposed of as it is (not restored): the next one starts clean.
    const first = await openClone(p.lanesHome, p.change, false);
    ids.push((await first.identity()).instance);
    await makeObjects(first);
    expect(await first.session((s) => s.query(LEFT_BEHIND))).toHaveLength(6);
    await first.dispose();
    const second = await openClone(p.lanesHome, p.change, false);
    ids.push((await second.identity()).instance);
    expect(await second.session((s) => s.query(LEFT_BEHIND))).toEqual([]);
    // Changed and still open while a third is made.
    await makeObjects(second);
    const third = await openClone(p.lanesHome, p.change, false);
    ids.push((await third.identity()).instance);
    expect(await third.session((s) => s.query(LEFT_BEHIND))).toEqual([]);
    expect(await second.session((s) => s.query(LEFT_BEHIND))).toHaveLength(6);
    await Promise.all([second.dispose(), third.dispose()]);
    expect(new Set(ids).size).toBe(4);
  });

  it('a rehearsal that failed half-way leaves nothing for the next rehearsal of the same production', async () => {
    const base: ChangeSpec = { v: 1, id: 'clones-leak', title: 'clones', surface: { tables: ['leak_t'], functions: [] }, steps: [] };
    const good = { ...base, steps: [{ id: 's1', action: 'APPLY' as const, apply: 'CREATE TABLE leak_t (x int); INSERT INTO leak_t VALUES (1);', rollback: 'DROP TABLE leak_t;' }] };
    const p = await makeProduction('pglite', good);
    // Its rollback leaves the table behind: the proof fails closed with the clone changed.
    const leaky = { ...good, targets: p.change.targets, steps: [{ ...good.steps[0]!, rollback: 'DELETE FROM leak_t;' }] };
    const change = p.change;
    const ok1 = await rehearse(p.place, request(p, change));
    await expect(rehearse(p.place, request(p, leaky))).rejects.toThrow(/the rollback SQL did not restore the surface exactly: table leak_t \(absent → exists\)/);
    const ok2 = await rehearse(p.place, request(p, change));
    const [r1, r2] = [packet(ok1.dir, 'rehearsal.json'), packet(ok2.dir, 'rehearsal.json')];
    expect([r1.proof.status, r2.proof.status]).toEqual(['PASSED', 'PASSED']);
    expect(packet(ok2.dir, 'fingerprints.json').before.tables.leak_t).toEqual({ exists: false });
    expect(r2.proof.before).toBe(r1.proof.before);
    expect(r2.isolation.production.instance).toBe(r1.isolation.production.instance);
    expect(new Set([r1.isolation.production.instance, r1.isolation.clone.instance, r2.isolation.clone.instance]).size).toBe(3);
    expect(packet(ok2.dir, 'clone-provenance.json')).toMatchObject({ kind: 'empty', method: expect.stringMatching(/pristine initdb image, checked empty/) });
  });

  it("a production-shaped clone equals production's fingerprint each time, however production changed in between", async () => {
    const p = await makeProduction('pglite', { v: 1, id: 'clones-shaped', title: 'clones', surface: REGISTRY_SURFACE, steps: [{ id: 'a', action: 'APPLY', apply: "INSERT INTO birth_registry (object_id, origin) VALUES ('obj-r', 'lane');", rollback: "DELETE FROM birth_registry WHERE object_id = 'obj-r';" }] }, REGISTRY_SEED);
    const prod = await openProduction(p.lanesHome, p.change);
    const fingerprint = () => prod.session((s) => surfaceFingerprint(s, REGISTRY_SURFACE), { readOnly: true });
    const shaped = async () => {
      const ref = await rehearse(p.place, request(p, p.change, { shaped: true }));
      return { before: packet(ref.dir, 'rehearsal.json').proof.before as string, method: packet(ref.dir, 'clone-provenance.json').method as string };
    };
    const fp0 = (await fingerprint()).hash;
    const first = await shaped();
    expect(first.before).toBe(fp0);
    // Only read since: the copy production had is its current state, and is used again.
    const again = await shaped();
    expect(again).toEqual({ before: fp0, method: expect.stringMatching(/reused: production unchanged since then/) });
    // A write (one row's cell) through any session: the next clone has it.
    await prod.session((s) => s.exec("UPDATE birth_registry SET weight = 99 WHERE object_id = 'obj-1'"));
    const fp1 = (await fingerprint()).hash;
    expect(fp1).not.toBe(fp0);
    const afterWrite = await shaped();
    expect(afterWrite.before).toBe(fp1);
    expect(afterWrite.method).not.toMatch(/reused/);
    // A session that only declares itself read-only is held to it by the server, so it cannot change production unseen.
    await expect(prod.session((s) => s.exec("UPDATE birth_registry SET weight = 1 WHERE object_id = 'obj-1'"), { readOnly: true })).rejects.toThrow(/read-only transaction/);
    await expect(prod.session((s) => s.exec("UPDATE birth_registry SET weight = 1 WHERE object_id = 'obj-1'"))).resolves.toBeUndefined();
    expect((await shaped()).before).toBe((await fingerprint()).hash);
  });
});
