/**
 * Signals and queries (DESIGN.md §Messages). Signals are durable even when no worker is running; the CLI
 * signals, then polls `status` to learn whether its envelope was accepted or rejected.
 *
 * Lanes and their change entity (`change:<changeId>`) also talk to each other by signal: a lane reports its
 * start, the nonces it accepted and its outcome; the entity answers with a ChangeView.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { LaneStatus } from '../domain/lane-status';
import type { BlockerMap } from '../domain/blocker-map';
import type { ChangeView } from '../domain/gate-rules';
import type { ChangeState, LaneFinished, LaneStarted, NonceClaim } from '../domain/change-state';

/** An owner's signed grant envelope (raw, unverified: the lane verifies it). */
export const grantSignal = defineSignal<[unknown]>('grant');
/** An owner's signed HOLD: the lane stops waiting and ends in HOLD. */
export const holdSignal = defineSignal<[unknown]>('hold');
/** An owner's signed REVOKE naming one grant id: that grant no longer counts, from this moment on. */
export const revokeSignal = defineSignal<[unknown]>('revoke');
/** An operator input: `{ envelope, content }`, the envelope signing the content's sha256 (`lanes input`). */
export const inputSignal = defineSignal<[unknown]>('input');
export const statusQuery = defineQuery<LaneStatus>('status');
/** On a lane: the blocker map as the lane last heard it. On the change entity: the map itself (seeds/004 shape). */
export const blockersQuery = defineQuery<BlockerMap | null>('blockers');

/** Change entity → lane. */
export const changeViewSignal = defineSignal<[ChangeView]>('changeView');

/** Lane → change entity. */
export const laneStartedSignal = defineSignal<[LaneStarted]>('laneStarted');
export const nonceClaimSignal = defineSignal<[NonceClaim]>('nonceClaim');
export const laneFinishedSignal = defineSignal<[LaneFinished]>('laneFinished');
/** Owner or operator → change entity: a signed BLOCKER_UPDATE envelope. */
export const blockerUpdateSignal = defineSignal<[unknown]>('blockerUpdate');
/** Owner → change entity: a signed CHARTER of the entity's blocker map and rules. */
export const charterSignal = defineSignal<[unknown]>('charter');
export const changeQuery = defineQuery<ChangeState>('change');

export function changeWorkflowId(changeId: string): string {
  return `change:${changeId}`;
}
