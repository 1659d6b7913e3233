/**
 * The signals a workflow received, as the Temporal server recorded them in its history: the point of action reads
 * owners' HOLD and REVOKE of a run from here, and every blocker move ever sent to a change entity, because a
 * workflow's own memory is only as honest as the worker running it (and an entity can be reset or replaced).
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { RecordedSignal } from '../domain/point-of-action';

export type RunSignals = (workflowId: string, runId: string) => Promise<RecordedSignal[]>;
/** Every signal of every run of a workflow id, in the order and at the time the server recorded them. */
export type WorkflowSignals = (workflowId: string) => Promise<RecordedSignal[]>;

export function runSignalsFrom(connection: NativeConnection, namespace: string): RunSignals {
  return async (workflowId, runId) => {
    const out: RecordedSignal[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await connection.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, nextPageToken });
      for (const e of page.history?.events ?? []) {
        const s = e.workflowExecutionSignaledEventAttributes;
        if (!s?.signalName) continue;
        let payload: unknown;
        try {
          payload = s.input?.payloads?.[0] ? defaultPayloadConverter.fromPayload(s.input.payloads[0] as never) : undefined;
        } catch {
          payload = undefined;
        }
        const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
        out.push({ name: s.signalName, payload, at });
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return out;
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
