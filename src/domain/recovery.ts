/**
 * Recovery is a decision, not a dead end: an execution that failed or held after applying some steps leaves
 * production half-applied, and the product says so — in `lanes status`, the decision packet and the Web UI — and
 * offers exactly two ways on besides HOLD: roll back the applied steps (the rollback lane) or resume from the first
 * step not applied, under fresh grants (a precheck and an execution started with --resume-from). Pure.
 */
import type { LaneStatus } from './lane-status';

export interface HalfApplied {
  /** The steps production holds from this execution and any it resumed, in spec order. */
  applied: string[];
  /** The first step not applied: where a resume starts. */
  resumeFrom: string;
}

/** The half-applied state an execution lane's status shows; undefined when it is not one. */
export function halfApplied(status: LaneStatus): HalfApplied | undefined {
  if (status.lane !== 'execution' || (status.state !== 'FAILED' && status.state !== 'HOLD')) return undefined;
  const steps = status.steps ?? [];
  const applied = steps.filter((s) => s.state === 'APPLIED' || s.state === 'APPLIED_EARLIER').map((s) => s.id);
  const next = steps.find((s) => s.state !== 'APPLIED' && s.state !== 'APPLIED_EARLIER');
  if (applied.length === 0 || !next) return undefined;
  return { applied, resumeFrom: next.id };
}

export function halfAppliedLine(h: HalfApplied): string {
  return `production is half-applied: steps ${h.applied.join(', ')} applied`;
}

/** The two ways on from a half-applied production, besides HOLD (the default). */
export function recoveryOptions(h: HalfApplied): { id: string; text: string }[] {
  return [
    { id: 'ROLLBACK_PRODUCTION', text: `roll back ${h.applied.join(', ')} in reverse order (\`lanes start rollback\`; OPT4_PRODUCTION + PROD_ROLLBACK naming the passed rehearsal)` },
    { id: 'RESUME_PRODUCTION_EXECUTION', text: `resume from step ${h.resumeFrom} under fresh grants (\`lanes start precheck --resume-from ${h.resumeFrom}\`, then \`lanes start execution --resume-from ${h.resumeFrom}\`)` },
  ];
}
