/**
 * Resuming a half-applied change (an execution that failed or held after some steps): the operator signs, in the
 * START of a precheck and then of an execution, the step to resume from. The steps before it are the ones
 * production's ledger must hold as applied by another run of this change under this very spec, and nothing else;
 * the resumed execution applies only the steps from it on, each under fresh grants. Pure: the CLI, the workflow and
 * the workers read it alike.
 */
import type { ChangeSpec } from './change-spec';

/** The index of the step a resume starts at; 0 for a plain lane; -1 when the spec has no such step. */
export function resumeIndex(change: ChangeSpec, resumeFrom: string | undefined): number {
  return resumeFrom === undefined ? 0 : change.steps.findIndex((s) => s.id === resumeFrom);
}

/** The steps a resumed execution applies (all of them for a plain one). */
export function stepsToApply(change: ChangeSpec, resumeFrom: string | undefined): ChangeSpec['steps'] {
  return change.steps.slice(Math.max(0, resumeIndex(change, resumeFrom)));
}

/** The steps production must already hold, applied by an earlier run of the change, for a resume to proceed. */
export function stepsAppliedBefore(change: ChangeSpec, resumeFrom: string | undefined): string[] {
  return change.steps.slice(0, Math.max(0, resumeIndex(change, resumeFrom))).map((s) => s.id);
}

/**
 * Why a precheck packet does not open this execution as far as resuming goes; undefined when it does. A resumed
 * execution needs a precheck that checked the same resume (production held exactly the steps before it); a plain
 * one needs a plain precheck (which found nothing applied).
 */
export function precheckResumeProblem(precheck: unknown, resumeFrom: string | undefined): string | undefined {
  const checked = (precheck as { resumeFrom?: unknown } | null)?.resumeFrom;
  if (checked === resumeFrom) return undefined;
  if (resumeFrom === undefined) return `it checked a resume from step ${String(checked)}, and this execution is not one`;
  return `it checked ${checked === undefined ? 'a plain execution' : `a resume from step ${String(checked)}`}, not a resume from step ${resumeFrom}`;
}
