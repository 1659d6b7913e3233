/**
 * The `lanes` CLI as a user runs it: child processes against the real dev server, a real worker in this process.
 * Every bad input gets a clear message, the documented exit code, and nothing written or signalled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { grantEnvelope, harness, historyEvents, learnLane, makeKeys, waitFor, type Harness, type Keys } from '../support/lanes';
import { DEMO_CHANGE } from '../support/fixtures';
import { statusQuery } from '../../src/workflows/messages';

const LANES = join(__dirname, '..', '..', 'bin', 'lanes.js');
let h: Harness;
let keys: Keys;
let stop: () => Promise<void>;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function lanes(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [LANES, ...args],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: h.address, LANES_TASK_QUEUE: h.taskQueue, LANES_HOME: h.lanesHome, LANES_TRUST_ROOT: keys.trustRootPath, NO_COLOR: '1', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A copy of the demo change with a unique id, so visibility queries see only this test's lanes. */
function uniqueChange(): { path: string; id: string } {
  const id = `cli-${randomUUID().slice(0, 8)}`;
  const spec = JSON.parse(readFileSync(DEMO_CHANGE, 'utf8'));
  const path = join(dir, `${id}.json`);
  writeFileSync(path, JSON.stringify({ ...spec, id }));
  copyFileSync(join(dirname(DEMO_CHANGE), spec.blockers.map), join(dir, spec.blockers.map));
  return { path, id };
}

const keyPath = (name: string) => join(keys.dir, `${name}.key`);

beforeAll(async () => {
  h = await harness();
  keys = makeKeys();
  stop = (await h.startWorker(keys.trustRootPath)).stop;
  dir = mkdtempSync(join(tmpdir(), 'lanes-cli-'));
});
afterAll(async () => {
  await stop?.();
  await h?.close();
});

describe('lanes CLI: usage', () => {
  it('prints help with exit 0, and exits 2 on no command or an unknown one', async () => {
    expect((await lanes(['--help'])).code).toBe(0);
    const none = await lanes([]);
    expect(none.code).toBe(2);
    const unknown = await lanes(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const grantHelp = await lanes(['grant', '--help']);
    expect(grantHelp.code).toBe(0);
    expect(grantHelp.stdout).toMatch(/lanes grant <workflowId> <ACTION> --key <owner key>/);
  });
});

describe('lanes keys new', () => {
  it('creates a private key with mode 0600 and never overwrites it', async () => {
    const out = join(dir, 'keys');
    const first = await lanes(['keys', 'new', '--role', 'owner', '--name', 'alice', '--out', out, '--json']);
    expect(first.code).toBe(0);
    const made = JSON.parse(first.stdout);
    expect(statSync(made.keyPath).mode & 0o777).toBe(0o600);
    const before = readFileSync(made.keyPath, 'utf8');
    const again = await lanes(['keys', 'new', '--role', 'owner', '--name', 'alice', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/alice\.key already exists; keys are never overwritten/);
    expect(readFileSync(made.keyPath, 'utf8')).toBe(before);
  });

  it('refuses an unknown role with a usage error', async () => {
    const r = await lanes(['keys', 'new', '--role', 'admin', '--name', 'x', '--out', join(dir, 'k2')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--role must be owner, operator or worker/);
  });

  it('creates a worker key (mode 0600) that trust check and show list under workers, apart from people', async () => {
    const out = join(dir, 'wk');
    const made = JSON.parse((await lanes(['keys', 'new', '--role', 'worker', '--name', 'host-a', '--out', out, '--json'])).stdout);
    expect(made).toMatchObject({ role: 'worker', name: 'host-a' });
    expect(statSync(made.keyPath).mode & 0o777).toBe(0o600);
    const root = join(dir, 'trust-root-workers.json');
    const doc = JSON.parse(readFileSync(keys.trustRootPath, 'utf8'));
    writeFileSync(root, JSON.stringify({ ...doc, workers: [{ id: 'host-a', publicKey: made.publicKey }] }));
    const check = await lanes(['trust', 'check', '--file', root]);
    expect(check).toMatchObject({ code: 0, stdout: expect.stringContaining(`3 keys, 1 worker (host-a ${made.keyId})`) });
    expect((await lanes(['trust', 'show', '--file', root])).stdout).toMatch(new RegExp(`workers \\(attest what they publish to the shared evidence store; they sign no grant\\):\\n.*WORKER +KEY ID\\n.*host-a +${made.keyId}`));
    // A worker's .pub pasted among people's keys is not a person's key.
    writeFileSync(root, JSON.stringify({ ...doc, keys: [...doc.keys, { name: 'host-a', role: 'worker', publicKey: made.publicKey }] }));
    expect((await lanes(['trust', 'check', '--file', root])).code).toBe(1);
  });
});

describe('lanes trust check', () => {
  it('accepts the trust root a worker would load, and names a weak key or a missing file', async () => {
    const ok = await lanes(['trust', 'check', '--file', keys.trustRootPath, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, keys: 3 });

    const weak = join(dir, 'weak-trust-root.json');
    const smallOrder = '0100000000000000000000000000000000000000000000000000000000000000';
    writeFileSync(weak, JSON.stringify({ v: 1, keys: [{ name: 'mallory', role: 'owner', publicKey: smallOrder }] }));
    const bad = await lanes(['trust', 'check', '--file', weak]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/weak-trust-root\.json: trust root is not valid:\n {2}- keys\[0\] \("mallory"\): public key is a small-order point/);

    const missing = await lanes(['trust', 'check', '--file', join(dir, 'absent.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read trust root .*absent\.json: ENOENT/);
  });
});

describe('lanes change validate', () => {
  it('accepts the demo change', async () => {
    const r = await lanes(['change', 'validate', DEMO_CHANGE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok — change demo-birth-registry, 2 step/);
  });

  it('names a missing file, a JSON syntax error with its line, and a bad field with its line', async () => {
    const missing = await lanes(['change', 'validate', join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read change spec .*nope\.json: ENOENT/);

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "v": 1,\n  "id": "x"\n  "title": "t"\n}\n');
    const syntax = await lanes(['change', 'validate', broken]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toMatch(/broken\.json:4:\d+: not valid JSON\/YAML/);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'v: 1\nid: bad-change\ntitle: t\nsteps:\n  - id: s1\n    action: DEPLOY\n    apply: "SELECT 1"\n    rollback: "SELECT 1"\n');
    const field = await lanes(['change', 'validate', bad]);
    expect(field.code).toBe(1);
    expect(field.stderr).toMatch(/bad\.yaml:6: steps\.0\.action \(step s1\): /);

    // A step named by its id as well as its position, for every kind of mistake in it.
    const sql = join(dir, 'bad-sql.yaml');
    writeFileSync(sql, 'v: 1\nid: bad-sql\ntitle: t\nsurface: {tables: [t1], functions: []}\nsteps:\n  - id: make-t1\n    action: APPLY\n    apply: "CREATE TABLE t1 (x int)"\n    rollback: "DROP TABLE t1"\n  - id: add-index\n    action: APPLY\n    apply: 42\n    rollback: "SELECT 1"\n');
    const second = await lanes(['change', 'validate', sql]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/bad-sql\.yaml:12: steps\.1\.apply \(step add-index\): /);
  });
});

describe('lanes seal (standalone CI gate)', () => {
  it('creates a seal, verifies it clean (0), names each drift (1), and refuses bad usage (2) writing nothing', async () => {
    const d = mkdtempSync(join(tmpdir(), 'lanes-seal-'));
    writeFileSync(join(d, 'a.json'), '{"t": "birth — registry"}\n');
    writeFileSync(join(d, 'b.md'), 'line one\nline two\n');
    writeFileSync(join(d, 'c.txt'), 'kept\n');
    const manifest = join(d, 'seal.json');
    const missing = await lanes(['seal', 'create', '--out', manifest, join(d, 'a.json'), join(d, 'nope.txt')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.txt: ENOENT; nothing was written/);
    expect(() => statSync(manifest)).toThrow();
    expect((await lanes(['seal', 'create', '--out', manifest, join(d, 'a.json'), join(d, 'b.md'), join(d, 'c.txt')])).code).toBe(0);
    expect(await lanes(['seal', 'verify', manifest])).toMatchObject({ code: 0, stdout: 'seal clean: 3 files byte-identical\n' });

    writeFileSync(join(d, 'a.json'), '{"t": "birth \\u2014 registry"}\n');
    writeFileSync(join(d, 'b.md'), 'line one\r\nline two\r\n');
    rmSync(join(d, 'c.txt'));
    const drift = await lanes(['seal', 'verify', manifest, '--json']);
    expect(drift.code).toBe(1);
    expect(JSON.parse(drift.stdout)).toEqual({
      clean: false,
      files: [
        { path: 'a.json', drift: ['sha mismatch', 'byte-length mismatch', 'ensure_ascii JSON re-encode'] },
        { path: 'b.md', drift: ['sha mismatch', 'byte-length mismatch', 'CRLF'] },
        { path: 'c.txt', drift: ['missing file'] },
      ],
    });
    expect((await lanes(['seal', 'verify'])).code).toBe(2);
    writeFileSync(join(d, 'junk.json'), '{"v": 2}');
    const junk = await lanes(['seal', 'verify', join(d, 'junk.json')]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/is not a readable seal manifest/);
  });
});

describe('lanes evidence verify (offline)', () => {
  it('passes an intact packet with its tree, and fails (1) on one changed byte, an added file or a wrong tree', async () => {
    const { writeEvidencePacket } = await import('../../src/evidence/local-store');
    const d = join(mkdtempSync(join(tmpdir(), 'lanes-ev-')), 'packet');
    const ref = await writeEvidencePacket(join(d, '..'), d, { 'a.json': '{"x":1}\n', 'sub/b.txt': 'bee\n' });
    expect(await lanes(['evidence', 'verify', d, '--tree', ref.treeHash])).toMatchObject({ code: 0, stdout: `evidence intact: 2 files, tree ${ref.treeHash}\n` });
    expect((await lanes(['evidence', 'verify', d, '--tree', '0'.repeat(64)])).code).toBe(1);
    writeFileSync(join(d, 'sub/b.txt'), 'bEe\n');
    writeFileSync(join(d, 'extra.txt'), 'x');
    const changed = await lanes(['evidence', 'verify', d, '--json']);
    expect(changed.code).toBe(1);
    expect(JSON.parse(changed.stdout).problems).toEqual(['extra.txt: not in the MANIFEST (added)', 'sub/b.txt: content changed']);
    expect((await lanes(['evidence', 'verify', tmpdir()])).code).toBe(2);
  });
});

describe('governance a user meets through the CLI (issue 13)', () => {
  it('evidence verify refuses a symbolic link in a packet instead of following it (a loop included)', async () => {
    const { writeEvidencePacket } = await import('../../src/evidence/local-store');
    const d = join(mkdtempSync(join(tmpdir(), 'lanes-ev-')), 'packet');
    const ref = await writeEvidencePacket(join(d, '..'), d, { 'a.json': '{"x":1}\n' });
    // A link replacing a listed file with the same bytes elsewhere, and a directory loop.
    const outside = join(d, '..', 'outside.json');
    writeFileSync(outside, '{"x":1}\n');
    rmSync(join(d, 'a.json'));
    symlinkSync(outside, join(d, 'a.json'));
    symlinkSync('.', join(d, 'loop'));
    const r = await lanes(['evidence', 'verify', d, '--tree', ref.treeHash, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).problems).toEqual(
      expect.arrayContaining(['a.json: a symbolic link (a packet holds regular files only; not followed)', 'loop: a symbolic link (a packet holds regular files only; not followed)']),
    );
  });

  it('refuses a private key file group or others can read, naming the chmod, and signs nothing', async () => {
    const { path } = uniqueChange();
    const loose = join(dir, `loose-${randomUUID().slice(0, 8)}.key`);
    copyFileSync(keyPath('operator'), loose);
    chmodSync(loose, 0o644);
    const r = await lanes(['start', 'rehearsal', '--change', path, '--key', loose]);
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(new RegExp(`key file ${loose} is accessible by group or others \\(mode 0644\\).*chmod 600 ${loose}`))]);
    chmodSync(loose, 0o600);
    expect((await lanes(['start', 'rehearsal', '--change', path, '--key', loose, '--json'])).code).toBe(0);
  });

  it('on a server of your own (TEMPORAL_ADDRESS), never makes or uses development keys or trust roots', async () => {
    const { path, id } = uniqueChange();
    // A lanes home holding a development operator key and trust root, as `npm start` leaves one.
    const home = mkdtempSync(join(tmpdir(), 'lanes-devhome-'));
    const { ensureDevTrustRoot } = await import('../../src/server/dev-trust-root');
    ensureDevTrustRoot(home);
    const noKey = await lanes(['start', 'rehearsal', '--change', path], { LANES_HOME: home });
    expect([noKey.code, noKey.stderr]).toEqual([2, expect.stringMatching(/TEMPORAL_ADDRESS names a Temporal server of your own, where the development operator key is never used/)]);
    const noRoot = await lanes(['start', 'rehearsal', '--change', path, '--key', keyPath('operator')], { LANES_HOME: home, LANES_TRUST_ROOT: '' });
    expect([noRoot.code, noRoot.stderr]).toEqual([2, expect.stringMatching(/set LANES_TRUST_ROOT to the trust root file your workers use/)]);
    let count = 0;
    for await (const _ of h.client.workflow.list({ query: `ChangeId = "${id}"` })) count++;
    expect(count).toBe(0);
    const fresh = mkdtempSync(join(tmpdir(), 'lanes-devhome-'));
    const dev = await lanes(['dev'], { LANES_HOME: fresh, LANES_TRUST_ROOT: '' });
    expect([dev.code, dev.stderr]).toEqual([2, expect.stringMatching(/no development trust root is made or used: set LANES_TRUST_ROOT/)]);
    expect(existsSync(join(fresh, 'trust-root.json'))).toBe(false);
    expect(existsSync(join(fresh, 'keys'))).toBe(false);
  });

  it('bounds grant lifetime and precheck validity by the trust root, refusing longer ones before signing', async () => {
    const { path } = uniqueChange();
    const tooLong = await lanes(['start', 'precheck', '--change', path, '--key', keyPath('operator'), '--precheck-valid-for', '25h']);
    expect([tooLong.code, tooLong.stderr]).toEqual([2, expect.stringMatching(/--precheck-valid-for 25h is longer than the trust root allows a precheck to stand \(24h\)/)]);
    const { workflowId } = JSON.parse((await lanes(['start', 'rehearsal', '--change', path, '--key', keyPath('operator'), '--json'])).stdout);
    const long = await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner'), '--expires', '30d']);
    expect([long.code, long.stderr]).toEqual([2, expect.stringMatching(/--expires 30d is longer than the trust root allows a grant to live \(24h\).*Nothing was signed/)]);
    const signals = (await historyEvents(h.client, workflowId)).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'grant');
    expect(signals).toHaveLength(0);
    await h.client.workflow.getHandle(workflowId).terminate('test cleanup');
  });

  it('trust show lists people with their keys, and says how a v1 file counts them', async () => {
    const v1 = await lanes(['trust', 'show', '--file', keys.trustRootPath]);
    expect(v1.stdout).toMatch(/trust root v1: keys are grouped into people by name/);
    expect(v1.stdout).toMatch(/limits: grants live at most 24h, a precheck stands at most 24h/);
    const v2 = join(dir, 'people.json');
    const pub = (k: Keys['owner']) => ({ role: k.role, publicKey: k.publicKey });
    writeFileSync(v2, JSON.stringify({ v: 2, people: [{ id: 'olly', name: 'Olly Operator', keys: [pub(keys.operator), pub(keys.owner2)] }, { id: 'ann', name: 'Ann Owner', keys: [pub(keys.owner)] }], limits: { grantLifetime: '2h' } }));
    const shown = await lanes(['trust', 'show', '--file', v2]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`olly +Olly Operator +owner +${keys.owner2.keyId}`));
    expect(shown.stdout).toMatch(/limits: grants live at most 2h/);
    expect(shown.stdout).not.toMatch(/v1/);
  });
});

describe('lanes start / grant / status against the dev server', () => {
  it('refuses an unknown lane (2), --shaped off rehearsal (2) and an owner key for start (1), starting nothing', async () => {
    const { path, id } = uniqueChange();
    expect((await lanes(['start', 'yolo', '--change', path, '--key', keyPath('operator')])).code).toBe(2);
    const shaped = await lanes(['start', 'execution', '--shaped', '--change', path, '--key', keyPath('operator')]);
    expect(shaped.code).toBe(2);
    expect(shaped.stderr).toMatch(/--shaped applies to the rehearsal lane only, not execution/);
    const owner = await lanes(['start', 'rehearsal', '--change', path, '--key', keyPath('owner')]);
    expect(owner.code).toBe(1);
    expect(owner.stderr).toMatch(/is an owner key \(owner\); starting a lane needs an operator key/);
    const pub = await lanes(['start', 'rehearsal', '--change', path, '--key', join(keys.dir, 'operator.pub')]);
    expect(pub.code).toBe(1);
    expect(pub.stderr).toMatch(/this is a \.pub file; pass the \.key file/);
    const noKey = await lanes(['start', 'rehearsal', '--change', path]);
    // With TEMPORAL_ADDRESS set (a server of one's own), the development operator key is never a fallback.
    expect([noKey.code, noKey.stderr]).toEqual([2, expect.stringMatching(/missing --key <operator key>: TEMPORAL_ADDRESS names a Temporal server of your own, where the development operator key is never used/)]);
    const ownerByEnv = await lanes(['start', 'rehearsal', '--change', path], { LANES_OPERATOR_KEY: keyPath('owner') });
    expect([ownerByEnv.code, ownerByEnv.stderr]).toEqual([1, expect.stringMatching(/signing with .*owner\.key \(no --key given\)\n.*starting a lane needs an operator key/s)]);
    let count = 0;
    for await (const _ of h.client.workflow.list({ query: `ChangeId = "${id}"` })) count++;
    expect(count).toBe(0);
  });

  it('runs a lane: start → waiting → refused grants change nothing → owner grant accepted → completed', async () => {
    const { path, id } = uniqueChange();
    const started = await lanes(['start', 'rehearsal', '--change', path, '--key', keyPath('operator'), '--json']);
    expect(started.code).toBe(0);
    const { workflowId, ui } = JSON.parse(started.stdout);
    expect(workflowId).toMatch(new RegExp(`^${id}\\.rehearsal\\.`));
    expect(ui).toBe(`http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);

    // The lane runs its probes first (STARTING), then waits.
    const waiting = await waitFor('WAITING_FOR_GRANT', async () => {
      const st = JSON.parse((await lanes(['status', workflowId, '--json'])).stdout);
      return st.state === 'WAITING_FOR_GRANT' ? st : undefined;
    });
    expect(waiting).toMatchObject({ grantsMissing: ['AUTHORIZE_REHEARSAL'], probes: { total: 47, failedClosed: 47 } });

    // Refused locally: wrong role, unknown action, bad duration, unknown workflow. Nothing reaches the lane.
    const wrongRole = await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('operator')]);
    expect(wrongRole.code).toBe(1);
    expect(wrongRole.stderr).toMatch(/granting needs an owner key/);
    expect((await lanes(['grant', workflowId, 'PLEASE', '--key', keyPath('owner')])).code).toBe(2);
    expect((await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner'), '--expires', 'soon'])).code).toBe(2);
    const unknown = await lanes(['grant', 'no-such-lane', 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no lane with workflow id "no-such-lane"/);
    const signals = (await historyEvents(h.client, workflowId)).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'grant');
    expect(signals).toHaveLength(0);

    // Refused by the lane: a key outside the trust root is signalled, judged and reported.
    const stranger = await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('stranger'), '--json']);
    expect(stranger.code).toBe(1);
    expect(JSON.parse(stranger.stdout)).toMatchObject({ result: 'rejected', reason: expect.stringMatching(/not in the trust root/) });

    const granted = await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner'), '--json']);
    expect(granted.code).toBe(0);
    expect(JSON.parse(granted.stdout)).toMatchObject({ result: 'accepted', reason: null });
    await h.client.workflow.getHandle(workflowId).result();

    const done = await lanes(['status', workflowId]);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^COMPLETED {2}rehearsal lane /);
    expect(done.stdout).toMatch(/\n$/);
    expect(done.stdout).toMatch(/UNKNOWN_KEY/);
    const again = await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/has ended \(COMPLETED/);

    // list: visibility, filtered by change and state; bad filters are usage errors.
    const listed = await waitFor('the lane in visibility as COMPLETED', async () => {
      const r = JSON.parse((await lanes(['list', '--change', id, '--json'])).stdout);
      return r.length === 1 && r[0].state === 'COMPLETED' ? r : undefined;
    });
    expect(listed[0]).toMatchObject({ workflowId, changeId: id, lane: 'rehearsal', grantsMissing: [] });
    expect(JSON.parse((await lanes(['list', '--change', id, '--state', 'HOLD', '--json'])).stdout)).toEqual([]);
    const table = await lanes(['list', '--change', id]);
    expect(table.stdout).toMatch(/^WORKFLOW ID +CHANGE +LANE +STATE +MISSING +STARTED\n/);
    expect((await lanes(['list', '--state', 'DONE'])).code).toBe(2);
    expect((await lanes(['list', '--change', "x' OR 1=1"])).code).toBe(2);

    // history: who granted what and when, with the lane's verdict; names from the trust root.
    const hist = await lanes(['history', workflowId, '--json'], { LANES_TRUST_ROOT: keys.trustRootPath });
    expect(hist.code).toBe(0);
    const { events, ui: histUi } = JSON.parse(hist.stdout);
    expect(histUi).toBe(ui);
    const details = events.map((e: { what: string; detail: string }) => `${e.what}: ${e.detail}`);
    expect(details[0]).toMatch(/^started: rehearsal lane, signed by operator \(operator\)/);
    expect(details).toContainEqual(expect.stringMatching(/^grant: AUTHORIZE_REHEARSAL by key [0-9a-f]{16} .*→ rejected: .*not in the trust root/));
    expect(details).toContainEqual(expect.stringMatching(/^grant: AUTHORIZE_REHEARSAL by owner \(owner\) .*→ accepted$/));
    expect(details).toContainEqual('activity: rehearseOnClone completed');
    expect(details.at(-1)).toMatch(/^ended: COMPLETED — evidence tree [0-9a-f]{64}$/);
    expect((await lanes(['history', 'no-such-lane'])).stderr).toMatch(/no lane with workflow id "no-such-lane"/);

    // packet: by workflow id or change id, Markdown or JSON, to a file; never selects anything.
    const md = await lanes(['packet', workflowId]);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/This document selects nothing\. Default = HOLD_PRODUCTION\./);
    const byChange = JSON.parse((await lanes(['packet', id, '--json'])).stdout);
    expect(byChange).toMatchObject({ workflowId, lane: 'rehearsal', outcome: 'COMPLETED', selects: null, default: 'HOLD_PRODUCTION' });
    const out = join(dir, `${id}-packet.md`);
    expect((await lanes(['packet', id, '--out', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(md.stdout);
    const nothing = await lanes(['packet', 'no-such-change']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/neither a lane's workflow id nor a change id/);
    // About 30 child-process commands: generous, so a loaded CI machine does not fail it on time alone.
  }, 240_000);

  it('takes a signed operator input into status, history and evidence; refuses bad inputs, sending nothing', async () => {
    const { path, id } = uniqueChange();
    const started = JSON.parse((await lanes(['start', 'rehearsal', '--change', path, '--key', keyPath('operator'), '--json'])).stdout);
    const workflowId: string = started.workflowId;
    const handle = h.client.workflow.getHandle(workflowId);
    await waitFor('WAITING_FOR_GRANT', async () => ((await handle.query(statusQuery)).state === 'WAITING_FOR_GRANT' ? true : undefined));
    const map = join(dirname(DEMO_CHANGE), 'surface-map.json');
    const sha = createHash('sha256').update(readFileSync(map)).digest('hex');

    // Refused before anything is sent: owner key, missing file, bad kind, too big, not UTF-8.
    const owner = await lanes(['input', workflowId, 'surface-map', map, '--key', keyPath('owner')]);
    expect([owner.code, owner.stderr]).toEqual([1, expect.stringMatching(/needs an operator key/)]);
    const missing = await lanes(['input', workflowId, 'surface-map', join(dir, 'nope.json'), '--key', keyPath('operator')]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/nope\.json: no such file/)]);
    expect((await lanes(['input', workflowId, 'Surface Map', map, '--key', keyPath('operator')])).code).toBe(2);
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(64 * 1024 + 1));
    expect((await lanes(['input', workflowId, 'surface-map', big, '--key', keyPath('operator')])).stderr).toMatch(/at most 65536/);
    const binary = join(dir, 'bin.dat');
    writeFileSync(binary, Buffer.from([0xff, 0xfe, 0x00]));
    expect((await lanes(['input', workflowId, 'surface-map', binary, '--key', keyPath('operator')])).stderr).toMatch(/not UTF-8 text/);
    const signals = async () => (await historyEvents(h.client, workflowId)).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'input').length;
    expect(await signals()).toBe(0);

    // Refused by the lane: content that is not what the operator signed.
    await learnLane(h.client, workflowId);
    const signedFor = grantEnvelope(keys, workflowId, id, 'rehearsal', 'OPERATOR_INPUT', { key: keys.operator, inputKind: 'surface-map', inputSha256: sha });
    await handle.signal('input', { envelope: signedFor, content: '{"surface": "something else"}' });
    const refused = await waitFor('the tampered input refused', async () => (await handle.query(statusQuery)).rejected.find((r) => r.signal === 'input'));
    expect(refused.reason).toMatch(/does not match the sha256 the operator signed/);

    const sent = await lanes(['input', workflowId, 'surface-map', map, '--key', keyPath('operator'), '--json']);
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ result: 'accepted', kind: 'surface-map', sha256: sha });
    const st = await handle.query(statusQuery);
    expect(st.inputs).toEqual([expect.objectContaining({ kind: 'surface-map', sha256: sha, bytes: readFileSync(map).length, by: expect.objectContaining({ name: 'operator' }) })]);
    expect((await lanes(['status', workflowId])).stdout).toMatch(/operator inputs:\nKIND +BY +BYTES +SHA256\nsurface-map +operator /);

    await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner')]);
    const done = (await handle.result()) as { evidence: { dir: string } };
    expect(readFileSync(join(done.evidence.dir, 'inputs', `surface-map-${sha.slice(0, 12)}`))).toEqual(readFileSync(map));
    const hist = JSON.parse((await lanes(['history', workflowId, '--json'], { LANES_TRUST_ROOT: keys.trustRootPath })).stdout);
    const inputs = hist.events.filter((e: { what: string }) => e.what === 'input').map((e: { detail: string }) => e.detail);
    expect(inputs).toEqual([expect.stringMatching(/rejected: .*does not match/), expect.stringMatching(/^surface-map \(sha256 [0-9a-f]{12}…\) by operator \(operator\) → accepted$/)]);
  }, 240_000);

  it('reports "queued" when no worker is running, and the lane judges the grant later', async () => {
    const { path } = uniqueChange();
    const queue = `no-worker-${randomUUID()}`;
    const started = await lanes(['start', 'rehearsal', '--change', path, '--key', keyPath('operator'), '--json'], { LANES_TASK_QUEUE: queue });
    const { workflowId } = JSON.parse(started.stdout);
    const r = await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner'), '--json'], { LANES_TASK_QUEUE: queue });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ result: 'queued', reason: expect.stringMatching(/no worker is running/) });
    const signals = (await historyEvents(h.client, workflowId)).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'grant');
    expect(signals).toHaveLength(1);
    await h.client.workflow.getHandle(workflowId).terminate('test cleanup');
  });

  it('says the verdict is not known yet, and how to see it, when a worker polls but does not answer in time', async () => {
    const { path } = uniqueChange();
    const queue = `slow-worker-${randomUUID()}`;
    const started = await lanes(['start', 'rehearsal', '--change', path, '--key', keyPath('operator'), '--json'], { LANES_TASK_QUEUE: queue });
    const { workflowId } = JSON.parse(started.stdout);
    // A worker that took the lane's first workflow task and never finishes it, as one that just restarted and is
    // still busy: the server lists it as a poller, and queries get no answer meanwhile.
    const task = await h.client.connection.withDeadline(Date.now() + 30_000, () =>
      h.client.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: queue }, identity: 'slow-worker' }),
    );
    expect(task.taskToken?.length).toBeGreaterThan(0);
    const r = await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner'), '--json'], { LANES_TASK_QUEUE: queue });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.result).toBe('pending');
    expect(out.reason).toMatch(/the verdict is not known yet/);
    expect(out.reason).toContain(`lanes status ${workflowId}`);
    expect(out.reason).not.toMatch(/no worker is running/);
    const text = await lanes(['grant', workflowId, 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner')], { LANES_TASK_QUEUE: queue });
    expect(text.stdout).toMatch(/^AUTHORIZE_REHEARSAL pending: the verdict is not known yet/m);
    await h.client.workflow.getHandle(workflowId).terminate('test cleanup');
  }, 120_000);

  it('revokes a grant, shows and moves blockers under the rules, and names an unknown change', async () => {
    const { path, id } = uniqueChange();
    const { workflowId } = JSON.parse((await lanes(['start', 'dry-run', '--change', path, '--key', keyPath('operator'), '--json'])).stdout);
    const granted = JSON.parse((await lanes(['grant', workflowId, 'AUTHORIZE_DRYRUN', '--key', keyPath('owner'), '--json'])).stdout);
    expect(granted.result).toBe('accepted');
    const grantId = JSON.parse((await lanes(['status', workflowId, '--json'])).stdout).grantsPresent[0].id;
    expect((await lanes(['revoke', workflowId, 'not-an-id', '--key', keyPath('owner')])).code).toBe(2);
    const revoked = await lanes(['revoke', workflowId, grantId, '--key', keyPath('owner2'), '--json']);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ result: 'accepted' });
    expect(JSON.parse((await lanes(['status', workflowId, '--json'])).stdout)).toMatchObject({ revoked: [grantId], grantsPresent: [] });

    const shown = await lanes(['blockers', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^charter: NOT chartered \(0 owner signatures so far\): no blocker moves and no execution opens until owners run `lanes charter/);
    expect(shown.stdout).toMatch(/\n7 of 7 blockers open/);
    const unbound = await lanes(['blockers', id, '--move', 'FIX7-P0-PLAN-REALRUN-1', '--to', 'CLOSED', '--key', keyPath('owner')]);
    expect(unbound.code).toBe(2);
    expect(unbound.stderr).toMatch(/--change <spec>/);
    const inputFile = join(dir, `${id}-surface.json`);
    writeFileSync(inputFile, '{"tables":["birth_registry"]}');
    // Rules the operator wrote bind nobody until an owner charters them: not even a move they allow happens.
    const early = await lanes(['blockers', id, '--move', 'FIX7-P0-PROD-CI-SCOPE-1', '--to', 'NARROWED', '--key', keyPath('owner'), '--change', path, '--json']);
    expect([early.code, JSON.parse(early.stdout)]).toEqual([1, expect.objectContaining({ result: 'rejected', reason: expect.stringMatching(/not chartered by its owners yet, so no blocker moves/) })]);
    const byOperator = await lanes(['charter', id, '--change', path, '--key', keyPath('operator')]);
    expect([byOperator.code, byOperator.stderr]).toEqual([1, expect.stringMatching(/chartering blocker rules needs an owner key/)]);
    const chartered = await lanes(['charter', id, '--change', path, '--key', keyPath('owner'), '--json']);
    expect(chartered.stderr).toMatch(/"FIX7-P0-PROD-OPT4-1" OPEN, actor "owner", blocks "production": met only by OPT4_PRODUCTION grants in an execution lane/);
    expect([chartered.code, JSON.parse(chartered.stdout)]).toEqual([0, expect.objectContaining({ result: 'chartered', signers: ['owner'] })]);
    expect((await lanes(['blockers', id])).stdout).toMatch(/^charter: in force since .*, signed by owner\n/);

    const gate = await lanes(['blockers', id, '--move', 'FIX7-P0-PLAN-REALRUN-1', '--to', 'CLOSED', '--key', keyPath('owner'), '--change', path, '--json']);
    expect(gate.code).toBe(1);
    expect(JSON.parse(gate.stdout)).toMatchObject({ result: 'rejected', reason: expect.stringMatching(/authorization gate/) });
    // A proof is checked, not counted: an input no lane of this change recorded proves nothing.
    const loose = await lanes(['blockers', id, '--move', 'FIX7-P0-OPERATOR-INPUT-1', '--to', 'NARROWED', '--key', keyPath('operator'), '--input', inputFile, '--change', path]);
    expect([loose.code, loose.stderr]).toEqual([2, expect.stringMatching(/--input needs --evidence-tree <hash>: the tree of the lane that recorded the input/)]);
    const rehearsal = JSON.parse((await lanes(['start', 'rehearsal', '--change', path, '--key', keyPath('operator'), '--json'])).stdout).workflowId;
    expect((await lanes(['input', rehearsal, 'surface-map', inputFile, '--key', keyPath('operator')])).code).toBe(0);
    await lanes(['grant', rehearsal, 'AUTHORIZE_REHEARSAL', '--key', keyPath('owner')]);
    const tree = ((await h.client.workflow.getHandle(rehearsal).result()) as { evidence: { treeHash: string } }).evidence.treeHash;
    const otherInput = join(dir, `${id}-other.json`);
    writeFileSync(otherInput, '{"tables":["something_else"]}');
    const unrecorded = await lanes(['blockers', id, '--move', 'FIX7-P0-OPERATOR-INPUT-1', '--to', 'NARROWED', '--key', keyPath('operator'), '--input', otherInput, '--evidence-tree', tree, '--change', path, '--json']);
    expect([unrecorded.code, JSON.parse(unrecorded.stdout).reason]).toEqual([1, expect.stringMatching(/was not recorded by the lane with evidence tree/)]);
    const narrowed = await lanes(['blockers', id, '--move', 'FIX7-P0-OPERATOR-INPUT-1', '--to', 'NARROWED', '--key', keyPath('operator'), '--input', inputFile, '--evidence-tree', tree, '--change', path]);
    expect(narrowed.code).toBe(0);
    expect(narrowed.stdout).toMatch(/NARROWED: accepted/);
    expect(JSON.parse((await lanes(['blockers', id, '--json'])).stdout).blockers.find((b: { id: string }) => b.id === 'FIX7-P0-OPERATOR-INPUT-1').status).toBe('NARROWED');
    // Who signed what, with which proof.
    const sha = createHash('sha256').update(readFileSync(inputFile)).digest('hex');
    expect((await lanes(['blockers', id])).stdout).toMatch(new RegExp(`signed moves and proofs:\n[^]*\n  FIX7-P0-OPERATOR-INPUT-1\n    OPEN → NARROWED by operator operator \\(${keys.operator.keyId}\\) at \\S+: operator input ${sha.slice(0, 16)}… recorded in evidence tree ${tree.slice(0, 16)}…`));
    const none = await lanes(['blockers', 'no-such-change']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no change "no-such-change"/);
    await h.client.workflow.getHandle(workflowId).terminate('test cleanup');
  });
});
