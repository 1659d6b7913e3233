/**
 * The signals a workflow received, as the Temporal server recorded them in its history: the point of action reads
 * owners' HOLD and REVOKE of a run from here, and every blocker move ever sent to a change entity, because a
 * workflow's own memory is only as honest as the worker running it (and an entity can be reset or replaced).
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import type { RecordedSignal } from '../domain/point-of-action';

type IHistoryEvent = temporal.api.history.v1.IHistoryEvent;

export type RunSignals = (workflowId: string, runId: string) => Promise<RecordedSignal[]>;
/** Every signal of every run of a workflow id, in the order and at the time the server recorded them. */
export type WorkflowSignals = (workflowId: string) => Promise<RecordedSignal[]>;

/** Runs whose signals a worker keeps (a few KiB each): far more than it has steps in flight. */
const CACHED_RUNS = 2_000;

interface SeenRun {
  /** The newest event read so far; everything up to it is in `signals`. */
  lastEventId: number;
  signals: RecordedSignal[];
}

function signalOf(e: IHistoryEvent): RecordedSignal | undefined {
  const s = e.workflowExecutionSignaledEventAttributes;
  if (!s?.signalName) return undefined;
  let payload: unknown;
  try {
    payload = s.input?.payloads?.[0] ? defaultPayloadConverter.fromPayload(s.input.payloads[0] as never) : undefined;
  } catch {
    payload = undefined;
  }
  const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  return { name: s.signalName, payload, at };
}

/**
 * A run's history only grows: its events never change once recorded (a reset starts a new run). So a run read once is
 * read again from its newest event backwards, only as far as the newest event already seen: a step's recheck reads
 * the few events since the last step instead of the whole history (every step's request, every grant) each time.
 */
export function runSignalsFrom(connection: NativeConnection, namespace: string): RunSignals {
  const seen = new Map<string, SeenRun>();
  return async (workflowId, runId) => {
    const key = `${workflowId}\u0000${runId}`;
    const known = seen.get(key);
    const fresh: RecordedSignal[] = [];
    let newest: number | undefined;
    let nextPageToken: Uint8Array | undefined;
    read: do {
      const page = await connection.workflowService.getWorkflowExecutionHistoryReverse({ namespace, execution: { workflowId, runId }, maximumPageSize: known ? 50 : 1000, nextPageToken });
      for (const e of page.history?.events ?? []) {
        const id = Number(e.eventId ?? 0);
        newest ??= id;
        if (known && id <= known.lastEventId) break read;
        const signal = signalOf(e);
        if (signal) fresh.push(signal);
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    const signals = [...(known?.signals ?? []), ...fresh.reverse()];
    seen.delete(key);
    seen.set(key, { lastEventId: Math.max(newest ?? 0, known?.lastEventId ?? 0), signals });
    if (seen.size > CACHED_RUNS) seen.delete(seen.keys().next().value!);
    return signals;
  };
}

/**
 * All runs of the workflow id — the ones visibility lists (closed, reset, replaced) and the one running now (asked of
 * the server directly, since visibility may lag a new run by moments) — and their signals.
 */
export function workflowSignalsFrom(connection: NativeConnection, namespace: string): WorkflowSignals {
  const ofRun = runSignalsFrom(connection, namespace);
  return async (workflowId) => {
    const runs = new Set<string>();
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await connection.workflowService.listWorkflowExecutions({ namespace, query: `WorkflowId = ${JSON.stringify(workflowId)}`, pageSize: 100, nextPageToken });
      for (const x of page.executions ?? []) if (x.execution?.runId) runs.add(x.execution.runId);
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    const current = await connection.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } }).catch(() => undefined);
    if (current?.workflowExecutionInfo?.execution?.runId) runs.add(current.workflowExecutionInfo.execution.runId);
    const all = (await Promise.all([...runs].map((runId) => ofRun(workflowId, runId)))).flat();
    return all.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  };
}
