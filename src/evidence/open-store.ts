/**
 * Which evidence stores a process uses, from its configuration: LANES_HOME always, plus the shared store that
 * LANES_EVIDENCE_URL names. Workers and the CLI read the same variable, so `lanes evidence pull` on any machine sees
 * what every worker published. One pool per URL per process (a worker's lane and production sides share it).
 */
import type { WorkerHome } from '../worker/config';
import { EvidenceStores } from './evidence-stores';
import { PostgresEvidenceStore } from './postgres-store';
import { attesterOf } from './attestation';

const shared = new Map<string, PostgresEvidenceStore>();

/** Why LANES_EVIDENCE_URL cannot name a store, with how to fix it; undefined when it can. */
export function evidenceUrlProblem(url: string): string | undefined {
  const fix = 'set LANES_EVIDENCE_URL to a postgres:// URL of the shared evidence store (the PostgreSQL cluster Temporal uses will do), or unset it on a single machine';
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    return `LANES_EVIDENCE_URL is not a URL; ${fix}`;
  }
  return scheme === 'postgres:' || scheme === 'postgresql:' ? undefined : `LANES_EVIDENCE_URL has scheme ${scheme}, not postgres:; ${fix}`;
}

/**
 * A worker's stores (cache on) attest with its worker key, which cluster mode requires (checked whole at startup by
 * loadAttester); the CLI's (cache off) only read, and never hold a worker key.
 */
export function openEvidenceStores(home: WorkerHome, opts: { cache: boolean } = { cache: true }): EvidenceStores {
  if (!home.evidenceUrl) return new EvidenceStores(home.lanesHome, undefined, opts);
  const problem = evidenceUrlProblem(home.evidenceUrl);
  if (problem) throw new Error(problem);
  let store = shared.get(home.evidenceUrl);
  if (!store) shared.set(home.evidenceUrl, (store = new PostgresEvidenceStore(home.evidenceUrl)));
  return new EvidenceStores(home.lanesHome, store, { ...opts, ...(opts.cache ? { attester: attesterOf(home) } : {}) });
}

/** Closes every shared store connection this process opened (worker shutdown, the CLI, tests); a later use reopens. */
export async function closeEvidenceStores(): Promise<void> {
  await Promise.all([...shared.values()].map((s) => s.close()));
}
