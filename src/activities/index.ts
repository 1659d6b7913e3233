/**
 * The lane activities, bound to a worker's configuration. Workflows import only the *type* of this object
 * (DESIGN.md §Layout), so none of this code enters the workflow sandbox.
 */
import type { TrustRoot } from '../domain/trust-root';
import type { EvidenceRef } from '../domain/lane-status';
import { readTrustRoot } from './trust-root';
import { rehearse, type RehearsalRequest } from './rehearsal';

export interface ActivityConfig {
  /** Path of the trust root JSON (LANES_TRUST_ROOT). */
  trustRootPath: string | undefined;
  /** Where lanes keep local state and evidence (default `.lanes`). */
  lanesHome: string;
}

export function createLaneActivities(config: ActivityConfig) {
  return {
    loadTrustRoot: (): Promise<TrustRoot> => readTrustRoot(config.trustRootPath),
    rehearseOnClone: (req: RehearsalRequest): Promise<EvidenceRef> => rehearse(config.lanesHome, req),
  };
}

export type LaneActivities = ReturnType<typeof createLaneActivities>;
