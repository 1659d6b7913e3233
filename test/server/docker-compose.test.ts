/**
 * Static checks of the Docker setup (docker-compose.yml, Dockerfile): no Docker engine is needed, so these catch
 * a renamed service, a wrong port or a COPY of a path that no longer exists before a user with Docker does.
 */
import { describe, expect, inject, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { SERVER_VERSION, UI_VERSION } from '../../src/server/provision-temporal';
import { SQL_PLUGIN } from '../../src/server/cluster';

const REPO = join(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: string[] | Record<string, string | number | boolean | null>;
  ports?: (string | number | { target?: number | string; published?: number | string; host_ip?: string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: string[] | Record<string, unknown>;
  command?: string | string[];
  container_name?: string;
}
interface ComposeFile {
  services?: Record<string, ComposeService>;
}

function loadCompose(): Record<string, ComposeService> {
  const doc = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')) as ComposeFile;
  return doc.services ?? {};
}

/** `environment:` as a list (`- KEY=value`) or as a map, normalised to a map of strings. */
function envOf(service: ComposeService | undefined): Record<string, string> {
  const env = service?.environment;
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const entry of env) {
      const eq = entry.indexOf('=');
      if (eq === -1) out[entry] = '';
      else out[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } else if (env) {
    for (const [k, v] of Object.entries(env)) out[k] = v === null ? '' : String(v);
  }
  return out;
}

/** `depends_on:` as a list or as a map (`name: { condition: ... }`), normalised to the service names. */
function dependsOn(service: ComposeService | undefined): string[] {
  const d = service?.depends_on;
  if (!d) return [];
  return Array.isArray(d) ? d : Object.keys(d);
}

/** Published ports as { ip, host, container }; short syntax `[ip:]host:container[/proto]` or long syntax. No ip = all interfaces. */
function portsOf(service: ComposeService | undefined): { ip: string | undefined; host: string | undefined; container: string }[] {
  return (service?.ports ?? []).map((p) => {
    if (typeof p === 'object') return { ip: p.host_ip, host: p.published === undefined ? undefined : String(p.published), container: String(p.target) };
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const container = parts[parts.length - 1] ?? '';
    return { ip: parts.length > 2 ? parts.slice(0, -2).join(':') : undefined, host: parts.length > 1 ? parts[parts.length - 2] : undefined, container };
  });
}

/** Mount targets of `volumes:`; short syntax `source:target[:mode]` or long syntax. */
function mountTargets(service: ComposeService | undefined): string[] {
  return (service?.volumes ?? []).map((v) => {
    if (typeof v === 'object') return v.target ?? '';
    const parts = v.split(':');
    return parts.length === 1 ? (parts[0] ?? '') : (parts[1] ?? '');
  });
}

function hostAndPort(address: string | undefined): { host: string; port: string } {
  const m = /^([^:]+):(\d+)$/.exec(address ?? '');
  return { host: m?.[1] ?? '', port: m?.[2] ?? '' };
}

function commandOf(service: ComposeService | undefined): string[] {
  const c = service?.command;
  if (c === undefined) return [];
  return Array.isArray(c) ? c : c.split(/\s+/).filter(Boolean);
}

describe('docker-compose.yml', () => {
  const services = loadCompose();
  const names = Object.keys(services);

  it('defines postgresql, temporal, temporal-ui and worker', () => {
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'worker']) expect(names).toContain(name);
  });

  it('publishes Temporal on 7233, on the loopback interface only', () => {
    expect(portsOf(services.temporal)).toContainEqual({ ip: '127.0.0.1', host: '7233', container: '7233' });
  });

  it('publishes nothing on all interfaces: the frontend and the UI authenticate no one (SECURITY.md)', () => {
    const open = Object.entries(services).flatMap(([name, svc]) => portsOf(svc).filter((p) => p.ip !== '127.0.0.1').map((p) => `${name} ${p.host}:${p.container}`));
    expect(open).toEqual([]);
  });

  it('publishes the UI on host port 8233, pointed at the temporal service', () => {
    expect(portsOf(services['temporal-ui']).map((p) => p.host)).toContain('8233');
    expect(hostAndPort(envOf(services['temporal-ui']).TEMPORAL_ADDRESS)).toEqual({ host: 'temporal', port: '7233' });
  });

  it('points the worker at a Temporal service on 7233', () => {
    const { host, port } = hostAndPort(envOf(services.worker).TEMPORAL_ADDRESS);
    expect(names).toContain(host);
    expect(port).toBe('7233');
    expect(portsOf(services[host]).map((p) => p.container)).toContain('7233');
    expect(dependsOn(services.worker)).toContain('temporal');
  });

  it.each(['LANES_TRUST_ROOT', 'LANES_WORKER_KEY'])('gives the worker %s inside a mounted volume', (variable) => {
    const path = envOf(services.worker)[variable] ?? '';
    expect(path).toMatch(/^\//);
    const inside = mountTargets(services.worker).filter((t) => {
      const rel = posix.relative(t, path);
      return t !== '' && rel !== '' && !rel.startsWith('..') && !posix.isAbsolute(rel);
    });
    expect(inside, `${variable}=${path} is not under any of ${mountTargets(services.worker).join(', ')}`).not.toHaveLength(0);
  });

  it('builds the worker from a Dockerfile in the repo, running `lanes worker`', () => {
    const build = services.worker?.build;
    expect(build).toBeDefined();
    const context = typeof build === 'string' ? build : (build?.context ?? '.');
    const dockerfile = typeof build === 'object' && build.dockerfile ? build.dockerfile : 'Dockerfile';
    expect(existsSync(join(REPO, context, dockerfile)), `${join(context, dockerfile)} does not exist`).toBe(true);
    const cmd = commandOf(services.worker);
    if (cmd.length > 0) expect(cmd.slice(-2)).toEqual(['bin/lanes.js', 'worker']);
  });

  it('points Temporal at the postgresql service with its credentials', () => {
    const env = envOf(services.temporal);
    expect(env.DB).toMatch(/^postgres/);
    expect(names).toContain(env.POSTGRES_SEEDS);
    const db = services[env.POSTGRES_SEEDS ?? ''];
    expect(db?.image).toMatch(/^postgres:/);
    expect(env.POSTGRES_USER).toBe(envOf(db).POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(envOf(db).POSTGRES_PASSWORD);
  });

  it('only depends on services that exist', () => {
    const deps = names.flatMap((n) => dependsOn(services[n]).map((d) => `${n} -> ${d}`));
    expect(deps.length).toBeGreaterThan(0);
    const dangling = deps.filter((edge) => !names.includes(edge.split(' -> ')[1] ?? ''));
    expect(dangling).toEqual([]);
  });
});

describe('docker-compose.yml agrees with the cluster the tests run (npm run cluster, test/cluster)', () => {
  const services = loadCompose();

  it('runs the Temporal server and Web UI versions the cluster script builds, on the same SQL plugin', () => {
    expect(services.temporal?.image).toBe(`temporalio/auto-setup:${SERVER_VERSION}`);
    expect(envOf(services.temporal).DB).toBe(SQL_PLUGIN);
    expect(services['temporal-ui']?.image).toBe(`temporalio/ui:${UI_VERSION}`);
  });

  it("runs the PostgreSQL major version the suite's PostgreSQL server runs", () => {
    const pg = inject('postgres');
    if ('skipped' in pg) return;
    const major = /^(\d+)/.exec(pg.version)?.[1]; // SHOW server_version: "15.18 (Debian …)"
    expect(services.postgresql?.image).toBe(`postgres:${major}`);
  });

  it('gives every worker the shared evidence store, a database the postgresql service makes on first start', () => {
    const url = new URL(envOf(services.worker).LANES_EVIDENCE_URL ?? '');
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('postgresql');
    const init = (services.postgresql?.volumes ?? []).map(String).find((v) => v.includes('/docker-entrypoint-initdb.d/'));
    expect(init, 'an init script mounted into the postgres image').toBeDefined();
    const sql = readFileSync(join(REPO, init!.split(':')[0]!), 'utf8');
    const db = url.pathname.slice(1);
    expect(sql).toContain(`CREATE ROLE ${url.username} LOGIN PASSWORD '${decodeURIComponent(url.password)}'`);
    expect(sql).toContain(`CREATE DATABASE ${db} OWNER ${url.username}`);
  });

  it('scales workers like separate hosts (--scale worker=3): no fixed name or port, no shared LANES_HOME', () => {
    const worker = services.worker!;
    expect(worker.container_name).toBeUndefined();
    expect(portsOf(worker)).toEqual([]);
    const home = envOf(worker).LANES_HOME ?? '';
    const shared = mountTargets(worker).filter((t) => home === t || home.startsWith(`${t}/`));
    expect(shared, 'LANES_HOME is on a volume every replica would share').toEqual([]);
  });
});

describe('Dockerfile', () => {
  /** Instructions with line continuations joined and comments dropped. */
  const instructions = readFileSync(join(REPO, 'Dockerfile'), 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('runs `bin/lanes.js worker` by default', () => {
    const cmds = instructions.filter((l) => /^CMD\s/i.test(l));
    expect(cmds.length).toBeGreaterThan(0);
    const last = cmds[cmds.length - 1] ?? '';
    const body = last.replace(/^CMD\s+/i, '');
    const argv: string[] = body.startsWith('[') ? (JSON.parse(body) as string[]) : body.split(/\s+/);
    expect(argv.slice(-2)).toEqual(['bin/lanes.js', 'worker']);
  });

  it('only COPYs paths that exist in the repo', () => {
    const sources = instructions
      .filter((l) => /^(COPY|ADD)\s/i.test(l) && !/\s--from=/i.test(l))
      .flatMap((l) => {
        const args = l.split(/\s+/).slice(1).filter((a) => !a.startsWith('--'));
        return args.slice(0, -1);
      });
    expect(sources.length).toBeGreaterThan(0);
    const missing = sources.filter((s) => !existsSync(join(REPO, s)));
    expect(missing).toEqual([]);
  });
});
