/** Which workflow type runs each lane. No SDK imports: the CLI reads this too. */
import type { LaneKind } from '../domain/vocabulary';

export const LANE_WORKFLOW_TYPES: Record<LaneKind, string> = {
  scoping: 'scopingLane',
  rehearsal: 'rehearsalLane',
  'dry-run': 'dryRunLane',
  precheck: 'precheckLane',
  execution: 'executionLane',
  rollback: 'rollbackLane',
};

export const CHANGE_WORKFLOW_TYPE = 'changeEntity';
