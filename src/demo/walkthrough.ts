/**
 * `npm run demo`: the README's "try it", unattended, on the embedded defaults. It drives the demo change through
 * every lane with the real `lanes` commands (printed as a person would type them): scoping, a rehearsal that
 * waits for the owner, blockers closed with evidence and operator inputs, dry-run, precheck, and execution with
 * per-action grants — which fails half-applied (production drifted after the precheck), is recovered by resuming
 * from the failed step, an armed activation (--window), and is then rolled back to the exact pre-execution
 * fingerprint; then history, the decision packet and where to look in the Web UI.
 *
 * It uses the Temporal server `npm start` runs if one is up on 127.0.0.1:7233, else starts its own (persisted to
 * .lanes/temporal.db, UI on :8233). Its worker runs in this process on its own task queue, with the development
 * trust root `npm start` uses (.lanes/trust-root.json), so every run is independent of a worker already running.
 * Each run uses a fresh change id, so it can be repeated.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { installLanesLogger } from '../worker/runtime-logger';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { main } from '../cli/main';
import { closeTargets, openProduction } from '../activities/targets/open';
import { readChangeSpec } from '../cli/change-file';
import { startDevServer } from '../server/dev-server';
import { ensureDevTrustRoot } from '../server/dev-trust-root';
import { ensureRetention, ensureSearchAttributes } from '../server/namespace-setup';
import { createLaneWorkers } from '../worker/lane-worker';
import { configFromEnv, workflowUiLink } from '../worker/config';

/** The checkout: the nearest directory up with a package.json (this file runs from src/demo/ or, compiled, dist/). */
function projectRoot(from: string): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) throw new Error(`no package.json above ${from}`);
  }
}
const ROOT = projectRoot(__dirname);
const EXAMPLE = join(ROOT, 'examples', 'demo');
/** Where the links point: LANES_UI_URL like every lanes command, else the dev server's UI. */
const UI = configFromEnv().uiUrl;
const tty = process.stdout.isTTY && !process.env.NO_COLOR;
const heading = (s: string) => process.stdout.write(`\n${tty ? `\x1b[1m${s}\x1b[22m` : s}\n`);

const portOpen = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => (socket.end(), done(true)));
    socket.once('error', () => done(false));
  });

/** Runs one `lanes` command in this process, shown as typed; fails the demo if it does not exit 0. */
async function lanes(args: string[], opts: { capture?: boolean; show?: string[] } = {}): Promise<string> {
  process.stdout.write(`\n$ lanes ${(opts.show ?? args).join(' ')}\n`);
  let captured = '';
  const write = process.stdout.write.bind(process.stdout);
  if (opts.capture) process.stdout.write = ((chunk: string | Uint8Array) => ((captured += String(chunk)), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = write;
  }
  if (code !== 0) throw new Error(`lanes ${args.join(' ')} exited ${code}`);
  return captured;
}

export async function walkthrough(opts: { keepRunning: boolean }): Promise<void> {
  const lanesHome = resolve(process.env.LANES_HOME ?? join(ROOT, '.lanes'));
  mkdirSync(lanesHome, { recursive: true });
  installLanesLogger();
  let server: TestWorkflowEnvironment | undefined;
  let address = process.env.TEMPORAL_ADDRESS;
  // The demo signs with development keys anyone with the checkout holds: never against a server of one's own.
  if (address && !/^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(address)) {
    throw new Error(`npm run demo signs with development keys, so it runs only against a Temporal server on this machine; TEMPORAL_ADDRESS=${address} names another. Unset it (the demo then uses or starts a local dev server)`);
  }
  if (!address) {
    if (await portOpen(7233)) {
      address = '127.0.0.1:7233';
      process.stdout.write('Using the Temporal server already running on 127.0.0.1:7233 (`npm start`).\n');
    } else {
      process.stdout.write('Starting a Temporal dev server (Web UI on http://localhost:8233)…\n');
      server = await startDevServer({ dbFilename: join(lanesHome, 'temporal.db'), port: 7233, uiPort: 8233, log: (m) => process.stderr.write(`[demo] ${m}\n`) });
      address = server.address;
    }
  }
  const connection = await Connection.connect({ address });
  await ensureSearchAttributes(connection, 'default');
  await ensureRetention(connection, 'default');
  const client = new Client({ connection });
  const dev = ensureDevTrustRoot(lanesHome);
  const taskQueue = 'gated-lanes-demo';
  Object.assign(process.env, { TEMPORAL_ADDRESS: address, LANES_TASK_QUEUE: taskQueue, LANES_HOME: lanesHome, LANES_TRUST_ROOT: dev.trustRootPath, LANES_UI_URL: UI });
  const native = await NativeConnection.connect({ address });
  const workers = await createLaneWorkers({ connection: native, namespace: 'default', taskQueue, activities: { trustRootPath: dev.trustRootPath, lanesHome } });
  const running = workers.run();

  // A fresh change id per run: production, blockers and ledger start clean every time.
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const changeId = `demo-birth-registry-${stamp}`;
  const dir = join(lanesHome, 'demo', changeId);
  mkdirSync(dir, { recursive: true });
  const spec = JSON.parse(readFileSync(join(EXAMPLE, 'change.json'), 'utf8')) as { steps: Record<string, unknown>[]; blockers?: unknown };
  writeFileSync(join(dir, 'change.json'), `${JSON.stringify({ ...spec, id: changeId }, null, 2)}\n`);
  copyFileSync(join(EXAMPLE, 'blocker-map.json'), join(dir, 'blocker-map.json'));
  const change = relative(process.cwd(), join(dir, 'change.json'));
  // A second change for the moment of no return: the table, then a cutover that is a moment, not a step — armed by its
  // grant for at most 10 minutes and applied only while no legacy registry table exists on production (checked live,
  // read-only, right before it applies). It declares no blocker map; its owners charter exactly that.
  const cutoverId = `${changeId}-cutover`;
  const cutoverStep = {
    id: 'qt001-cutover',
    action: 'CUTOVER',
    description: 'Cut the registry over: births are registered here from now on.',
    apply: 'ALTER TABLE birth_registry ADD COLUMN registered_live boolean NOT NULL DEFAULT true;',
    rollback: 'ALTER TABLE birth_registry DROP COLUMN registered_live;',
    window: '10m',
    preconditions: [{ name: 'no legacy registry table', sql: "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'birth_registry_legacy'", expect: 0 }],
  };
  const { blockers: _none, ...unblocked } = spec;
  writeFileSync(join(dir, 'cutover.json'), `${JSON.stringify({ ...unblocked, id: cutoverId, title: 'Cut the birth registry over', steps: [spec.steps[0], cutoverStep] }, null, 2)}\n`);
  const cutover = relative(process.cwd(), join(dir, 'cutover.json'));
  const surfaceMap = relative(process.cwd(), join(EXAMPLE, 'surface-map.json'));
  const seal = relative(process.cwd(), join(EXAMPLE, 'seal.json'));
  const owner = relative(process.cwd(), dev.ownerKeyPath);
  const operator = relative(process.cwd(), dev.operatorKeyPath);
  const links: [string, string][] = [];

  const startLane = async (lane: string, extra: string[] = [], spec = change) => {
    const out = await lanes(['start', lane, '--change', spec, '--key', operator, ...extra, '--json'], { capture: true });
    const { workflowId, ui } = JSON.parse(out) as { workflowId: string; ui: string };
    process.stdout.write(`started ${lane} lane ${workflowId}\n  ui: ${ui}\n`);
    links.push([`${lane}${extra.includes('--shaped') ? ' (shaped)' : ''}`, ui]);
    return workflowId;
  };
  const finish = async (workflowId: string) => {
    await client.workflow.getHandle(workflowId).result();
    await lanes(['status', workflowId]);
  };
  const grantAll = async (workflowId: string, actions: string[], tree?: string) => {
    for (const a of actions) {
      await lanes(['grant', workflowId, a, '--key', owner, ...(tree && ['REAL_RUN', 'APPLY'].includes(a) ? ['--evidence-tree', tree] : []), ...(a === 'CUTOVER' ? ['--window', '10m'] : [])]);
    }
  };
  /** Production, as the lanes reach it: for showing drift the way another team's deploy would cause it. */
  const onProduction = async (sql: string, specFile = 'change.json') => {
    const target = await openProduction(lanesHome, readChangeSpec(join(dir, specFile)));
    await target.session((s) => s.exec(sql));
  };
  const treeOf = async (workflowId: string) => ((await client.workflow.getHandle(workflowId).result()) as { evidence: { treeHash: string; dir: string } }).evidence;

  try {
    heading('0. The change: validate the spec and check its seal (what the operator declared, byte for byte)');
    await lanes(['change', 'validate', change]);
    await lanes(['seal', 'verify', seal]);

    heading('1. Scoping: no grant needed, no database contacted');
    await finish(await startLane('scoping'));

    heading('2. The owner charters the blocker map and rules: until then they bind nobody, and nothing moves');
    await lanes(['charter', changeId, '--change', change, '--key', owner]);

    heading('3. Rehearsal on an isolated clone: it waits for the owner (see it waiting in the UI), then proves the rollback');
    const rehearsal = await startLane('rehearsal');
    await new Promise((r) => setTimeout(r, 3000));
    await lanes(['status', rehearsal]);
    // The operator's inputs, recorded in the rehearsal's evidence: what blocker moves below rest on.
    await lanes(['input', rehearsal, 'surface-map', surfaceMap, '--key', operator]);
    await lanes(['input', rehearsal, 'ci-seal', seal, '--key', operator]);
    await grantAll(rehearsal, ['AUTHORIZE_REHEARSAL']);
    await finish(rehearsal);
    const evidence = await treeOf(rehearsal);
    await lanes(['evidence', 'verify', relative(process.cwd(), evidence.dir), '--tree', evidence.treeHash]);
    await lanes(['packet', rehearsal]);

    heading('4. A production-shaped rehearsal: a clone made from production by dump and load');
    const shaped = await startLane('rehearsal', ['--shaped']);
    await grantAll(shaped, ['AUTHORIZE_REHEARSAL']);
    await finish(shaped);
    const tree = (await treeOf(shaped)).treeHash;

    heading('5. Blockers: each closed by the roles its map names, with evidence or an operator input a lane recorded');
    await lanes(['blockers', changeId]);
    // Where the map names two roles, the owner signs a first move (NARROWED) and the operator closes with the input,
    // named through the evidence tree of the rehearsal that recorded it (a proof is checked, not counted).
    const move = (id: string, to: string, key: string, proof: string[]) => lanes(['blockers', changeId, '--move', id, '--to', to, '--key', key, '--change', change, ...proof]);
    const recorded = (file: string) => ['--input', file, '--evidence-tree', evidence.treeHash];
    await move('FIX7-P0-PROD-BIRTH-SURFACE-1', 'NARROWED', owner, []);
    await move('FIX7-P0-PROD-BIRTH-SURFACE-1', 'CLOSED', operator, recorded(surfaceMap));
    await move('FIX7-P0-PROD-CI-SCOPE-1', 'NARROWED', owner, []);
    await move('FIX7-P0-PROD-CI-SCOPE-1', 'CLOSED', operator, recorded(seal));
    await move('FIX7-P0-DRYRUN-PROD-ROLLBACK-1', 'CLOSED', operator, ['--evidence-tree', tree]);
    await move('FIX7-P0-OPERATOR-INPUT-1', 'CLOSED', operator, recorded(surfaceMap));
    await lanes(['blockers', changeId]);

    heading('6. Production dry-run (read-only, entry == exit): its own grant plus OPT4_PRODUCTION');
    const dry = await startLane('dry-run');
    await grantAll(dry, ['AUTHORIZE_DRYRUN', 'OPT4_PRODUCTION']);
    await finish(dry);

    heading('7. Real-run precheck (no mutation)');
    const pre = await startLane('precheck');
    await grantAll(pre, ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    await finish(pre);

    heading('8. Production execution: OPT4_PRODUCTION, REAL_RUN and one grant per irreversible action (naming the rehearsal tree)');
    process.stdout.write('(production drifts after the precheck: another deploy creates fn_birth_register, so the activation will fail)\n');
    await onProduction('CREATE FUNCTION fn_birth_register(p_object_id text, p_origin text) RETURNS void LANGUAGE sql AS $$ SELECT 1 $$');
    const failed = await startLane('execution');
    await grantAll(failed, ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'], tree);
    await client.workflow.getHandle(failed).result().catch(() => undefined);
    await lanes(['status', failed]);
    await lanes(['packet', failed]);
    await lanes(['blockers', changeId]);

    heading('9. Recovery is a decision, and here it is the way back: roll back the applied steps (OPT4_PRODUCTION + PROD_ROLLBACK)');
    process.stdout.write("(the proof compares production with the fingerprint recorded before the failed execution's first step: the other deploy's function was there already, and stays)\n");
    const back = await startLane('rollback');
    await grantAll(back, ['OPT4_PRODUCTION', 'PROD_ROLLBACK']);
    await finish(back);
    const proof = JSON.parse(readFileSync(join((await treeOf(back)).dir, 'rollback.json'), 'utf8')) as { restored: boolean; after: string; baseline: { fingerprint: string }; differences: string[] };
    process.stdout.write(`rollback.json: restored ${proof.restored}: production ${proof.after.slice(0, 16)}… ${proof.restored ? '==' : '!='} pre-execution ${proof.baseline.fingerprint.slice(0, 16)}…${proof.differences.length ? ` (differs: ${proof.differences.join(', ')})` : ''}\n`);
    await lanes(['packet', back]);
    await lanes(['list', '--change', changeId]);

    heading('10. The moment of no return: an armed cutover (a second change; it declares no blocker map, and its owner charters that)');
    await lanes(['charter', cutoverId, '--change', cutover, '--key', owner]);
    const rehearseCutover = await startLane('rehearsal', [], cutover);
    await grantAll(rehearseCutover, ['AUTHORIZE_REHEARSAL']);
    await finish(rehearseCutover);
    const cutoverTree = (await treeOf(rehearseCutover)).treeHash;
    const precheckCutover = await startLane('precheck', [], cutover);
    await grantAll(precheckCutover, ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    await finish(precheckCutover);
    process.stdout.write('(a legacy registry table still exists on production: the cutover may not happen while it does)\n');
    await onProduction('CREATE TABLE birth_registry_legacy (object_id text)', 'cutover.json');
    const live = await startLane('execution', [], cutover);
    await grantAll(live, ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'CUTOVER'], cutoverTree);
    await new Promise((r) => setTimeout(r, 5000));
    await lanes(['status', live]); // armed until T; the precondition does not hold yet
    process.stdout.write('(the legacy table is retired; the armed cutover applies at its next check, within its window)\n');
    await onProduction('DROP TABLE birth_registry_legacy', 'cutover.json');
    await finish(live);
    await lanes(['history', live]);
    await lanes(['packet', live]);

    heading('Where to look in the Temporal Web UI');
    process.stdout.write(`All lanes of this change: ${UI}/namespaces/default/workflows?query=${encodeURIComponent(`ChangeId="${changeId}"`)}\n`);
    for (const [what, ui] of links) process.stdout.write(`  ${what.padEnd(18)} ${ui}\n`);
    process.stdout.write(`  change entity      ${workflowUiLink({ uiUrl: UI, namespace: 'default' }, `change:${changeId}`)}\n`);
    process.stdout.write('Open a lane, then its "User Metadata" tab for the summary and what it waited for; "History" for every grant.\n');
    if (opts.keepRunning && server) {
      process.stdout.write('\nThe dev server and UI stay up until you press Ctrl-C.\n');
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
    } else if (server) {
      process.stdout.write('\nThe demo stopped its dev server; `npm start` brings it (and this history, in .lanes/temporal.db) back.\n');
    }
  } finally {
    workers.shutdown();
    await running;
    await native.close();
    await connection.close();
    await closeTargets();
    await server?.teardown();
  }
}

if (require.main === module) {
  walkthrough({ keepRunning: process.argv.includes('--keep') }).then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`demo failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
