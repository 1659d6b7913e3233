/**
 * What the activities of one worker work in: its LANES_HOME, whether it is one of a cluster's hosts, and the
 * evidence stores it writes to and resolves from. Built once per worker from its configuration.
 */
import { isClusterMode, type WorkerHome } from '../worker/config';
import type { EvidenceStores } from '../evidence/evidence-stores';
import { openEvidenceStores } from '../evidence/open-store';

export interface WorkerPlace {
  lanesHome: string;
  /** Workers on several hosts (src/worker/config.ts, isClusterMode): nothing may live on one host's disk only. */
  cluster: boolean;
  evidence: EvidenceStores;
}

export function placeOf(home: WorkerHome): WorkerPlace {
  return { lanesHome: home.lanesHome, cluster: isClusterMode(home), evidence: openEvidenceStores(home) };
}
