/**
 * `lanes dev` (what `npm start` runs) as a person sees it: its own banner is the first thing on stdout — not the
 * dev server's (versions, ports, metrics URL) — and the SDK's "No workflows registered" warning for the
 * production worker (which registers none, by design) is not printed. A real dev server and worker, on ports of
 * the test's own, stopped with Ctrl-C (SIGINT).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/server/dev-server';

const LANES = join(__dirname, '..', '..', 'bin', 'lanes.js');

describe('lanes dev', () => {
  it('prints its own banner first, with no dev server banner and no SDK warning, and stops on Ctrl-C', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env, LANES_HOME: mkdtempSync(join(tmpdir(), 'lanes-dev-')), LANES_DEV_PORT: String(port), LANES_DEV_UI_PORT: String(uiPort), NO_COLOR: '1' };
    for (const k of ['TEMPORAL_ADDRESS', 'LANES_TRUST_ROOT', 'LANES_UI_URL', 'LANES_LOG_LEVEL']) delete env[k];
    const child = spawn(process.execPath, [LANES, 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!stdout.includes('Press Ctrl-C to stop.') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout, stderr).toContain('Press Ctrl-C to stop.');
      // Give a late warning (the production worker's first poll) time to appear.
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stdout.trimStart().startsWith('Gated Lanes is running.'), stdout).toBe(true);
    expect(stdout).toContain(`Temporal Web UI:  http://localhost:${uiPort}`);
    expect(stdout).toContain(`Temporal server:  127.0.0.1:${port}`);
    expect(stdout).not.toMatch(/Metrics:|^CLI \d/m);
    expect(stderr).not.toMatch(/No workflows registered/);
  }, 150_000);
});
