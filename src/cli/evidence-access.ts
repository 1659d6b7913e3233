/**
 * The evidence stores a CLI command reads: this machine's LANES_HOME and, when LANES_EVIDENCE_URL is set (the same
 * variable the workers read), the shared store. The CLI keeps nothing it fetched in LANES_HOME: it only reads.
 */
import type { LanesConfig } from '../worker/config';
import type { EvidenceStores } from '../evidence/evidence-stores';
import { closeEvidenceStores, evidenceUrlProblem, openEvidenceStores } from '../evidence/open-store';
import { UserError } from './user-error';

export function openCliEvidence(cfg: Pick<LanesConfig, 'lanesHome' | 'evidenceUrl'>): { stores: EvidenceStores; close(): Promise<void> } {
  const problem = cfg.evidenceUrl ? evidenceUrlProblem(cfg.evidenceUrl) : undefined;
  if (problem) throw new UserError(problem, 2);
  return { stores: openEvidenceStores(cfg, { cache: false }), close: closeEvidenceStores };
}
