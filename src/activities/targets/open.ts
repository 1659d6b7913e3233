/**
 * Which target a change's lanes work on, from its spec: the one place that turns `targets` into a connection.
 * PostgreSQL URLs are read here from the worker's environment, by the variable names the spec gives.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { productionTarget, type ChangeSpec } from '../../domain/change-spec';
import { closePgliteTargets, pgliteClone, pgliteProduction } from './pglite';
import { closePostgresTargets, postgresClone, postgresProduction } from './postgres';
import type { CloneTarget, Target } from './target';

export function urlFromEnv(name: string, field: string): string {
  const value = process.env[name];
  const fix = `set ${name} in the worker's environment to a postgres:// URL (field ${field} of the change spec names it)`;
  if (!value) throw ApplicationFailure.nonRetryable(`environment variable ${name} is not set; ${fix}`, 'TargetNotConfigured');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw ApplicationFailure.nonRetryable(`environment variable ${name} is not a URL; ${fix}`, 'TargetNotConfigured');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw ApplicationFailure.nonRetryable(`environment variable ${name} has scheme ${url.protocol}, not postgres:; ${fix}`, 'TargetNotConfigured');
  }
  return value;
}

/**
 * Where targets are opened: a worker's place, or a bare LANES_HOME path (one machine: tests, benches). A PGlite
 * target lives in that directory.
 */
export type TargetHome = string | { lanesHome: string; cluster: boolean };

/**
 * A cluster's workers (src/worker/config.ts, isClusterMode) must all see the same production; a PGlite one is a
 * database inside one host's LANES_HOME, so each would see its own. Refused before anything is opened or created,
 * by every lane activity (scoping too, so a lane that cannot go further stops at its first step).
 */
export function refuseSingleHostTarget(home: TargetHome, change: ChangeSpec): void {
  if (productionTarget(change).engine === 'pglite') singleHostHome(home, change);
}

function singleHostHome(home: TargetHome, change: ChangeSpec): string {
  if (typeof home === 'string') return home;
  if (home.cluster) {
    throw ApplicationFailure.nonRetryable(
      `change ${change.id} targets a PGlite production, but this worker runs in cluster mode (LANES_EVIDENCE_URL names a shared evidence store): ` +
        "PGlite is an in-process database on one host's disk, so every other worker would see a different production and clone. " +
        'Declare targets.production {"engine": "postgres", "urlEnv": "…"} and targets.clone {"engine": "postgres", "urlEnv": "…"} in the change spec; nothing was opened or changed',
      'TargetNotClusterSafe',
    );
  }
  return home.lanesHome;
}

/**
 * The change's production. `readOnly` lanes (dry-run, precheck) connect as the read-only role the spec names in
 * `targets.production.readOnlyUrlEnv`, when it names one, so the server itself refuses their writes too.
 */
export async function openProduction(home: TargetHome, change: ChangeSpec, opts: { readOnly?: boolean } = {}): Promise<Target> {
  const t = productionTarget(change);
  if (t.engine === 'pglite') return pgliteProduction(singleHostHome(home, change), t.name);
  if (opts.readOnly && t.readOnlyUrlEnv) return postgresProduction(urlFromEnv(t.readOnlyUrlEnv, 'targets.production.readOnlyUrlEnv'));
  return postgresProduction(urlFromEnv(t.urlEnv, 'targets.production.urlEnv'));
}

/** A clone for the rehearsal: empty, or production-shaped (made from production by the engine's dump and load). */
export async function openClone(home: TargetHome, change: ChangeSpec, shaped: boolean): Promise<CloneTarget> {
  const t = productionTarget(change);
  if (t.engine === 'pglite') {
    const lanesHome = singleHostHome(home, change);
    return pgliteClone(shaped ? await pgliteProduction(lanesHome, t.name) : undefined);
  }
  const clone = change.targets!.clone!;
  const source = shaped ? postgresProduction(urlFromEnv(t.urlEnv, 'targets.production.urlEnv')) : undefined;
  return postgresClone(urlFromEnv(clone.urlEnv, 'targets.clone.urlEnv'), source);
}

/** Closes every production connection this process opened (worker shutdown, tests). */
export async function closeTargets(): Promise<void> {
  await Promise.all([closePgliteTargets(), closePostgresTargets()]);
}
