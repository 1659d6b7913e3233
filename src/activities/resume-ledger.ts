/**
 * Whether production's ledger lets a half-applied change resume from a step (src/domain/resume.ts): exactly the
 * spec's steps before it are applied (by earlier runs of this change, none rolled back since) and under this very
 * spec (the change's baseline names the spec its first step ran under). Read by the precheck (read-only) and, in
 * the step's own transaction under the change's lock, by the ledger claim of a resumed execution.
 */
import type { TargetSession } from './targets/target';
import { readBaseline } from './rollback-ledger';

const exists = async (s: TargetSession, table: string) =>
  Boolean((await s.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]))[0]?.t);

/** Why production does not stand where a resume from the step after `appliedBefore` expects; undefined when it does. */
export async function resumeProblem(s: TargetSession, changeId: string, specHash: string, appliedBefore: readonly string[]): Promise<string | undefined> {
  const rows = (await exists(s, 'gated_lanes.applied_steps'))
    ? await s.query<{ step_id: string; spec_hash: string | null }>('SELECT step_id, spec_hash FROM gated_lanes.applied_steps WHERE change_id = $1 ORDER BY step_id', [changeId])
    : [];
  const applied = rows.map((r) => r.step_id);
  // Each step as the spec that applied it: one applied under another spec of the change is not this spec's prefix.
  const foreign = rows.filter((r) => r.spec_hash !== specHash);
  if (foreign.length > 0) {
    return `step${foreign.length === 1 ? '' : 's'} ${foreign.map((r) => r.step_id).join(', ')} of change ${changeId} ${foreign.length === 1 ? 'was' : 'were'} applied under ${foreign.some((r) => r.spec_hash === null) ? 'a spec production did not record' : 'another change spec'}, not this spec ${specHash.slice(0, 16)}…: only the spec that applied them may resume`;
  }
  const want = [...appliedBefore].sort();
  if (applied.length !== want.length || applied.some((id, i) => id !== want[i])) {
    return `a resume from here expects exactly ${want.join(', ') || 'no step'} applied, and production's ledger holds ${applied.join(', ') || 'none'} for change ${changeId}`;
  }
  if (await exists(s, 'gated_lanes.rolled_back_steps')) {
    const undone = await s.query<{ step_id: string }>('SELECT step_id FROM gated_lanes.rolled_back_steps WHERE change_id = $1 ORDER BY step_id', [changeId]);
    if (undone.length > 0) return `change ${changeId} was rolled back (${undone.map((r) => r.step_id).join(', ')}): a rolled-back change is not resumed`;
  }
  const baseline = await readBaseline(s, changeId);
  if (!baseline) return `change ${changeId} has no recorded baseline: its steps were applied by a release that did not record which spec they ran under`;
  if (baseline.specHash !== specHash) return `change ${changeId} was applied under change spec ${baseline.specHash.slice(0, 16)}…, not this spec ${specHash.slice(0, 16)}…: only the spec that was applied may resume`;
  return undefined;
}
