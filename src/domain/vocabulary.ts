/**
 * The words of our users (see DESIGN.md §Words), as closed sets. Everything that crosses a trust boundary is
 * checked against these lists, so an unknown lane or action is a validation error, never a silent default.
 */
export const LANE_KINDS = ['scoping', 'rehearsal', 'dry-run', 'precheck', 'execution', 'rollback'] as const;
export type LaneKind = (typeof LANE_KINDS)[number];

export const GRANT_ACTIONS = [
  'AUTHORIZE_REHEARSAL',
  'AUTHORIZE_DRYRUN',
  'AUTHORIZE_PRECHECK',
  'OPT4_PRODUCTION',
  'REAL_RUN',
  'APPLY',
  'PERMIT',
  'ACTIVATION',
  'REPOINT',
  'CUTOVER',
  'PROD_ROLLBACK',
] as const;
export type GrantAction = (typeof GRANT_ACTIONS)[number];

/**
 * Lane states, as shown by the `status` query and the `LaneState` search attribute.
 * HOLD is a normal, successful ending: the owner said no, or said nothing before the deadline.
 */
export const LANE_STATES = ['STARTING', 'WAITING_FOR_GRANT', 'RUNNING', 'COMPLETED', 'HOLD', 'FAILED'] as const;
export type LaneState = (typeof LANE_STATES)[number];

/**
 * The grants each lane needs before its gated work may be scheduled. One grant never implies another.
 * Execution's per-step grants (APPLY, PERMIT, …) are added from the change's declared steps by the Lane-engine.
 */
export const LANE_REQUIRED_GRANTS: Readonly<Record<LaneKind, readonly GrantAction[]>> = {
  scoping: [],
  rehearsal: ['AUTHORIZE_REHEARSAL'],
  'dry-run': ['AUTHORIZE_DRYRUN', 'OPT4_PRODUCTION'],
  precheck: ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION'],
  execution: ['OPT4_PRODUCTION', 'REAL_RUN'],
  // The way back from an execution: production, and the rehearsal that proved this spec's rollback SQL.
  rollback: ['OPT4_PRODUCTION', 'PROD_ROLLBACK'],
};

/** Execution needs, beyond OPT4_PRODUCTION and REAL_RUN, one grant per action its steps declare, in step order. */
export function requiredGrants(lane: LaneKind, stepActions: readonly GrantAction[] = []): GrantAction[] {
  const base = [...LANE_REQUIRED_GRANTS[lane]];
  if (lane !== 'execution') return base;
  for (const a of stepActions) if (!base.includes(a)) base.push(a);
  return base;
}

export const ROLES = ['owner', 'operator'] as const;
export type Role = (typeof ROLES)[number];
