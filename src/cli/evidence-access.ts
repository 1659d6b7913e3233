/**
 * The evidence stores a CLI command reads: this machine's LANES_HOME and, when LANES_EVIDENCE_URL is set (the same
 * variable the workers read), the shared store. The CLI keeps nothing it fetched in LANES_HOME: it only reads. What
 * it reads from the shared store counts only when a worker of the trust root (LANES_TRUST_ROOT) attested it.
 */
import type { LanesConfig } from '../worker/config';
import { TrustRootError, type TrustRoot } from '../domain/trust-root';
import { readTrustRootFile } from '../worker/trust-root-file';
import type { EvidenceStores } from '../evidence/evidence-stores';
import { closeEvidenceStores, evidenceUrlProblem, openEvidenceStores } from '../evidence/open-store';
import { UserError } from './user-error';

export function openCliEvidence(cfg: Pick<LanesConfig, 'lanesHome' | 'evidenceUrl'>): { stores: EvidenceStores; close(): Promise<void> } {
  const problem = cfg.evidenceUrl ? evidenceUrlProblem(cfg.evidenceUrl) : undefined;
  if (problem) throw new UserError(problem, 2);
  return { stores: openEvidenceStores(cfg, { cache: false }), close: closeEvidenceStores };
}

/**
 * The trust root whose worker keys attest what the shared store holds: LANES_TRUST_ROOT. Undefined when no shared
 * store is used (this disk only); a UserError when one is but no trust root says whose attestations count.
 */
export async function cliTrustRoot(cfg: Pick<LanesConfig, 'trustRootPath' | 'evidenceUrl'>): Promise<TrustRoot | undefined> {
  if (!cfg.evidenceUrl) return undefined;
  if (!cfg.trustRootPath) throw new UserError('LANES_TRUST_ROOT is not set: what the shared evidence store (LANES_EVIDENCE_URL) holds counts only when a worker listed in the trust root attested it; set LANES_TRUST_ROOT to the trust root the workers use', 2);
  try {
    return await readTrustRootFile(cfg.trustRootPath);
  } catch (err) {
    if (err instanceof TrustRootError) throw new UserError(err.message);
    throw err;
  }
}
