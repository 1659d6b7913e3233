/**
 * The point of action reads a run's signals from the server's history before every step (src/worker/run-signals.ts).
 * It keeps what it read and, the next time, reads backwards only to the newest event it already saw: a signal sent
 * after a read must still be there on the next, once and in order, exactly as a reader that kept nothing sees it.
 * And a signal the server accepted while a workflow task of the run was in flight (held back from history until the
 * task ends) is waited for, never missed.
 */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { NativeConnection } from '@temporalio/worker';
import { runSignalsFrom } from '../../src/worker/run-signals';
import { statusQuery } from '../../src/workflows/messages';
import { freshChange, grantEnvelope, startLane, waitFor, useLaneSuite } from '../support/lanes';

const suite = useLaneSuite();

describe('run signals, read incrementally', () => {
  it('sees every HOLD and REVOKE sent between reads, once, in the order the server recorded them', async () => {
    // A change of its own: a change entity runs on the queue of the suite that first started it.
    const { workflowId, change } = await startLane(suite.h, suite.keys, { change: freshChange(), grantTimeoutMs: 600_000 });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await waitFor('WAITING_FOR_GRANT', async () => (await handle.query(statusQuery)).state === 'WAITING_FOR_GRANT');
    const { runId } = await handle.describe();
    const connection = await NativeConnection.connect({ address: suite.h.address });
    try {
      const cached = runSignalsFrom(connection, 'default');
      // Once the lane has judged a signal, the task that did has ended and the signal is in history.
      const judged = (n: number) => waitFor(`${n} revokes judged`, async () => { const s = await handle.query(statusQuery); return s.revoked.length + s.rejected.length === n; });
      const revoke = () => grantEnvelope(suite.keys, workflowId, change.id, 'rehearsal', 'REVOKE', { revokes: randomUUID().replace(/-/g, '').repeat(2) });
      expect(await cached(workflowId, runId)).toEqual([]);
      const first = revoke();
      await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'rehearsal', 'AUTHORIZE_PRECHECK')); // not a withdrawal: not kept
      await handle.signal('revoke', first);
      await judged(2);
      expect((await cached(workflowId, runId)).map((s) => [s.name, s.payload])).toEqual([['revoke', first]]);
      const second = revoke();
      await handle.signal('revoke', second);
      await judged(3);
      const again = await cached(workflowId, runId);
      expect(again.map((s) => s.payload)).toEqual([first, second]);
      // Exactly what a reader that never read this run before sees.
      expect(again).toEqual(await runSignalsFrom(connection, 'default')(workflowId, runId));
    } finally {
      await connection.close();
      await handle.terminate('test cleanup');
    }
  });

  it('waits for a workflow task someone sits on, and then sees the HOLD the server held back', async () => {
    // A namespace writer polls the run's workflow task and holds it; an owner's HOLD arrives meanwhile.
    const queue = `held-task-${randomUUID()}`;
    const workflowId = `held-task-${randomUUID()}`;
    const handle = await suite.h.client.workflow.start('noSuchWorkflow', { taskQueue: queue, workflowId, args: [], workflowTaskTimeout: '3s' });
    const { connection: client } = suite.h.client;
    const task = await client.withDeadline(Date.now() + 30_000, () => client.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: queue }, identity: 'attacker' }));
    expect(task.taskToken?.length).toBeGreaterThan(0);
    await handle.signal('hold', { an: 'owner HOLD' });
    const connection = await NativeConnection.connect({ address: suite.h.address });
    try {
      const signals = await runSignalsFrom(connection, 'default')(workflowId, handle.firstExecutionRunId);
      // Read only once the held task timed out and the server wrote the HOLD to history.
      expect(signals.map((s) => s.name)).toEqual(['hold']);
    } finally {
      await connection.close();
      await handle.terminate('test cleanup');
    }
  });
});
