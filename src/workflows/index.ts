/** The workflow bundle's entry: every lane workflow and the change entity the worker registers. */
export { scopingLane } from './scoping';
export { rehearsalLane } from './rehearsal';
export { dryRunLane } from './dry-run';
export { precheckLane } from './precheck';
export { executionLane } from './execution';
export { rollbackLane } from './rollback';
export { changeEntity } from './change';
