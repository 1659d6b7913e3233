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

/**
 * Exceptions a surface may declare to the SQL containment check (src/sql/): each lets steps use one class of
 * statement that is otherwise refused. Part of the signed spec, so the owner sees and signs the exception.
 * Transaction and session control, server-level statements (ALTER SYSTEM, LOAD, COPY … PROGRAM or to/from files,
 * dblink, server file and signal functions) and the `gated_lanes` bookkeeping schema have no exception.
 */
export const SQL_ALLOWANCES = ['dynamic-sql', 'roles', 'database', 'extensions', 'maintenance'] as const;
export type SqlAllowance = (typeof SQL_ALLOWANCES)[number];

/** What a change spec's step does, each its own owner grant on an execution lane. */
export const STEP_ACTIONS = ['APPLY', 'PERMIT', 'ACTIVATION', 'REPOINT', 'CUTOVER'] as const;

/** A step id: what grants, evidence and the production ledger name a step by. */
export const STEP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The name of an environment variable holding a database URL (the spec names variables, never URLs). */
export const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;

/** The longest an armed step may stay armed: a moment, not a standing permission. */
export const MAX_ARM_WINDOW_MS = 60 * 60 * 1000;
/** A precondition's name: what a HOLD names when it does not hold. */
export const PRECONDITION_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
