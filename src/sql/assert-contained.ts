/**
 * The containment check at the point of use: every lane activity that runs or reads a change's SQL calls this
 * first, so a spec that reached a workflow without the CLI (or was validated by an older one) is still checked.
 * Non-retryable: the same SQL fails the same way on every attempt.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { ChangeSpec } from '../domain/change-spec';
import { sqlContainmentProblems } from './containment';
import { specHashOf } from '../domain/bindings';

/**
 * Verdicts by canonical spec hash: the check is a pure function of the spec, and a worker sees the same spec at every
 * step of an execution (bench P7). Bounded, so a stream of specs cannot grow it.
 */
const verdicts = new Map<string, string[]>();
const MAX_VERDICTS = 256;

export async function assertSqlContained(spec: ChangeSpec): Promise<void> {
  const key = specHashOf(spec);
  let problems = verdicts.get(key);
  if (!problems) {
    problems = await sqlContainmentProblems(spec);
    if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
    verdicts.set(key, problems);
  }
  if (problems.length === 0) return;
  const shown = problems.slice(0, 20).map((p) => `- ${p}`);
  if (problems.length > shown.length) shown.push(`- … and ${problems.length - shown.length} more`);
  throw ApplicationFailure.nonRetryable(
    `change ${spec.id}: its SQL is not contained in its declared surface:\n${shown.join('\n')}\nFix the spec (\`lanes change validate\` shows the same) and start a new lane.`,
    'SqlNotContained',
  );
}
