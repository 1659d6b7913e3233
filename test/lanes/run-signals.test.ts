/**
 * The point of action reads a run's signals from the server's history before every step (src/worker/run-signals.ts).
 * It keeps what it read and, the next time, reads backwards only to the newest event it already saw: a signal sent
 * after a read must still be there on the next, once and in order, exactly as a reader that kept nothing sees it.
 */
import { describe, expect, it } from 'vitest';
import { NativeConnection } from '@temporalio/worker';
import { runSignalsFrom } from '../../src/worker/run-signals';
import { statusQuery } from '../../src/workflows/messages';
import { freshChange, grantEnvelope, startLane, waitFor, useLaneSuite } from '../support/lanes';

const suite = useLaneSuite();

describe('run signals, read incrementally', () => {
  it('sees every signal sent between reads, once, in the order the server recorded them', async () => {
    // A change of its own: a change entity runs on the queue of the suite that first started it.
    const { workflowId, change } = await startLane(suite.h, suite.keys, { change: freshChange(), grantTimeoutMs: 600_000 });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await waitFor('WAITING_FOR_GRANT', async () => (await handle.query(statusQuery)).state === 'WAITING_FOR_GRANT');
    const { runId } = await handle.describe();
    const connection = await NativeConnection.connect({ address: suite.h.address });
    try {
      const cached = runSignalsFrom(connection, 'default');
      // A signal that arrives while the lane's workflow task runs is written to history when that task completes:
      // once the lane has judged it, it is there to read.
      const judged = (n: number) => waitFor(`${n} grants judged`, async () => (await handle.query(statusQuery)).rejected.length === n);
      const grants = () => cached(workflowId, runId).then((all) => all.filter((s) => s.name === 'grant'));
      expect(await grants()).toEqual([]);
      // A grant for another action (refused by the lane, recorded by the server all the same), then a second one.
      const first = grantEnvelope(suite.keys, workflowId, change.id, 'rehearsal', 'AUTHORIZE_PRECHECK');
      await handle.signal('grant', first);
      await judged(1);
      expect((await grants()).map((s) => s.payload)).toEqual([first]);
      const second = grantEnvelope(suite.keys, workflowId, change.id, 'rehearsal', 'AUTHORIZE_PRECHECK');
      await handle.signal('grant', second);
      await judged(2);
      const again = await cached(workflowId, runId);
      expect(again.filter((s) => s.name === 'grant').map((s) => s.payload)).toEqual([first, second]);
      // Exactly what a reader that never read this run before sees.
      expect(again).toEqual(await runSignalsFrom(connection, 'default')(workflowId, runId));
      expect(again.map((s) => s.at)).toEqual([...again.map((s) => s.at)].sort((a, b) => a! - b!));
    } finally {
      await connection.close();
      await handle.terminate('test cleanup');
    }
  });
});
