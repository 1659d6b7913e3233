/**
 * The signals a workflow received, as the Temporal server recorded them in its history: the point of action reads
 * owners' HOLD and REVOKE of a run from here, and every blocker move ever sent to a change entity, because a
 * workflow's own memory is only as honest as the worker running it (and an entity can be reset or replaced).
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import type { RecordedSignal } from '../domain/point-of-action';
import { blockerUpdateSignal, holdSignal, revokeSignal } from '../workflows/messages';

type IHistoryEvent = temporal.api.history.v1.IHistoryEvent;

export type RunSignals = (workflowId: string, runId: string) => Promise<RecordedSignal[]>;
/** Every signal of every run of a workflow id, in the order and at the time the server recorded them. */
export type WorkflowSignals = (workflowId: string) => Promise<RecordedSignal[]>;

/** How long a read waits for a run's workflow task in flight to end (a worker's own take milliseconds). */
const IN_FLIGHT_WAIT_MS = 15_000;
const PENDING_TASK_STARTED = 2; // temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED

/**
 * A signal that reaches a run while one of its workflow tasks is in flight is held by the server and written to
 * history only when that task completes or times out: a history read then misses an owner's HOLD the server has
 * already accepted. Anyone on the namespace can poll a run's task and sit on it, so a read waits until no task is in
 * flight (after that, every signal accepted so far is in history), and gives up, fail-closed, if one stays in flight
 * longer than a task may run.
 */
async function untilNoTaskInFlight(connection: NativeConnection, namespace: string, workflowId: string, runId: string): Promise<void> {
  const until = Date.now() + IN_FLIGHT_WAIT_MS;
  for (let pause = 10; ; pause = Math.min(pause * 2, 250)) {
    const d = await connection.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId, runId } });
    if (d.pendingWorkflowTask?.state !== PENDING_TASK_STARTED) return;
    if (Date.now() >= until) {
      throw new Error(`a workflow task of ${workflowId} (run ${runId}) has been in flight for ${IN_FLIGHT_WAIT_MS / 1000} s: signals it holds back (an owner's HOLD or REVOKE) cannot be read yet, so nothing proceeds`);
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** Runs whose signals a worker keeps, and what their payloads may weigh together. */
const CACHED_RUNS = 2_000;
const CACHED_BYTES = 64 * 2 ** 20;

/**
 * The signals the point of action counts: owners' HOLD and REVOKE of a run, blocker moves of a change entity. Only
 * these are kept, so a namespace writer who floods a run with other signals cannot grow a worker's memory with them.
 */
const COUNTED: ReadonlySet<string> = new Set([holdSignal.name, revokeSignal.name, blockerUpdateSignal.name]);

interface SeenRun {
  /** The newest event read so far; everything up to it is in `signals`. */
  lastEventId: number;
  /** That event's time and version: the same id with another mark means the history was rewritten. */
  lastMark: string;
  signals: RecordedSignal[];
  /** What the kept signals' payloads weigh, as the server sent them. */
  bytes: number;
}

function markOf(e: IHistoryEvent): string {
  return `${String(e.eventTime?.seconds ?? '')}.${e.eventTime?.nanos ?? ''}/${String(e.version ?? '')}/${String(e.eventType ?? '')}`;
}

/** A counted signal of the event, with what its payload weighs; undefined for any other event. */
function signalOf(e: IHistoryEvent): { signal: RecordedSignal; bytes: number } | undefined {
  const s = e.workflowExecutionSignaledEventAttributes;
  if (!s?.signalName || !COUNTED.has(s.signalName)) return undefined;
  let payload: unknown;
  try {
    payload = s.input?.payloads?.[0] ? defaultPayloadConverter.fromPayload(s.input.payloads[0] as never) : undefined;
  } catch {
    payload = undefined;
  }
  const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  return { signal: { name: s.signalName, payload, at }, bytes: s.input?.payloads?.reduce((n, p) => n + (p.data?.length ?? 0), 0) ?? 0 };
}

/**
 * A run's history only grows: its events never change once recorded (a reset starts a new run). So a run read once is
 * read again from its newest event backwards, only as far as the newest event already seen: a step's recheck reads
 * the few events since the last step instead of the whole history (every step's request, every grant) each time.
 */
export function runSignalsFrom(connection: NativeConnection, namespace: string): RunSignals {
  const seen = new Map<string, SeenRun>();
  let bytes = 0;
  const read = async (workflowId: string, runId: string, known: SeenRun | undefined): Promise<SeenRun | 'changed'> => {
    const fresh: RecordedSignal[] = [];
    let freshBytes = 0;
    let newest: { id: number; mark: string } | undefined;
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await connection.workflowService.getWorkflowExecutionHistoryReverse({ namespace, execution: { workflowId, runId }, maximumPageSize: known ? 50 : 1000, nextPageToken });
      for (const e of page.history?.events ?? []) {
        const id = Number(e.eventId ?? 0);
        newest ??= { id, mark: markOf(e) };
        if (known && id <= known.lastEventId) {
          // The newest event already read, unchanged, ends the read; anything else (a history rewritten from an
          // earlier event, as replication conflict resolution can) is read again from scratch.
          if (id !== known.lastEventId || markOf(e) !== known.lastMark) return 'changed';
          return { lastEventId: newest.id, lastMark: newest.mark, signals: [...known.signals, ...fresh.reverse()], bytes: known.bytes + freshBytes };
        }
        const counted = signalOf(e);
        if (counted) {
          fresh.push(counted.signal);
          freshBytes += counted.bytes;
        }
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    // Read to the first event: the whole history (a run read for the first time, or one that shrank).
    return known ? 'changed' : { lastEventId: newest?.id ?? 0, lastMark: newest?.mark ?? '', signals: fresh.reverse(), bytes: freshBytes };
  };
  return async (workflowId, runId) => {
    await untilNoTaskInFlight(connection, namespace, workflowId, runId);
    const key = `${workflowId}\u0000${runId}`;
    let run = await read(workflowId, runId, seen.get(key));
    if (run === 'changed') run = (await read(workflowId, runId, undefined)) as SeenRun;
    bytes -= seen.get(key)?.bytes ?? 0;
    seen.delete(key);
    seen.set(key, run);
    bytes += run.bytes;
    // Oldest first, until both bounds hold: HOLDs and REVOKEs are small, but anyone on the namespace can send big ones.
    while (seen.size > CACHED_RUNS || (bytes > CACHED_BYTES && seen.size > 1)) {
      const [oldest, entry] = seen.entries().next().value!;
      seen.delete(oldest);
      bytes -= entry.bytes;
    }
    return [...run.signals]; // a copy: the cache stays as the server recorded it, whatever a caller does
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
