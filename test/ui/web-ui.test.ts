/**
 * What an owner sees in the Temporal Web UI, checked in a real browser: a waiting lane's page shows its summary
 * (lane, change, title) and the "waiting for …" details. Debian's Chromium, driven by playwright-core; `.ci/run`
 * installs it when missing. A screenshot is kept under test-results/ui/ as the artifact.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort, startDevServer } from '../../src/server/dev-server';
import { ensureSearchAttributes } from '../../src/server/namespace-setup';
import { statusQuery } from '../../src/workflows/messages';
import { freshChange, grantEnvelope, harness, makeKeys, quietRuntime, startLane, waitFor, type Harness } from '../support/lanes';

const CHROMIUM = process.env.LANES_CHROMIUM ?? '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
if (missing) process.stderr.write(`\n${'!'.repeat(80)}\nWEB UI BROWSER TEST SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set LANES_CHROMIUM)\n${'!'.repeat(80)}\n`);
const ARTIFACTS = join(__dirname, '..', '..', 'test-results', 'ui');


describe.skipIf(missing)(`Temporal Web UI in headless Chromium${missing ? ` (SKIPPED: no ${CHROMIUM})` : ''}`, () => {
  let server: TestWorkflowEnvironment;
  let uiPort: number;
  let h: Harness;
  let stopWorker: () => Promise<void>;
  let browser: Browser | undefined;
  const keys = makeKeys();

  beforeAll(async () => {
    // The run's shared server has no UI; this one does, on ports of its own. The runtime is installed first:
    // starting a server would otherwise instantiate it with the SDK's noisy defaults.
    quietRuntime();
    uiPort = await freePort();
    server = await startDevServer({ port: await freePort(), uiPort });
    const connection = await Connection.connect({ address: server.address });
    await ensureSearchAttributes(connection, 'default');
    await connection.close();
    h = await harness({ address: server.address });
    stopWorker = (await h.startWorker(keys.trustRootPath)).stop;
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stopWorker?.();
    await h?.close();
    await server?.teardown();
  });

  it("shows a waiting lane's summary and what it is waiting for", async () => {
    const change = freshChange({ blockers: false });
    const { workflowId } = await startLane(h, keys, { lane: 'rehearsal', change });
    const handle = h.client.workflow.getHandle(workflowId);
    await waitFor('the lane to wait for its grant', async () => ((await handle.query(statusQuery)).state === 'WAITING_FOR_GRANT' ? true : undefined));

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Without these Chromium keeps trying Google's hosts, which this machine's closed network refuses.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
    // Summary, details and current details live on the workflow page's "User Metadata" tab.
    await page.getByText('User Metadata', { exact: true }).first().click({ timeout: 30_000 });
    // The UI renders summary and details (Markdown) inside sandboxed iframes, one per block: look in each frame,
    // and count a match only if its iframe is visible on the page.
    const shownIn = async (text: string) => {
      for (const frame of page.frames()) {
        if (frame === page.mainFrame()) continue;
        const body = await frame.locator('body').innerText({ timeout: 1000 }).catch(() => '');
        if (body.includes(text) && (await (await frame.frameElement()).isVisible())) return true;
      }
      return undefined;
    };
    const summaryText = `rehearsal lane — ${change.id}: ${change.title}`;
    const waitingText = 'Waiting for AUTHORIZE_REHEARSAL from an owner';
    try {
      await waitFor('the summary in the UI', () => shownIn(summaryText), 30_000);
      await waitFor('the "waiting for" details in the UI', () => shownIn(waitingText), 30_000);
    } finally {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'waiting-lane.png'), fullPage: true });
    }
    expect(await shownIn(summaryText)).toBe(true);
    expect(await shownIn(waitingText)).toBe(true);
    // And a text the lane never wrote is not found: the check can fail.
    expect(await shownIn('Waiting for REAL_RUN')).toBeUndefined();
    await handle.signal('hold', grantEnvelope(keys, workflowId, change.id, 'rehearsal', 'HOLD'));
  });
});
