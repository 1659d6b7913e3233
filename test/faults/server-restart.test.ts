/**
 * Server restart (issue 6): the Temporal dev server, persisted to a SQLite file, is stopped and started again on
 * the same port while one lane waits for a grant and another is running its gated activity. The worker and the
 * client reconnect by themselves; both lanes resume and complete — nothing is lost with the server process.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { freePort, startDevServer } from '../../src/server/dev-server';
import { ensureSearchAttributes } from '../../src/server/namespace-setup';
import type { LaneStatus } from '../../src/domain/lane-status';
import { statusQuery } from '../../src/workflows/messages';
import { freshChange, grantEnvelope, harness, makeKeys, quietRuntime, startLane, waitFor } from '../support/lanes';


describe('Temporal server restart', () => {
  it('a waiting lane and a running lane both resume and complete after the server restarts', async () => {
    quietRuntime();
    const dbFilename = join(mkdtempSync(join(tmpdir(), 'lanes-restart-')), 'temporal.db');
    const port = await freePort();
    const start = async () => {
      const env = await startDevServer({ dbFilename, port });
      const c = await Connection.connect({ address: env.address });
      await ensureSearchAttributes(c, 'default');
      await c.close();
      return env;
    };
    let server: TestWorkflowEnvironment = await start();
    const h = await harness({ address: server.address });
    const keys = makeKeys();
    const worker = await h.startWorker(keys.trustRootPath);
    try {
      const waitingChange = freshChange({ blockers: false });
      const { workflowId: waiting } = await startLane(h, keys, { lane: 'rehearsal', change: waitingChange });
      const runningChange = freshChange({ blockers: false });
      const { workflowId: running } = await startLane(h, keys, { lane: 'rehearsal', change: runningChange, shaped: true });
      await waitFor('the first lane waiting', async () => ((await h.client.workflow.getHandle(waiting).query(statusQuery)).state === 'WAITING_FOR_GRANT' ? true : undefined), 60_000);
      await h.client.workflow.getHandle(running).signal('grant', grantEnvelope(keys, running, runningChange.id, 'rehearsal', 'AUTHORIZE_REHEARSAL'));
      const started = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
      await waitFor('the second lane inside its rehearsal activity', async () => {
        const d = await h.client.workflow.getHandle(running).describe();
        return d.raw.pendingActivities?.some((a) => a.activityType?.name === 'rehearseOnClone' && a.state === started) ? true : undefined;
      }, 60_000);

      await server.teardown();
      server = await start();

      // The waiting lane takes a grant sent after the restart; the running one finishes its work.
      await waitFor('the client to reach the restarted server', async () => (await h.client.workflow.getHandle(waiting).describe().then(() => true, () => undefined)), 60_000);
      await h.client.workflow.getHandle(waiting).signal('grant', grantEnvelope(keys, waiting, waitingChange.id, 'rehearsal', 'AUTHORIZE_REHEARSAL'));
      const results = (await Promise.all([waiting, running].map((id) => h.client.workflow.getHandle(id).result()))) as LaneStatus[];
      expect(results.map((r) => r.state)).toEqual(['COMPLETED', 'COMPLETED']);
      expect(results[1]!.shaped).toBe(true);
    } finally {
      await worker.stop();
      await h.close();
      await server.teardown();
    }
  }, 300_000);
});
