/**
 * Secured clusters (issue 6): the CLI and the worker reach Temporal through TLS and mTLS, by flags and by
 * environment variables. The test puts a real TLS terminator (node:tls, ALPN h2, client certificates required)
 * in front of the run's dev server, with a CA and certificates made by openssl for this run. API keys cannot be
 * checked by a TLS terminator, so their options are unit-tested.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { applyGlobalFlags, connectionOptions, securityFromEnv } from '../../src/worker/connection-options';
import { createLaneWorkers } from '../../src/worker/lane-worker';
import { UserError } from '../../src/cli/user-error';
import { freshChange, makeKeys, quietRuntime, startLane, type Harness } from '../support/lanes';
import type { LaneStatus } from '../../src/domain/lane-status';

const LANES = join(__dirname, '..', '..', 'bin', 'lanes.js');
const dir = mkdtempSync(join(tmpdir(), 'lanes-tls-'));
const pem = (name: string) => join(dir, name);

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for localhost, a client certificate, and a stranger CA nobody trusts. */
function makePki(): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) openssl(['req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=${ca}`]);
  for (const [name, usage, san] of [['server', 'serverAuth', 'DNS:localhost,IP:127.0.0.1'], ['client', 'clientAuth', 'DNS:lanes-client']] as const) {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    writeFileSync(pem(`${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
}

/** TLS in front of the dev server: requires a client certificate from our CA (mTLS), speaks h2 like gRPC. */
function tlsProxy(target: string): Promise<{ server: NetServer; address: string }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const server = createServer(
    { key: readFileSync(pem('server.key')), cert: readFileSync(pem('server.pem')), ca: readFileSync(pem('ca.pem')), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (socket) => {
      const upstream = connect(port, host);
      socket.pipe(upstream).pipe(socket);
      const end = () => (socket.destroy(), upstream.destroy());
      socket.on('error', end);
      upstream.on('error', end);
    },
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, address: `localhost:${(server.address() as { port: number }).port}` })));
}

function lanes(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [LANES, ...args], { env: { ...process.env, NO_COLOR: '1', TEMPORAL_ADDRESS: 'unused:1', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe('secured clusters: TLS and mTLS through a real TLS terminator', () => {
  let proxy: { server: NetServer; address: string };
  beforeAll(async () => {
    makePki();
    proxy = await tlsProxy(inject('temporal').address);
  });
  afterAll(() => proxy?.server.close());

  it('the CLI connects with mTLS by flags, and by environment variables', async () => {
    const byFlags = await lanes(['list', '--change', 'no-such-change', '--address', proxy.address, '--tls-ca', pem('ca.pem'), '--tls-cert', pem('client.pem'), '--tls-key', pem('client.key')]);
    expect([byFlags.code, byFlags.stdout, byFlags.stderr]).toEqual([0, 'no lanes match\n', '']);
    const byEnv = await lanes(['list', '--change', 'no-such-change'], {
      TEMPORAL_ADDRESS: proxy.address, TEMPORAL_TLS_CA_PATH: pem('ca.pem'), TEMPORAL_TLS_CERT_PATH: pem('client.pem'), TEMPORAL_TLS_KEY_PATH: pem('client.key'),
    });
    expect(byEnv.code).toBe(0);
  });

  it('is refused without a client certificate, with an untrusted CA, or with a missing or half-given cert pair', async () => {
    const noCert = await lanes(['list', '--address', proxy.address, '--tls-ca', pem('ca.pem')]);
    expect([noCert.code, noCert.stderr]).toEqual([1, expect.stringMatching(/cannot reach Temporal at localhost:\d+/)]);
    const otherCa = await lanes(['list', '--address', proxy.address, '--tls-ca', pem('other-ca.pem'), '--tls-cert', pem('client.pem'), '--tls-key', pem('client.key')]);
    expect(otherCa.code).toBe(1);
    const plain = await lanes(['list', '--address', proxy.address]);
    expect(plain.code).toBe(1);
    const missing = await lanes(['list', '--address', proxy.address, '--tls-cert', join(dir, 'nope.pem'), '--tls-key', pem('client.key')]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/cannot read the client certificate at .*nope\.pem \(TEMPORAL_TLS_CERT_PATH\): no such file/)]);
    const half = await lanes(['list', '--address', proxy.address, '--tls-cert', pem('client.pem')]);
    expect([half.code, half.stderr]).toEqual([2, expect.stringMatching(/mTLS needs both TEMPORAL_TLS_CERT_PATH \(--tls-cert\) and TEMPORAL_TLS_KEY_PATH/)]);
  });

  it('a worker over mTLS runs a lane that a client over mTLS started', async () => {
    quietRuntime();
    const sec = securityFromEnv({ TEMPORAL_TLS_CA_PATH: pem('ca.pem'), TEMPORAL_TLS_CERT_PATH: pem('client.pem'), TEMPORAL_TLS_KEY_PATH: pem('client.key') });
    const native = await NativeConnection.connect(connectionOptions(proxy.address, sec));
    const connection = await Connection.connect(connectionOptions(proxy.address, sec));
    const keys = makeKeys();
    const h = { client: new Client({ connection, namespace: 'default' }), address: proxy.address, taskQueue: `tls-${Date.now()}`, lanesHome: mkdtempSync(join(tmpdir(), 'lanes-tls-home-')) } as Harness;
    const workers = await createLaneWorkers({ connection: native, namespace: 'default', taskQueue: h.taskQueue, activities: { trustRootPath: keys.trustRootPath, lanesHome: h.lanesHome }, workflowBundle: { codePath: inject('temporal').bundlePath } });
    const running = workers.run();
    try {
      const { workflowId } = await startLane(h, keys, { lane: 'scoping', change: freshChange() });
      const result = (await h.client.workflow.getHandle(workflowId).result()) as LaneStatus;
      expect(result.state).toBe('COMPLETED');
    } finally {
      workers.shutdown();
      await running;
      await native.close();
      await connection.close();
    }
  });
});

describe('connection options (API key, flags, environment)', () => {
  it('an API key implies TLS unless TLS is turned off, and is never a flag', () => {
    expect(connectionOptions('x:7233', securityFromEnv({ TEMPORAL_API_KEY: 'k-123' }))).toEqual({ address: 'x:7233', tls: {}, apiKey: 'k-123' });
    expect(connectionOptions('x:7233', securityFromEnv({ TEMPORAL_API_KEY: 'k-123', TEMPORAL_TLS: 'false' }))).toEqual({ address: 'x:7233', apiKey: 'k-123' });
    expect(connectionOptions('x:7233', securityFromEnv({}))).toEqual({ address: 'x:7233' });
    expect(connectionOptions('x:7233', securityFromEnv({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }))).toEqual({ address: 'x:7233', tls: { serverNameOverride: 'temporal.internal' } });
    expect(() => applyGlobalFlags(['list', '--api-key', 'secret'], {})).toThrow(/TEMPORAL_API_KEY/);
    expect(() => securityFromEnv({ TEMPORAL_TLS: 'off', TEMPORAL_TLS_CA_PATH: '/ca.pem' })).toThrow(UserError);
  });

  it('global flags anywhere in the command line become the variables, and leave the rest', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(applyGlobalFlags(['status', '--tls', 'wf-1', '--address=h:7233', '--namespace', 'ns', '--json'], env)).toEqual(['status', 'wf-1', '--json']);
    expect(env).toEqual({ TEMPORAL_TLS: 'true', TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_NAMESPACE: 'ns' });
    expect(() => applyGlobalFlags(['list', '--tls-ca'], {})).toThrow(/--tls-ca needs a value/);
  });
});
