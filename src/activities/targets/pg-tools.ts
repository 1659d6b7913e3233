/**
 * PostgreSQL's own dump and restore programs, for making a production-shaped clone on a real server. Connection
 * details go to them through libpq's environment variables, never on the command line, so a password is not
 * visible in the process list; their error output is passed on (libpq never prints passwords).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The newest installed client programs (pg_dump must be at least the server's major version). */
export function pgBinary(name: 'pg_dump' | 'pg_restore'): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = join(root, v, 'bin', name);
    if (existsSync(p)) return p;
  }
  return name; // from PATH; a clear error follows if it is not there either
}

/** libpq environment for a connection URL (host, port, user, password, database, sslmode). */
export function libpqEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = {};
  if (u.hostname) env.PGHOST = decodeURIComponent(u.hostname);
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (db) env.PGDATABASE = db;
  const ssl = u.searchParams.get('sslmode');
  if (ssl) env.PGSSLMODE = ssl;
  return env;
}

/** A URL's connection details without the password: what evidence and messages may show. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `postgres://${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
}

function run(cmd: string, args: string[], env: Record<string, string>, stdin?: NodeJS.ReadableStream): { done: Promise<void>; stdout: NodeJS.ReadableStream } {
  const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  // pg_restore may stop reading early (--exit-on-error): a broken pipe is its failure to report, not ours to crash on.
  if (stdin) {
    child.stdin!.on('error', () => undefined);
    stdin.pipe(child.stdin!);
  }
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`${cmd} could not start (${e.message}); install PostgreSQL's client programs (Debian: postgresql-client)`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd.split('/').pop()} failed (exit ${code}): ${err.trim().slice(-2000)}`))));
  });
  return { done, stdout: child.stdout! };
}

/** pg_dump of `sourceUrl` loaded into `targetUrl` (an empty database), without owners or privileges. */
export async function dumpAndLoad(sourceUrl: string, targetUrl: string): Promise<void> {
  const dump = run(pgBinary('pg_dump'), ['--format=custom', '--no-owner', '--no-privileges'], libpqEnv(sourceUrl));
  const load = run(pgBinary('pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${libpqEnv(targetUrl).PGDATABASE}`], libpqEnv(targetUrl), dump.stdout);
  await Promise.all([dump.done, load.done]);
}
