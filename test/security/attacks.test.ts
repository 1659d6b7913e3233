/**
 * The four breaks of the authority issue, performed as an attacker would: through a real Temporal client, with
 * workflows of the attacker's own (test/security/attacker-workflows.ts) on their own queue and worker, against the
 * real lane and production workers and a real (PGlite) production. Each attack asserts the refusal *and* that no
 * production changed. SECURITY.md names these tests.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttackerWorker, type AttackerWorker } from '../support/attacker-worker';
import { WorkflowFailedError } from '@temporalio/client';
import type { ChangeSpec } from '../../src/domain/change-spec';
import type { ChangeState } from '../../src/domain/change-state';
import { blockerStateHash, specHashOf } from '../../src/domain/bindings';
import { productionTaskQueue } from '../../src/domain/task-queues';
import { changeWorkflowId, statusQuery } from '../../src/workflows/messages';
import { CHANGE_WORKFLOW_TYPE, LANE_WORKFLOW_TYPES } from '../../src/workflows/registry';
import { decodePayload } from '../../src/cli/lane-client';
import { recordHistory } from '../support/histories';
import { envelopeIdOf } from '../../src/domain/envelope-rules';
import { createLaneActivities } from '../../src/activities';
import { LANE_ACTIVITY_POLICY } from '../../src/worker/lane-activity-policy';
import { makeEnvelope } from '../../src/cli/envelopes';
import { SA_CHANGE_ID, SA_LANE_KIND } from '../../src/domain/search-attributes';
import { charterChange, charterEnvelope, freshChange, grantEnvelope, historyEvents, learnLane, productionQuery, runLaneWithGrants, scheduledActivities, startLane, useLaneSuite, waitFor } from '../support/lanes';

const suite = useLaneSuite();
let attacker: AttackerWorker;
let attackerQueue: string;

/** The victim change: rehearsed, prechecked and executed honestly, with every grant. */
let victim: ChangeSpec;
let executionId: string;
let executionCopy: { start: unknown; change: ChangeSpec; grants: unknown[] };
let rehearsalTree: string;
let precheckTree: string;
/** Another change's production, with data an attacker would like to destroy. */
let bystander: ChangeSpec;

beforeAll(async () => {
  attacker = await startAttackerWorker(join(__dirname, 'attacker-workflows.ts'));
  attackerQueue = attacker.queue;

  victim = freshChange({ blockers: false });
  const rehearsal = await runLaneWithGrants(suite.h, suite.keys, victim, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
  rehearsalTree = rehearsal.result.evidence!.treeHash;
  const precheck = await runLaneWithGrants(suite.h, suite.keys, victim, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
  precheckTree = precheck.result.evidence!.treeHash;
  const execution = await runLaneWithGrants(suite.h, suite.keys, victim, 'execution', ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION']);
  expect(execution.result.state).toBe('COMPLETED');
  executionId = execution.workflowId;
  // Read before any attack reuses its id: history of a reused id shows the newest run.
  executionCopy = await fromHistory(executionId);

  bystander = { ...freshChange({ blockers: false }), id: `bystander-${randomUUID().slice(0, 8)}` };
  await productionQuery(suite.h.lanesHome, bystander, 'CREATE TABLE ledger (n int)');
  await productionQuery(suite.h.lanesHome, bystander, 'INSERT INTO ledger SELECT generate_series(1, 3)');
}, 240_000);

afterAll(async () => {
  await attacker?.stop();
});

/** What a production holds: its public tables and functions, each table's row count, and Gated Lanes' ledger. */
async function productionState(change: ChangeSpec): Promise<unknown> {
  const q = <R>(sql: string) => productionQuery<R>(suite.h.lanesHome, change, sql);
  const tables = (await q<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).map((r) => r.t);
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = Number((await q<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`))[0]!.n);
  const functions = (await q<{ f: string }>("SELECT proname AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = 'public' ORDER BY 1")).map((r) => r.f);
  const ledger = await q<{ t: string | null }>("SELECT to_regclass('gated_lanes.applied_steps')::text AS t");
  const steps = ledger[0]?.t ? await q('SELECT workflow_id, run_id, step_id FROM gated_lanes.applied_steps ORDER BY 1, 3') : [];
  const claims = ledger[0]?.t ? await q('SELECT nonce, workflow_id FROM gated_lanes.grant_claims ORDER BY 1') : [];
  return { tables, counts, functions, steps, claims };
}

/** Every evidence and decision file under the lanes home: an attack must add or change none of another lane's. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Runs an attacker workflow to its end; returns the innermost failure (the worker's refusal). */
async function attack(type: string, workflowId: string, taskQueue: string, activity: string, args: unknown[]): Promise<{ type?: string; message: string }> {
  const handle = await suite.h.client.workflow.start(type, {
    workflowId,
    taskQueue: attackerQueue,
    args: [{ taskQueue, activity, args }],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${activity} ran for the attacker`).toBeInstanceOf(WorkflowFailedError);
  let cause = err as { cause?: unknown; type?: string; message: string };
  while (cause.cause) cause = cause.cause as typeof cause;
  return { type: cause.type, message: cause.message };
}

/** START and grants of a lane, copied out of its history as anyone reading the namespace can. */
async function fromHistory(workflowId: string): Promise<{ start: unknown; change: ChangeSpec; grants: unknown[] }> {
  const events = await historyEvents(suite.h.client, workflowId);
  const input = decodePayload(events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]) as { start: unknown; change: ChangeSpec };
  const grants = events
    .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'grant')
    .map((e) => decodePayload(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]));
  return { ...input, grants };
}

const dropBystander = (): ChangeSpec => ({
  ...victim,
  targets: { production: { engine: 'pglite', name: `${bystander.id}.production` } },
  steps: [{ id: 'qt001-apply', action: 'APPLY', apply: 'DROP TABLE ledger', rollback: 'SELECT 1' }],
});

describe('attack 1: lane-queue activities scheduled by a workflow of another type', () => {
  it.each(['dryRunProduction', 'rehearseOnClone', 'precheckProduction', 'scopeChange', 'recordExecution', 'writeDecisionPacket'])(
    '%s with a hand-made request (no start, no grants, another change’s production): refused, nothing changed or written',
    async (activity) => {
      const before = { bystander: await productionState(bystander), victim: await productionState(victim), files: filesUnder(suite.h.lanesHome) };
      const req = { workflowId: executionId, change: dropBystander(), grants: [], start: null, trustRootFingerprint: 'x', json: {}, markdown: 'HIJACKED', steps: [] };
      const refusal = await attack('scheduleActivity', `attacker-${randomUUID()}`, suite.h.taskQueue, activity, [req]);
      expect(refusal.type).toBe('GrantRefused');
      expect(refusal.message).toMatch(/point of action refused/);
      expect(await productionState(bystander)).toEqual(before.bystander);
      expect(await productionState(victim)).toEqual(before.victim);
      expect(filesUnder(join(suite.h.lanesHome, 'evidence'))).toEqual(before.files.filter((f) => f.startsWith(join(suite.h.lanesHome, 'evidence'))));
      expect(filesUnder(join(suite.h.lanesHome, 'decisions'))).toEqual(before.files.filter((f) => f.startsWith(join(suite.h.lanesHome, 'decisions'))));
    },
  );

  it('every activity the lane worker registers has a point-of-action policy; a type it does not register never runs', async () => {
    expect(Object.keys(createLaneActivities({ trustRootPath: undefined, lanesHome: suite.h.lanesHome })).sort()).toEqual(Object.keys(LANE_ACTIVITY_POLICY).sort());
    const refusal = await attack('scheduleActivity', `attacker-${randomUUID()}`, suite.h.taskQueue, 'applyProductionStep', [{}]);
    expect(refusal.type).toBe('NotFoundError');
    expect(refusal.message).toMatch(/applyProductionStep is not registered/);
  });

  it("a real start and grants copied from a lane's history do not authorise another workflow type, nor a reused id's new run", async () => {
    const { workflowId } = await runLaneWithGrants(suite.h, suite.keys, victim, 'dry-run', ['AUTHORIZE_DRYRUN', 'OPT4_PRODUCTION']);
    const copied = await fromHistory(workflowId);
    const req = { workflowId, change: copied.change, start: copied.start, grants: copied.grants, trustRootFingerprint: suite.keys.trustRoot };
    const before = await productionState(victim);
    const otherType = await attack('scheduleActivity', `attacker-${randomUUID()}`, suite.h.taskQueue, 'dryRunProduction', [req]);
    expect(otherType.message).toMatch(/runs only for a dryRunLane workflow, not for a scheduleActivity/);
    // The closed lane's id, reused by the attacker's own workflow named like ours: the grants name the old run.
    const reused = await attack(LANE_WORKFLOW_TYPES['dry-run'], workflowId, suite.h.taskQueue, 'dryRunProduction', [req]);
    expect(reused.type).toBe('GrantRefused');
    expect(reused.message).toMatch(/envelope is for run [0-9a-f-]+ of .*, not run/);
    expect(await productionState(victim)).toEqual(before);
  });
});

describe('attack 2: a completed execution lane’s id reused to replay its start and grants on the production queue', () => {
  it('a new step (DROP TABLE) aimed at another change’s database: refused, both productions unchanged', async () => {
    const copied = executionCopy;
    const before = { bystander: await productionState(bystander), victim: await productionState(victim) };
    const refusal = await attack(LANE_WORKFLOW_TYPES.execution, executionId, productionTaskQueue(suite.h.taskQueue), 'applyProductionStep', [
      { change: dropBystander(), stepId: 'qt001-apply', start: copied.start, grants: copied.grants, blockerState: null },
    ]);
    expect(refusal.type).toBe('GrantRefused');
    expect(refusal.message).toMatch(/lane start: envelope is for change spec .*not the spec/);
    expect(await productionState(bystander)).toEqual(before.bystander);
    expect(await productionState(victim)).toEqual(before.victim);
  });

  it('the very spec and step it ran: refused (the grants name the old run), production unchanged', async () => {
    const copied = executionCopy;
    const before = await productionState(victim);
    const refusal = await attack(LANE_WORKFLOW_TYPES.execution, executionId, productionTaskQueue(suite.h.taskQueue), 'applyProductionStep', [
      { change: copied.change, stepId: 'qt001-activation', start: copied.start, grants: copied.grants, blockerState: null },
    ]);
    expect(refusal.type, refusal.message).toBe('GrantRefused');
    expect(refusal.message).toMatch(/envelope is for run .* not run/);
    expect(await productionState(victim)).toEqual(before);
  });

  it('a second, fully granted execution of the same change never re-applies a step production already holds', async () => {
    const before = await productionState(victim);
    const second = await runLaneWithGrants(suite.h, suite.keys, victim, 'execution', ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION']).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(WorkflowFailedError);
    expect(String((second as WorkflowFailedError).cause?.message)).toMatch(/production already holds steps of change \S+ applied by another run \(qt001-activation by \S+, qt001-apply by \S+\): a plain execution starts from nothing applied/);
    expect(await productionState(victim)).toEqual(before);
  });
});

describe('attack 2b: a rogue worker running the lane itself, with every grant the owner gave it', () => {
  /** Starts a rogue execution lane (a genuine input, so the owner's CLI sees a real lane) and learns its binding. */
  async function rogueLane(change: ChangeSpec, order: string[]) {
    const workflowId = `${change.id}.execution.${randomUUID()}`;
    const start = makeEnvelope({ key: suite.keys.operator, workflowId, changeId: change.id, lane: 'execution', action: 'START_LANE', validForMs: 600_000, trustRoot: suite.keys.trustRoot, specHash: specHashOf(change) });
    const handle = await suite.h.client.workflow.start(LANE_WORKFLOW_TYPES.execution, {
      workflowId,
      taskQueue: attackerQueue,
      // The owner chartered the change: a rogue worker has every signature the honest lane would.
      args: [{ change, start, productionQueue: productionTaskQueue(suite.h.taskQueue), expectGrants: 4, order, charter: [charterEnvelope(suite.keys, change)] }],
      typedSearchAttributes: [
        { key: SA_CHANGE_ID, value: change.id },
        { key: SA_LANE_KIND, value: 'execution' },
      ],
    });
    await learnLane(suite.h.client, workflowId); // as the owner's `lanes grant` would
    const grant = (a: 'OPT4_PRODUCTION' | 'REAL_RUN' | 'APPLY' | 'ACTIVATION') => grantEnvelope(suite.keys, workflowId, change.id, 'execution', a);
    return { workflowId, handle, grant };
  }

  async function prepared(): Promise<{ change: ChangeSpec; first: string; second: string }> {
    const change = freshChange({ blockers: false });
    await runLaneWithGrants(suite.h, suite.keys, change, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
    await runLaneWithGrants(suite.h, suite.keys, change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    const [first, second] = change.steps.map((s) => s.id) as [string, string];
    return { change, first, second };
  }

  it('cannot apply steps out of order: production refuses a step whose predecessors this run has not applied', async () => {
    const { change, first, second } = await prepared();
    const { handle, grant } = await rogueLane(change, [second, first, second]);
    for (const a of ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'] as const) await handle.signal('grant', grant(a));
    const outcomes = (await handle.result()) as string[];
    expect(outcomes[0]).toMatch(new RegExp(`^${second}: refused: .*comes after ${first}, which this run has not applied: steps apply in order`));
    expect(outcomes.slice(1)).toEqual([`${first}: applied`, `${second}: applied`]);
    const state = (await productionState(change)) as { steps: { step_id: string }[] };
    expect(state.steps.map((s) => s.step_id).sort()).toEqual([first, second].sort());
  });

  it("cannot use a revoked grant, nor act after an owner's HOLD: the server's record of the run counts, not the workflow's memory", async () => {
    const { change, first } = await prepared();
    const revoked = await rogueLane(change, [first]);
    const apply = revoked.grant('APPLY');
    for (const a of ['OPT4_PRODUCTION', 'REAL_RUN'] as const) await revoked.handle.signal('grant', revoked.grant(a));
    await revoked.handle.signal('grant', apply);
    await revoked.handle.signal('revoke', grantEnvelope(suite.keys, revoked.workflowId, change.id, 'execution', 'REVOKE', { key: suite.keys.owner2, revokes: envelopeIdOf(apply) }));
    await revoked.handle.signal('grant', revoked.grant('ACTIVATION'));
    expect(await revoked.handle.result()).toEqual([expect.stringMatching(new RegExp(`^${first}: refused: .*grant [0-9a-f]{16}… was revoked by owner2`))]);

    const held = await rogueLane(change, [first]);
    await held.handle.signal('hold', grantEnvelope(suite.keys, held.workflowId, change.id, 'execution', 'HOLD', { key: suite.keys.owner2 }));
    for (const a of ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'] as const) await held.handle.signal('grant', held.grant(a));
    expect(await held.handle.result()).toEqual([expect.stringMatching(new RegExp(`^${first}: refused: .*an owner \\(owner2\\) held this lane`))]);
    expect(await productionState(change)).toEqual({ tables: [], counts: {}, functions: [], steps: [], claims: [] });
  });
});

describe('attack 3: forged change-entity messages', () => {
  it('a forged changeView (no blockers, a "passed rehearsal" and precheck of another spec) opens the workflow gate, and the production worker refuses', async () => {
    const target = freshChange();
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change: target });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    // The owner was shown the forged state (no blocker map, the victim's trees as this spec's) and signed for it.
    const forged = { version: 1e9, rehearsal: rehearsalTree, precheck: precheckTree };
    const grants = (['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'] as const).map((a) =>
      grantEnvelope(suite.keys, workflowId, target.id, 'execution', a, { evidenceTree: forged.rehearsal, precheckTree: forged.precheck, blockersHash: blockerStateHash(null) }),
    );
    for (const g of grants) await handle.signal('grant', g);
    const specHash = specHashOf(target);
    const entry = (lane: 'rehearsal' | 'precheck', treeHash: string) => ({ workflowId: `forged-${lane}`, lane, shaped: false, outcome: 'COMPLETED', specHash, finishedAt: new Date().toISOString(), treeHash, validUntil: '2099-01-01T00:00:00Z' });
    // The owner's real charter, as anyone reading the change entity's history can copy it.
    const { charter } = (await suite.h.client.workflow.getHandle(changeWorkflowId(target.id)).query('change')) as ChangeState;
    await handle.signal('changeView', {
      changeId: target.id,
      version: forged.version,
      charter,
      latestRehearsal: entry('rehearsal', forged.rehearsal),
      latestPrecheck: entry('precheck', forged.precheck),
      nonceClaims: Object.fromEntries(grants.map((g) => [g.payload.nonce, workflowId])),
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(await scheduledActivities(suite.h.client, workflowId)).toContain('applyProductionStep'); // the gate was fooled…
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/point of action refused applyProductionStep .*(rehearsed change spec .*not this spec|evidence tree \w+ is bound to change \S+ .*not to change)/); // …the worker was not
    expect(await productionState(target)).toEqual({ tables: [], counts: {}, functions: [], steps: [], claims: [] });
    await recordHistory(suite.h.client, workflowId, 'execution-forged-view-refused');
  });

  it('a change entity terminated and restarted with a crafted state (every blocker CLOSED, no signed moves): the owner signs what it shows, and the production worker still refuses on the open blockers', async () => {
    const target = freshChange();
    await charterChange(suite.h, suite.keys, target);
    await runLaneWithGrants(suite.h, suite.keys, target, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
    await runLaneWithGrants(suite.h, suite.keys, target, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change: target });
    const entity = suite.h.client.workflow.getHandle(changeWorkflowId(target.id));
    await waitFor('the lane registered', async () => ((await entity.query('change')) as ChangeState).active.some((l) => l.workflowId === workflowId));
    // Waiting means the lane has reported its start's nonce: it has nothing to tell the entity while it is replaced.
    await waitFor('the lane waiting', async () => (await suite.h.client.workflow.getHandle(workflowId).query(statusQuery)).state === 'WAITING_FOR_GRANT');
    const refusal = await replaceEntityAndGrant(target, workflowId, (real) => ({ ...real, version: real.version + 1, blockers: { ...real.blockers!, blockers: real.blockers!.blockers.map((b) => ({ ...b, status: 'CLOSED' as const })) } }));
    expect(refusal).toMatch(/blockers open as far as signed moves and evidence carry the approved state: FIX7-P0-PROD-BIRTH-SURFACE-1 \(OPEN\)/);
  });
});

/**
 * The attacker replaces the change entity with a crafted state; the owner, shown that state, grants everything the
 * execution needs. The workflow gate is fooled (it schedules the step); returns why the production worker refused,
 * having checked production did not change.
 */
async function replaceEntityAndGrant(target: ChangeSpec, workflowId: string, craft: (real: ChangeState) => ChangeState): Promise<string> {
  const entity = suite.h.client.workflow.getHandle(changeWorkflowId(target.id));
  const crafted = craft((await entity.query('change')) as ChangeState);
  await entity.terminate('attacker');
  await suite.h.client.workflow.start(CHANGE_WORKFLOW_TYPE, { workflowId: changeWorkflowId(target.id), taskQueue: suite.h.taskQueue, args: [{ changeId: target.id, state: crafted }] });
  const handle = suite.h.client.workflow.getHandle(workflowId);
  for (const a of ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'] as const) {
    await handle.signal('grant', grantEnvelope(suite.keys, workflowId, target.id, 'execution', a, { blockersHash: blockerStateHash(crafted.blockers) }));
  }
  const err = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(await scheduledActivities(suite.h.client, workflowId)).toContain('applyProductionStep');
  expect(await productionState(target)).toEqual({ tables: [], counts: {}, functions: [], steps: [], claims: [] });
  return String((err as WorkflowFailedError).cause?.message);
}

describe('attack 5: blocker rules the operator wrote and no owner chartered', () => {
  it('a spec declaring every blocker CLOSED, its entity restarted claiming a charter only the operator signed: the owner signs what it shows, and the production worker refuses: not chartered', async () => {
    // The operator wrote the map: every blocker already CLOSED. Signed moves would prove nothing here; only the
    // owners' charter stands between these declared statuses and production.
    const target = freshChange();
    for (const b of target.blockers!.map.blockers) b.status = 'CLOSED';
    await runLaneWithGrants(suite.h, suite.keys, target, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
    await runLaneWithGrants(suite.h, suite.keys, target, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change: target, charter: false });
    const entity = suite.h.client.workflow.getHandle(changeWorkflowId(target.id));
    await waitFor('the lane waiting', async () => (await suite.h.client.workflow.getHandle(workflowId).query(statusQuery)).state === 'WAITING_FOR_GRANT');
    expect(((await entity.query('change')) as ChangeState).charter?.at).toBeUndefined();
    const byOperator = charterEnvelope(suite.keys, target, { key: suite.keys.operator });
    const refusal = await replaceEntityAndGrant(target, workflowId, (real) => ({
      ...real,
      version: real.version + 1,
      charter: { ...real.charter!, envelopes: [byOperator], at: new Date().toISOString(), signers: [{ keyId: suite.keys.operator.keyId, name: 'operator', person: 'name:operator' }] },
    }));
    // The workflow gate was fooled; the worker was not.
    expect(refusal).toMatch(/the blocker map and rules \(charter [0-9a-f]{16}…\) are not chartered: 0 of 1 owner signed them/);
  });

  it('a spec that drops its blocker map is no way around the charter: "no blockers" must be chartered too', async () => {
    const target = freshChange({ blockers: false });
    await runLaneWithGrants(suite.h, suite.keys, target, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
    await runLaneWithGrants(suite.h, suite.keys, target, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change: target, charter: false });
    await waitFor('the lane waiting', async () => (await suite.h.client.workflow.getHandle(workflowId).query(statusQuery)).state === 'WAITING_FOR_GRANT');
    const refusal = await replaceEntityAndGrant(target, workflowId, (real) => ({ ...real, version: real.version + 1, charter: { ...real.charter!, at: new Date().toISOString() } }));
    expect(refusal).toMatch(/the declaration of no blocker map \(charter [0-9a-f]{16}…\) are not chartered: 0 of 1 owner signed them/);
  });

  it('a spec whose rule makes an owner + operator blocker a one-grant gate never reaches production', async () => {
    const target = freshChange();
    const bad = { ...target, blockers: { ...target.blockers!, rules: { ...target.blockers!.rules, 'FIX7-P0-PROD-BIRTH-SURFACE-1': { grants: ['OPT4_PRODUCTION'] } } } } as ChangeSpec;
    const workflowId = `${target.id}.execution.${randomUUID()}`;
    const start = makeEnvelope({ key: suite.keys.operator, workflowId, changeId: target.id, lane: 'execution', action: 'START_LANE', validForMs: 600_000, trustRoot: suite.keys.trustRoot, specHash: specHashOf(bad) });
    const refusal = await attack(LANE_WORKFLOW_TYPES.execution, workflowId, productionTaskQueue(suite.h.taskQueue), 'applyProductionStep', [
      { change: bad, stepId: 'qt001-apply', start, grants: [], blockerState: null, charter: [] },
    ]);
    expect(refusal.type).toBe('GrantRefused');
    expect(refusal.message).toMatch(/the change spec in the request is not valid: blockers\.rules\.FIX7-P0-PROD-BIRTH-SURFACE-1 "grants" would let owner grants alone satisfy a blocker whose actor_needed is "owner \+ operator"/);
    expect(await productionState(target)).toEqual({ tables: [], counts: {}, functions: [], steps: [], claims: [] });
  });
});

describe('attack 4: an owner key removed from the trust root', () => {
  it('stops authorising a running lane at once: the dry-run the workflow let through is refused by the lane worker', async () => {
    const original = readFileSync(suite.keys.trustRootPath, 'utf8');
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'dry-run', change: victim });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await waitFor('waiting for grants', async () => (await handle.query(statusQuery)).state === 'WAITING_FOR_GRANT');
    const before = await productionState(victim);
    const doc = JSON.parse(original) as { keys: { name: string }[] };
    writeFileSync(suite.keys.trustRootPath, JSON.stringify({ ...doc, keys: doc.keys.filter((k) => k.name !== 'owner2') }));
    try {
      for (const a of ['AUTHORIZE_DRYRUN', 'OPT4_PRODUCTION'] as const) await handle.signal('grant', grantEnvelope(suite.keys, workflowId, victim.id, 'dry-run', a, { key: suite.keys.owner2 }));
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/point of action refused dryRunProduction .*trust root/);
      expect(await productionState(victim)).toEqual(before);
    } finally {
      writeFileSync(suite.keys.trustRootPath, original);
    }
  });
});

describe('lanes validate their own input', () => {
  it.each<[string, (c: ChangeSpec, start: unknown) => unknown, RegExp]>([
    ['a malformed change spec', (c, start) => ({ change: { ...c, steps: 'DROP TABLE x' }, start }), /lane input refused: change\.steps/],
    ['an unknown input field', (c, start) => ({ change: c, start, skipGate: true }), /lane input refused: .*skipGate/],
    ['no signed start', (c) => ({ change: c, start: null }), /lane start refused/],
  ])('a lane started directly with %s fails closed before any gated work', async (_name, input, expected) => {
    const copied = executionCopy;
    const workflowId = `direct-${randomUUID()}`;
    const handle = await suite.h.client.workflow.start(LANE_WORKFLOW_TYPES.rehearsal, { workflowId, taskQueue: suite.h.taskQueue, args: [input(victim, copied.start)] });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(expected);
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain('rehearseOnClone');
  });
});
