/**
 * What the CLI does with a lane through Temporal: start it, signal an envelope and learn the verdict, read its
 * status. A status query needs a running worker; when none answers, the CLI says so instead of hanging.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const temporalEnums = temporal.api.enums.v1;
import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { SA_CHANGE_ID, SA_GRANTS_MISSING, SA_LANE_KIND, SA_LANE_STATE } from '../domain/search-attributes';
import { randomBytes } from 'node:crypto';
import type { LaneStatus } from '../domain/lane-status';
import type { SignedEnvelope } from '../domain/envelope';
import { envelopeIdOf } from '../domain/envelope-rules';
import { LANE_KINDS, requiredGrants, type LaneKind } from '../domain/vocabulary';
import { stepsToApply } from '../domain/resume';
import type { ChangeSpec } from '../domain/change-spec';
import { CHANGE_WORKFLOW_TYPE, LANE_WORKFLOW_TYPES } from '../workflows/registry';
import { changeWorkflowId } from '../workflows/messages';
import type { ChangeInput } from '../domain/change-state';
import type { LaneInput } from '../workflows/lane-input';
import { makeEnvelope } from './envelopes';
import { specHashOf } from '../domain/bindings';
import type { PrivateKeyFile } from './key-files';
import { statusQuery } from '../workflows/messages';
import type { LanesConfig } from '../worker/config';
import { UserError } from './user-error';
import { connectionOptions, securityFromEnv } from '../worker/connection-options';

export async function connectClient(cfg: LanesConfig): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...connectionOptions(cfg.address, securityFromEnv()), connectTimeout: '5s' });
    return new Client({ connection, namespace: cfg.namespace });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(
      `cannot reach Temporal at ${cfg.address} (${(err as Error).message}). Start it with \`npm start\`, or set TEMPORAL_ADDRESS.`,
    );
  }
}

/** Readable, sortable and unique: <change>.<lane>.<UTC stamp>.<random>. */
export function newWorkflowId(changeId: string, lane: LaneKind, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${changeId}.${lane}.${stamp}.${randomBytes(3).toString('hex')}`;
}

export interface LaneStart {
  lane: LaneKind;
  change: ChangeSpec;
  /** The fingerprint of the trust root the operator signs under (the workers' file must match it). */
  trustRoot: string;
  /** The operator's key: the start is signed and bound to the new workflow id. */
  operatorKey: PrivateKeyFile;
  taskQueue: string;
  grantTimeoutMs?: number;
  /** Rehearsal only: on a production-shaped clone. */
  shaped?: boolean;
  /** Precheck only: how long its pass opens execution. */
  precheckValidForMs?: number;
  /** Precheck and execution: resume a half-applied change from this step (signed in the START). */
  resumeFrom?: string;
  workflowId?: string;
  /** Tests only: sign the start envelope with other fields, to prove the lane refuses it. */
  startEnvelopeOverrides?: Partial<Parameters<typeof makeEnvelope>[0]>;
}

/**
 * Makes sure the change entity `change:<id>` runs (it keeps the blocker map, the ledger and the nonces of every
 * lane of the change). An existing entity is kept as it is: its durable state wins over a re-read spec.
 */
export async function ensureChangeEntity(client: Client, change: ChangeSpec, taskQueue: string): Promise<string> {
  const workflowId = changeWorkflowId(change.id);
  const input: ChangeInput = { changeId: change.id, ...(change.blockers ? { blockers: change.blockers } : {}) };
  await client.workflow.start(CHANGE_WORKFLOW_TYPE, {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: SA_CHANGE_ID, value: change.id }],
    staticSummary: `change ${change.id}: blocker map and lane ledger`,
    staticDetails: `**Change** ${change.id} — ${change.title}\n\nHolds the blocker map and the ledger of lanes; every lane of this change reports here.`,
  });
  return workflowId;
}

/** Starts a lane workflow with its signed start, search attributes and the summary the Web UI shows. */
export async function startLaneWorkflow(client: Client, req: LaneStart): Promise<{ workflowId: string; runId: string; startId: string }> {
  const { lane, change, operatorKey: key } = req;
  const workflowType = LANE_WORKFLOW_TYPES[lane];
  const workflowId = req.workflowId ?? newWorkflowId(change.id, lane);
  const start = makeEnvelope({
    key,
    workflowId,
    changeId: change.id,
    lane,
    action: 'START_LANE',
    validForMs: 10 * 60_000,
    trustRoot: req.trustRoot,
    specHash: specHashOf(change),
    ...(req.shaped ? { shaped: true as const } : {}),
    ...(req.precheckValidForMs ? { precheckValidForMs: req.precheckValidForMs } : {}),
    ...(req.resumeFrom ? { resumeFrom: req.resumeFrom } : {}),
    ...req.startEnvelopeOverrides,
  });
  const input: LaneInput = {
    change,
    start,
    ...(req.grantTimeoutMs ? { grantTimeoutMs: req.grantTimeoutMs } : {}),
    ...(req.shaped ? { shaped: true } : {}),
    ...(req.precheckValidForMs ? { precheckValidForMs: req.precheckValidForMs } : {}),
    ...(req.resumeFrom ? { resumeFrom: req.resumeFrom } : {}),
  };
  await ensureChangeEntity(client, change, req.taskQueue);
  const needs = requiredGrants(lane, stepsToApply(change, req.resumeFrom).map((s) => s.action));
  const kind = lane === 'rehearsal' && req.shaped ? 'production-shaped rehearsal' : lane;
  const handle = await client.workflow.start(workflowType, {
    workflowId,
    taskQueue: req.taskQueue,
    args: [input],
    typedSearchAttributes: [
      { key: SA_CHANGE_ID, value: change.id },
      { key: SA_LANE_KIND, value: lane },
      { key: SA_LANE_STATE, value: 'STARTING' },
      { key: SA_GRANTS_MISSING, value: needs },
    ],
    staticSummary: `${kind} lane — ${change.id}: ${change.title}`,
    staticDetails: [
      `**Change** ${change.id} — ${change.title}`,
      `**Lane** ${kind}, started by operator ${key.name} (${key.keyId})`,
      `**Needs owner grants** ${needs.join(', ') || 'none'} — each its own signed grant; silence means HOLD.`,
      lane === 'execution' ? '**Also needs** no open blocker and a passed precheck still within its validity window.' : '',
      lane === 'rollback' ? "**Undoes** the change's applied steps on production, in reverse order, each once; PROD_ROLLBACK names the passed rehearsal that proved this spec's rollback." : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
  });
  return { workflowId, runId: handle.firstExecutionRunId, startId: envelopeIdOf(start)! };
}

/** What a lane is, from its search attributes: readable with no worker running. */
export interface LaneIdentity {
  workflowId: string;
  /** The run the workflow id names now: grants are bound to it. */
  runId: string;
  changeId: string;
  lane: LaneKind;
  state?: string;
  grantsMissing?: string[];
  temporalStatus: string;
  /** The task queue its workflow tasks go to: whether a worker polls it tells "no worker" from "no answer yet". */
  taskQueue: string;
  /** Activities running now, with the progress they last reported (heartbeat details). */
  working: { activity: string; stage?: string; attempt: number }[];
}

/** A payload as JSON, or undefined when it is absent or not ours to read: history is shown, never trusted. */
export function decodePayload(p: temporal.api.common.v1.IPayload | null | undefined): unknown {
  try {
    return p ? defaultPayloadConverter.fromPayload(p as never) : undefined;
  } catch {
    return undefined;
  }
}

export async function describeLane(client: Client, workflowId: string): Promise<LaneIdentity> {
  let d;
  try {
    d = await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new UserError(`no lane with workflow id "${workflowId}" in namespace ${client.options.namespace}; \`lanes list\` shows the lanes`);
    }
    throw err;
  }
  const sa = d.typedSearchAttributes;
  const changeId = sa.get(SA_CHANGE_ID);
  const lane = sa.get(SA_LANE_KIND);
  if (!changeId || !lane || !(LANE_KINDS as readonly string[]).includes(lane)) {
    throw new UserError(`workflow "${workflowId}" is not a Gated Lanes lane (it has no ChangeId/LaneKind search attributes)`);
  }
  return {
    workflowId,
    runId: d.runId,
    changeId,
    lane: lane as LaneKind,
    state: sa.get(SA_LANE_STATE),
    grantsMissing: sa.get(SA_GRANTS_MISSING),
    temporalStatus: d.status.name,
    taskQueue: d.taskQueue,
    working: (d.raw.pendingActivities ?? []).map((a) => {
      const stage = (decodePayload(a.heartbeatDetails?.payloads?.[0]) as { stage?: string } | undefined)?.stage;
      return { activity: a.activityType?.name ?? '?', attempt: a.attempt ?? 1, ...(stage ? { stage } : {}) };
    }),
  };
}

/** The lane's `status` query, or undefined when no worker answers within the deadline. */
export async function queryStatus(client: Client, workflowId: string, timeoutMs = 4000): Promise<LaneStatus | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    return await client.connection.withDeadline(Date.now() + timeoutMs, () => handle.query(statusQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UserError(`no lane with workflow id "${workflowId}"`);
    if (isDeadline(err)) return undefined;
    throw err;
  }
}

/**
 * What a lane's status says of one envelope (by id): taken as a grant, a HOLD or an input; rejected, with why;
 * or undefined when the lane has recorded nothing about it.
 */
export function verdictOf(status: LaneStatus, id: string | undefined): { taken: 'grant' | 'hold' | 'input' } | { rejected: string } | undefined {
  if (!id) return undefined;
  if (status.grantsPresent.some((g) => g.id === id)) return { taken: 'grant' };
  if (status.hold?.id === id) return { taken: 'hold' };
  if (status.inputs?.some((i) => i.id === id)) return { taken: 'input' };
  const rejected = status.rejected.find((r) => r.id === id);
  return rejected ? { rejected: rejected.reason } : undefined;
}

/**
 * `queued`: no worker polls the lane's queue, so it will judge the envelope when one starts; `pending`: a worker
 * polls but the lane recorded no verdict in time (a worker just restarted, or busy) — the verdict is not known yet.
 */
export type SendResult = { result: 'accepted' } | { result: 'rejected'; reason: string } | { result: 'queued' | 'pending'; reason: string };

/** How many workers polled the queue's workflow tasks lately (the server keeps pollers of the last few minutes). */
async function workflowPollers(client: Client, taskQueue: string): Promise<number> {
  const r = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: temporalEnums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporalEnums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return r.pollers?.length ?? 0;
}

/** Signals an envelope, then polls `status` until the lane has recorded a verdict on it. */
export async function sendEnvelope(
  client: Client,
  identity: LaneIdentity,
  signal: 'grant' | 'hold' | 'revoke' | 'input',
  envelope: SignedEnvelope,
  waitMs = 15_000,
  /** `input` only: the content whose sha256 the envelope signs. */
  content?: string,
): Promise<SendResult> {
  if (identity.temporalStatus !== 'RUNNING') {
    throw new UserError(`lane ${identity.workflowId} has ended (${identity.temporalStatus}, state ${identity.state ?? 'unknown'}); nothing was sent`);
  }
  const handle: WorkflowHandle = client.workflow.getHandle(identity.workflowId);
  await handle.signal(signal, signal === 'input' ? { envelope, content } : envelope);
  const id = envelopeIdOf(envelope)!;
  const until = Date.now() + waitMs;
  const see = `\`lanes status ${identity.workflowId}\` shows the verdict once the lane has judged it`;
  while (Date.now() < until) {
    const status = await queryStatus(client, identity.workflowId, Math.min(4000, Math.max(500, until - Date.now())));
    if (!status) {
      // No answer is not "no worker": a worker that just started, or is busy, answers late. Ask the server.
      if ((await workflowPollers(client, identity.taskQueue)) === 0) {
        return { result: 'queued', reason: `no worker is running (none polls task queue ${identity.taskQueue}); the lane will judge it when one starts: ${see}` };
      }
      continue;
    }
    const revoked = envelope.payload.revokes !== undefined && status.revoked.includes(envelope.payload.revokes);
    const verdict = verdictOf(status, id);
    if (revoked || (verdict && 'taken' in verdict)) return { result: 'accepted' };
    if (verdict) return { result: 'rejected', reason: verdict.rejected };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { result: 'pending', reason: `the verdict is not known yet: a worker polls task queue ${identity.taskQueue}, but the lane recorded no verdict within ${Math.round(waitMs / 1000)} s (a worker starting or busy); ${see}` };
}

/**
 * What a query gets when no worker picks it up in time: gRPC DEADLINE_EXCEEDED (4) from our deadline, or — seen
 * under load — the server's own cut-off surfacing as CANCELLED (1) / UNAVAILABLE (14) or a "deadline" detail.
 * Any other error is a real failure and is reported as one.
 */
function isDeadline(err: unknown): boolean {
  const e = err as { code?: number; cause?: { code?: number; details?: string } };
  const code = e?.cause?.code ?? e?.code;
  return code === 4 || code === 1 || code === 14 || /deadline|context canceled/i.test(e?.cause?.details ?? '');
}
