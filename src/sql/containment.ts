/**
 * SQL containment (issue "SQL containment with PostgreSQL's own parser"): every statement of every step's apply
 * and rollback SQL must touch only the declared surface and fall in no refused class, unless the surface's
 * `allow` names that class's exception. Run node-side wherever the SQL is read or used: the CLI when a change file
 * is read, and each lane's activities before they run anything (see assert-contained.ts).
 */
import type { ChangeSpec } from '../domain/change-spec';
import { analyzeSqlLoaded } from './analyze';
import { CLASS_LABEL, fixFor, type Finding } from './findings';
import { loadSqlParser, SqlSyntaxError } from './parser';
import { objectFinding, outsideSurface } from './surface';
import { preconditionProblems } from './preconditions';

export interface ContainmentIssue {
  /** Where in the spec: `['steps', i, 'apply' | 'rollback']`. */
  path: (string | number)[];
  stepId: string;
  which: 'apply' | 'rollback' | 'precondition';
  /** What is refused, where in the SQL, why, and how to fix it. */
  message: string;
}

/** A statement as messages quote it: one line, at most 60 characters. */
const quote = (text: string) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return `\`${line.length > 60 ? `${line.slice(0, 57)}…` : line}\``;
};

function issuesOf(sql: string, spec: ChangeSpec): string[] {
  let analysed;
  try {
    analysed = analyzeSqlLoaded(sql);
  } catch (err) {
    if (!(err instanceof SqlSyntaxError)) throw err;
    const at = err.at === undefined ? '' : ` at character ${err.at + 1}`;
    return [`PostgreSQL's parser refuses it${at}: ${err.message}; fix the SQL (\`psql\` shows the same error)`];
  }
  if (analysed.length === 0) return ['has no SQL statement (only comments or whitespace); write the SQL the step runs'];
  const allowed = new Set<string>(spec.surface?.allow ?? []);
  const out: string[] = [];
  for (const a of analysed) {
    const where = `statement ${a.statement.index} ${quote(a.statement.text)}`;
    const messages = new Set<string>();
    // A role named by ALTER ROLE is already said by "ALTER ROLE is a role statement": name roles only where new.
    const classes = new Set(a.findings.map((f) => f.class));
    const findings: Finding[] = [...a.findings, ...a.objects.flatMap((o) => objectFinding(o) ?? []).filter((f) => !classes.has(f.class))];
    for (const f of findings) if (!allowed.has(f.class)) messages.add(`${where}: ${f.what} (${CLASS_LABEL[f.class]}); ${fixFor(f.class, f.fix)}`);
    for (const o of a.objects) {
      const outside = outsideSurface(o, spec.surface);
      if (outside) messages.add(`${where}: ${outside.what}; ${outside.fix}`);
    }
    out.push(...messages);
  }
  return out;
}

/** Every containment problem of the spec's steps, each naming step, apply/rollback and statement. */
export async function sqlContainmentIssues(spec: ChangeSpec): Promise<ContainmentIssue[]> {
  await loadSqlParser();
  const out: ContainmentIssue[] = [];
  spec.steps.forEach((step, i) => {
    for (const which of ['apply', 'rollback'] as const) {
      for (const message of issuesOf(step[which], spec)) out.push({ path: ['steps', i, which], stepId: step.id, which, message });
    }
    // An armed step's live checks run on production too: each must be one plain read (preconditions.ts).
    (step.preconditions ?? []).forEach((p, j) => {
      for (const problem of preconditionProblems(p.sql, spec.surface)) {
        out.push({ path: ['steps', i, 'preconditions', j, 'sql'], stepId: step.id, which: 'precondition', message: `"${p.name}": ${problem}` });
      }
    });
  });
  return out;
}

/** The same problems as lines: `step <id> <apply|rollback>, <statement>: <what>; <fix>`. */
export async function sqlContainmentProblems(spec: ChangeSpec): Promise<string[]> {
  return (await sqlContainmentIssues(spec)).map((i) => `step ${i.stepId} ${i.which}, ${i.message}`);
}
