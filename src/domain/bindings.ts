/**
 * The content hashes envelopes are bound to (DESIGN.md §Grants): one definition each, used by the CLI that signs,
 * the workflow that shows and the workers that verify, so "the spec the owner approved" means the same bytes
 * everywhere. Pure and sandbox-safe.
 */
import type { BlockerMap } from './blocker-map';
import type { ChangeSpec } from './change-spec';
import { canonicalSha256 } from './hashing';

/** sha256 of the canonical change spec: its steps' SQL, targets, surface, blocker map and rules, all of it. */
export function specHashOf(change: ChangeSpec): string {
  return canonicalSha256(change);
}

/** sha256 of one state of a change's blocker map (statuses and proofs included): what OPT4_PRODUCTION approves. */
export function blockerStateHash(map: BlockerMap | null | undefined): string {
  return canonicalSha256({ blockers: map ?? null });
}
