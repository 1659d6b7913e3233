/**
 * The signals a run received, as the Temporal server recorded them in its history: the point of action reads owners'
 * HOLD and REVOKE from here, because the workflow's own memory is only as honest as the worker running it.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { RecordedSignal } from '../domain/point-of-action';

export type RunSignals = (workflowId: string, runId: string) => Promise<RecordedSignal[]>;

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
        out.push({ name: s.signalName, payload });
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return out;
  };
}
