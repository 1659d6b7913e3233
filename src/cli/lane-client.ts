/**
 * What the CLI does with a lane through Temporal: start it, signal an envelope and learn the verdict, read its
 * status. A status query needs a running worker; when none answers, the CLI says so instead of hanging.
 */
import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { SA_CHANGE_ID, SA_GRANTS_MISSING, SA_LANE_KIND, SA_LANE_STATE } from '../domain/search-attributes';
import type { LaneStatus } from '../domain/lane-status';
import type { SignedEnvelope } from '../domain/envelope';
import { envelopeIdOf } from '../domain/envelope-rules';
import { LANE_KINDS, type LaneKind } from '../domain/vocabulary';
import { statusQuery } from '../workflows/messages';
import type { LanesConfig } from '../worker/config';
import { UserError } from './user-error';

export async function connectClient(cfg: LanesConfig): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: cfg.address, connectTimeout: '5s' });
    return new Client({ connection, namespace: cfg.namespace });
  } catch (err) {
    throw new UserError(
      `cannot reach Temporal at ${cfg.address} (${(err as Error).message}). Start it with \`npm start\`, or set TEMPORAL_ADDRESS.`,
    );
  }
}

/** What a lane is, from its search attributes: readable with no worker running. */
export interface LaneIdentity {
  workflowId: string;
  changeId: string;
  lane: LaneKind;
  state?: string;
  grantsMissing?: string[];
  temporalStatus: string;
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
    changeId,
    lane: lane as LaneKind,
    state: sa.get(SA_LANE_STATE),
    grantsMissing: sa.get(SA_GRANTS_MISSING),
    temporalStatus: d.status.name,
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

export type SendResult = { result: 'accepted' } | { result: 'rejected'; reason: string } | { result: 'queued'; reason: string };

/** Signals an envelope, then polls `status` until the lane has recorded a verdict on it. */
export async function sendEnvelope(
  client: Client,
  identity: LaneIdentity,
  signal: 'grant' | 'hold',
  envelope: SignedEnvelope,
  waitMs = 15_000,
): Promise<SendResult> {
  if (identity.temporalStatus !== 'RUNNING') {
    throw new UserError(`lane ${identity.workflowId} has ended (${identity.temporalStatus}, state ${identity.state ?? 'unknown'}); nothing was sent`);
  }
  const handle: WorkflowHandle = client.workflow.getHandle(identity.workflowId);
  await handle.signal(signal, envelope);
  const id = envelopeIdOf(envelope)!;
  const until = Date.now() + waitMs;
  while (Date.now() < until) {
    const status = await queryStatus(client, identity.workflowId, Math.min(4000, Math.max(500, until - Date.now())));
    if (!status) return { result: 'queued', reason: 'no worker is running; the lane will judge it when one starts' };
    if (status.grantsPresent.some((g) => g.id === id) || status.hold?.id === id) return { result: 'accepted' };
    const rejected = status.rejected.find((r) => r.id === id);
    if (rejected) return { result: 'rejected', reason: rejected.reason };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { result: 'queued', reason: `the lane recorded no verdict within ${Math.round(waitMs / 1000)} s` };
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
