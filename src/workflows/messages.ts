/**
 * Signals and queries every lane understands (DESIGN.md §Messages). Signals are durable even when no worker is
 * running; the CLI signals, then polls `status` to learn whether its envelope was accepted or rejected.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { LaneStatus } from '../domain/lane-status';

/** An owner's signed grant envelope (raw, unverified: the lane verifies it). */
export const grantSignal = defineSignal<[unknown]>('grant');
/** An owner's signed HOLD: the lane stops waiting and ends in HOLD. */
export const holdSignal = defineSignal<[unknown]>('hold');
export const statusQuery = defineQuery<LaneStatus>('status');
