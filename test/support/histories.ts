/** Captures full histories from real runs into test/histories/ when RECORD_HISTORIES=1 (`npm run record-histories`). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORIES_DIR = join(__dirname, '..', 'histories');

export async function recordHistory(client: Client, workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // The workflow id is part of what the lane verifies (envelopes are bound to it), so replay needs the original.
  const doc = { workflowId, history: JSON.parse(historyToJSON(history)) };
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), `${JSON.stringify(doc, null, 1)}\n`);
}

export interface RecordedHistory {
  workflowId: string;
  history: ReturnType<typeof historyFromJSON>;
}

/** Reads a recorded history; `edit` may rewrite the file's text first (to prove replay catches a mismatch). */
export function readRecordedHistory(file: string, edit: (text: string) => string = (t) => t): RecordedHistory {
  const doc = JSON.parse(edit(readFileSync(join(HISTORIES_DIR, file), 'utf8'))) as { workflowId: string; history: unknown };
  return { workflowId: doc.workflowId, history: historyFromJSON(doc.history) };
}
