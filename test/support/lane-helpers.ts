/**
 * Lane test helpers that need no vitest: real keys and trust root files, lane starts, grants, history reading.
 * Shared by the suites (through test/support/lanes.ts) and by harnesses that also run outside vitest (the crash
 * harness in `npm run bench`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { createKeyPair, readPrivateKey, type PrivateKeyFile } from '../../src/cli/key-files';
import { makeEnvelope, type EnvelopeRequest } from '../../src/cli/envelopes';
import type { LaneStatus } from '../../src/domain/lane-status';
import { describeLane, ensureChangeEntity, startLaneWorkflow } from '../../src/cli/lane-client';
import { charterHashOf } from '../../src/domain/charter';
import type { ChangeState } from '../../src/domain/change-state';
import { changeQuery, changeWorkflowId, charterSignal } from '../../src/workflows/messages';
import { laneBinding } from '../../src/cli/lane-binding';
import { readChangeSpecForTest } from './fixtures';
import type { ChangeSpec } from '../../src/domain/change-spec';
import type { LaneKind } from '../../src/domain/vocabulary';
import { openProduction } from '../../src/activities/targets/open';
import { parseTrustRoot } from '../../src/domain/trust-root';
import { blockerStateHash, specHashOf } from '../../src/domain/bindings';

let runtimeInstalled = false;
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export interface Keys {
  dir: string;
  /** The fingerprint of the trust root file below: what every envelope names. */
  trustRoot: string;
  owner: PrivateKeyFile;
  owner2: PrivateKeyFile;
  operator: PrivateKeyFile;
  /** A valid owner-role key that is NOT in the trust root. */
  stranger: PrivateKeyFile;
  trustRootPath: string;
  /** Worker keys by host name (makeKeys({ workers })): key file paths, each listed under the trust root's workers. */
  workerKeys: Record<string, string>;
  /** A worker key (path) that is NOT in the trust root. */
  strangerWorkerKey: string;
}

/**
 * Keys and a v1 trust root. `workers` names worker hosts (for a shared evidence store): each gets a worker key listed
 * under the trust root's `workers`; without it the trust root is exactly the one (and fingerprint) earlier tests used.
 */
export function makeKeys(opts: { workers?: string[] } = {}): Keys {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-keys-'));
  const load = (name: string, role: 'owner' | 'operator') => readPrivateKey(createKeyPair(dir, name, role).keyPath);
  const owner = load('owner', 'owner');
  const owner2 = load('owner2', 'owner');
  const operator = load('operator', 'operator');
  const stranger = load('stranger', 'owner');
  const trustRootPath = join(dir, 'trust-root.json');
  const keys = [owner, owner2, operator].map(({ name, role, keyId, publicKey }) => ({ name, role, keyId, publicKey }));
  const workerKeys = Object.fromEntries((opts.workers ?? []).map((w) => [w, createKeyPair(dir, `worker-${w}`, 'worker').keyPath]));
  const strangerWorkerKey = createKeyPair(dir, 'worker-stranger', 'worker').keyPath;
  const workers = Object.entries(workerKeys).map(([id, path]) => ({ id, publicKey: readPrivateKey(path).publicKey }));
  const doc = { v: 1, keys, ...(workers.length > 0 ? { workers } : {}) };
  writeFileSync(trustRootPath, JSON.stringify(doc));
  return { dir, owner, owner2, operator, stranger, trustRootPath, trustRoot: parseTrustRoot(doc).fingerprint, workerKeys, strangerWorkerKey };
}

export interface Harness {
  client: Client;
  address: string;
  taskQueue: string;
  lanesHome: string;
  /** A worker on the harness's queue; `home` puts it elsewhere (another host's LANES_HOME, a shared evidence store). */
  startWorker(trustRootPath: string, home?: { lanesHome?: string; evidenceUrl?: string; workerKeyPath?: string }): Promise<{ worker: Worker; stop(): Promise<void> }>;
  close(): Promise<void>;
}

/** Starts a lane through the same code `lanes start` uses; options let tests sign the start wrongly on purpose. */
export async function startLane(
  h: Harness,
  keys: Keys,
  opts: { lane?: LaneKind; change?: ChangeSpec; grantTimeoutMs?: number; shaped?: boolean; startKey?: PrivateKeyFile; startOverrides?: Partial<EnvelopeRequest>; charter?: boolean; resumeFrom?: string } = {},
): Promise<{ workflowId: string; change: ChangeSpec }> {
  const lane = opts.lane ?? 'rehearsal';
  const change = opts.change ?? readChangeSpecForTest();
  // An execution opens only on a chartered change: the owner charters it first, as `lanes charter` would, unless a
  // test is about the charter itself (charter: false).
  if (lane === 'execution' && opts.charter !== false) await charterChange(h, keys, change);
  const { workflowId, runId, startId } = await startLaneWorkflow(h.client, {
    lane,
    change,
    trustRoot: keys.trustRoot,
    operatorKey: opts.startKey ?? keys.operator,
    taskQueue: h.taskQueue,
    grantTimeoutMs: opts.grantTimeoutMs,
    shaped: opts.shaped,
    ...(opts.resumeFrom ? { resumeFrom: opts.resumeFrom } : {}),
    workflowId: `${change.id}.${lane}.${randomUUID()}`,
    startEnvelopeOverrides: opts.startOverrides,
  });
  bindings.set(workflowId, { runId, startId, change });
  return { workflowId, change };
}

export async function historyEvents(client: Client, workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return history.events ?? [];
}

/** Names of the activities scheduled so far, in order, read from the workflow's history. */
export async function scheduledActivities(client: Client, workflowId: string): Promise<string[]> {
  return (await historyEvents(client, workflowId))
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((n): n is string => typeof n === 'string');
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** The demo change under a fresh id (its own change entity and production target), optionally without blockers. */
export function freshChange(opts: { blockers?: boolean } = {}): ChangeSpec {
  const base = readChangeSpecForTest();
  const change: ChangeSpec = { ...base, id: `demo-${randomUUID().slice(0, 8)}` };
  if (opts.blockers === false) delete change.blockers;
  return change;
}

/**
 * What `lanes grant` binds an envelope to, for the lanes this process started: the run and the spec. The evidence
 * a grant names defaults, as in the CLI, to the latest passed rehearsal and precheck of the change this process saw,
 * and OPT4_PRODUCTION on an execution lane approves the change's blocker map as declared (tests that move blockers
 * pass `blockersHash`).
 */
const bindings = new Map<string, { runId: string; startId: string; change: ChangeSpec }>();
const latestTrees = new Map<string, { rehearsal?: string; precheck?: string }>();

export function laneRunId(workflowId: string): string | undefined {
  return bindings.get(workflowId)?.runId;
}

/** The run and spec hash a lane this process started is bound to (for envelopes aimed elsewhere on purpose). */
export function boundTo(workflowId: string): { runId: string; startId: string; specHash: string } {
  const b = bindings.get(workflowId)!;
  return { runId: b.runId, startId: b.startId, specHash: specHashOf(b.change) };
}

/** Learns the binding of a lane started elsewhere (by the CLI in a child process), as `lanes grant` does. */
export async function learnLane(client: Client, workflowId: string): Promise<void> {
  const lane = await describeLane(client, workflowId);
  const b = await laneBinding(client, lane);
  bindings.set(workflowId, { runId: b.runId, startId: b.startId, change: b.change });
}

/** Signs one envelope for a lane, as an owner would with `lanes grant`. Fields an action does not carry are dropped. */
export function grantEnvelope(keys: Keys, workflowId: string, changeId: string, lane: LaneKind, action: EnvelopeRequest['action'], over: Partial<EnvelopeRequest> = {}) {
  const bound = bindings.get(workflowId);
  const trees = latestTrees.get(changeId) ?? {};
  const { evidenceTree, precheckTree, blockersHash, ...rest } = over;
  action = over.action ?? action;
  return makeEnvelope({
    key: keys.owner,
    workflowId,
    changeId,
    lane,
    action,
    validForMs: 3_600_000,
    trustRoot: keys.trustRoot,
    ...(bound ? { runId: bound.runId, startId: bound.startId, specHash: specHashOf(bound.change) } : {}),
    ...(action === 'REAL_RUN' || action === 'APPLY' || action === 'PROD_ROLLBACK' ? { evidenceTree: evidenceTree ?? trees.rehearsal } : {}),
    ...(action === 'REAL_RUN' ? { precheckTree: precheckTree ?? trees.precheck } : {}),
    ...(action === 'OPT4_PRODUCTION' && lane === 'execution' ? { blockersHash: blockersHash ?? blockerStateHash(bound?.change.blockers?.map) } : {}),
    ...rest,
  });
}

/** Runs a lane to its end with the given grants (sent as soon as the lane waits) and returns its final status. */
export async function runLaneWithGrants(
  h: Harness,
  keys: Keys,
  change: ChangeSpec,
  lane: LaneKind,
  actions: EnvelopeRequest['action'][],
  over: Partial<EnvelopeRequest> = {},
  opts: { grantTimeoutMs?: number; shaped?: boolean; resumeFrom?: string } = {},
): Promise<{ workflowId: string; result: LaneStatus }> {
  const { workflowId } = await startLane(h, keys, { lane, change, ...opts });
  const handle = h.client.workflow.getHandle(workflowId);
  for (const action of actions) await handle.signal('grant', grantEnvelope(keys, workflowId, change.id, lane, action, over));
  const result = (await handle.result()) as LaneStatus;
  if (result.state === 'COMPLETED' && (lane === 'rehearsal' || lane === 'precheck')) {
    latestTrees.set(change.id, { ...latestTrees.get(change.id), [lane]: result.evidence!.treeHash });
  }
  return { workflowId, result };
}

/** Reads the change's production database (whatever its engine) the way the lanes reach it. */
export async function productionQuery<R>(lanesHome: string, change: ChangeSpec, sql: string, params?: unknown[]): Promise<R[]> {
  const db = await openProduction(lanesHome, change);
  return db.session((s) => s.query<R>(sql, params));
}

/** A CHARTER of the change's blocker map and rules, signed as `lanes charter` signs it. */
export function charterEnvelope(keys: Keys, change: ChangeSpec, over: Partial<EnvelopeRequest> = {}) {
  return makeEnvelope({
    key: keys.owner,
    workflowId: changeWorkflowId(change.id),
    changeId: change.id,
    action: 'CHARTER',
    charterHash: charterHashOf({ changeId: change.id, blockers: change.blockers }),
    trustRoot: keys.trustRoot,
    specHash: specHashOf(change),
    validForMs: 600_000,
    ...over,
  });
}

/** The owner charters the change's blocker map and rules (creating its entity if need be), and waits until in force. */
export async function charterChange(h: Pick<Harness, 'client' | 'taskQueue'>, keys: Keys, change: ChangeSpec): Promise<ChangeState> {
  await ensureChangeEntity(h.client, change, h.taskQueue);
  const entity = h.client.workflow.getHandle(changeWorkflowId(change.id));
  await entity.signal(charterSignal, charterEnvelope(keys, change));
  return waitFor('the charter in force', async () => {
    const st = (await entity.query(changeQuery)) as ChangeState;
    return st.charter?.at ? st : undefined;
  });
}
