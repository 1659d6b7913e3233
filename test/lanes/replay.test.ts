/**
 * Determinism: every recorded history in test/histories/ must replay against today's workflow code. A change to
 * workflow code that would break running lanes fails here. Re-record with `npm run record-histories`.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { inject } from 'vitest';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR, readRecordedHistory } from '../support/histories';

const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();
const histories = files.map((f) => readRecordedHistory(f));

describe('recorded histories replay', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it('replays every history without nondeterminism', async () => {
    const { bundlePath } = inject('temporal');
    const failures: string[] = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: bundlePath } }, histories)) {
      if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    }
    expect(failures).toEqual([]);
  });

  it('detects a history that does not match the code (the check can fail)', async () => {
    const { bundlePath } = inject('temporal');
    // Rename the gated activity in the recorded history: replay must refuse it.
    const rename = (text: string) => text.replaceAll('"rehearseOnClone"', '"somethingElse"');
    const { workflowId, history: tampered } = readRecordedHistory('rehearsal-granted.json', rename);
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: bundlePath } }, tampered, workflowId)).rejects.toThrow(/[Nn]ondetermin/);
  });
});
