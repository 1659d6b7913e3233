/** The non-mutating lane activities as workflows call them, each with the summary the Web UI shows. */
import { proxyActivities } from '@temporalio/workflow';
import type { LaneActivities } from '../activities';

// Workers heartbeat every activity while alive (src/worker/keep-alive.ts): a dead worker's activity is retried
// after the heartbeat timeout, not after its whole start-to-close budget. Retries are bounded by time, not by
// count: crashes are not the work's fault (failed proofs are non-retryable and end the lane at once).
const proxy = (summary: string, startToCloseTimeout = '30 minutes') =>
  proxyActivities<LaneActivities>({ startToCloseTimeout, scheduleToCloseTimeout: '2 hours', heartbeatTimeout: '10 seconds', retry: { maximumInterval: '30 seconds' }, summary });

export const { scopeChange } = proxy('record the declared surface, steps and blocker map (no database contact)', '5 minutes');
export const { rehearseOnClone } = proxy('rehearse apply + rollback on an isolated clone, proving after_rollback == before');
export const { dryRunProduction } = proxy('dry-run on production: BEGIN READ ONLY, steps tried and caught, entry == exit');
export const { precheckProduction } = proxy('real-run precheck on production, read-only');
export const { recordExecution } = proxy('record the execution evidence packet (read-only)', '10 minutes');
export const { recordRollback } = proxy("record the rollback evidence packet: production's fingerprint against the pre-execution baseline (read-only)", '10 minutes');
export const { writeDecisionPacket } = proxy('write the decision packet (selects nothing; default HOLD)', '2 minutes');
export const { runProbes } = proxy('run the bad-input probes: every one must fail closed', '5 minutes');
