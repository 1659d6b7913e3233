/**
 * Which workflow type runs each lane. Lanes not listed are not built yet; `lanes start` says so plainly rather
 * than starting something that cannot run. No SDK imports: the CLI reads this too.
 */
import type { LaneKind } from '../domain/vocabulary';

export const LANE_WORKFLOW_TYPES: Partial<Record<LaneKind, string>> = {
  rehearsal: 'rehearsalLane',
};
