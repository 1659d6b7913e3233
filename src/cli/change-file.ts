/**
 * Reads a change spec from JSON or YAML and validates it. Errors name the file, the field and its line, so the
 * operator can go straight to the mistake.
 *
 * `readChangeSpec` checks the spec's structure (synchronously, as the schema the workflows share does);
 * `readContainedChangeSpec` also checks its steps' SQL with PostgreSQL's own parser (src/sql/containment.ts), which
 * loads a WASM module and so is async. Commands that accept a change file use the latter.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { changeSpecSchema, type ChangeSpec } from '../domain/change-spec';
import { sqlContainmentIssues } from '../sql/containment';
import { UserError } from './user-error';

interface ReadSpec {
  spec: ChangeSpec;
  /** `path:line` of a field of the file, for messages. */
  at(field: (string | number)[]): string;
}

function readSpec(path: string): ReadSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read change spec ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // YAML is a superset of JSON, so one parser serves both and gives line numbers for either.
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new UserError(`${path}:${pos.line}:${pos.col}: not valid JSON/YAML: ${e.message.split('\n')[0]}`);
  }
  const at = (field: (string | number)[]) => `${path}${lineOf(doc, lines, field)}`;
  const raw: unknown = doc.toJS();
  const parsed = changeSpecSchema.safeParse(withBlockerMapFile(raw, path));
  if (parsed.success) return { spec: parsed.data, at };
  const problems = parsed.error.issues.slice(0, 10).map((issue) => `  ${at(issue.path as (string | number)[])}: ${fieldName(raw, issue.path as (string | number)[])}: ${issue.message}`);
  throw new UserError(`change spec ${path} is not valid:\n${problems.join('\n')}\nFix the fields above; \`lanes change validate ${path}\` re-checks.`);
}

/** `steps.2.apply (step add-index)`: a field by its path and, inside a step, the step's own id, which is what its author knows it by. */
function fieldName(raw: unknown, field: (string | number)[]): string {
  const name = field.map(String).join('.') || '(top level)';
  if (field[0] !== 'steps' || typeof field[1] !== 'number') return name;
  const id = (raw as { steps?: { id?: unknown }[] } | null)?.steps?.[field[1]]?.id;
  return typeof id === 'string' && id !== '' ? `${name} (step ${id})` : name;
}

function lineOf(doc: Document, lines: LineCounter, field: (string | number)[]): string {
  const node = doc.getIn(field, true);
  const parent = field.length > 0 ? doc.getIn(field.slice(0, -1), true) : doc.contents;
  const at = isNode(node) ? node : isNode(parent) ? parent : undefined;
  return at?.range ? `:${lines.linePos(at.range[0]).line}` : '';
}

export function readChangeSpec(path: string): ChangeSpec {
  return readSpec(path).spec;
}

/** The spec, valid in structure and with every step's SQL contained in its surface; UserError otherwise. */
export async function readContainedChangeSpec(path: string): Promise<ChangeSpec> {
  const { spec, at } = readSpec(path);
  const issues = await sqlContainmentIssues(spec);
  if (issues.length === 0) return spec;
  const shown = issues.slice(0, 20).map((i) => `  ${at(i.path)}: steps.${i.path[1]}.${i.which} (step ${i.stepId}): ${i.message}`);
  if (issues.length > shown.length) shown.push(`  … and ${issues.length - shown.length} more`);
  throw new UserError(
    `change spec ${path}: its SQL reaches outside what the spec declares:\n${shown.join('\n')}\nFix the SQL or the surface above; \`lanes change validate ${path}\` re-checks.`,
  );
}

/** `blockers.map` may name a JSON file (relative to the spec), e.g. a blocker map kept as-is from the team's packet. */
function withBlockerMapFile(spec: unknown, specPath: string): unknown {
  const blockers = (spec as { blockers?: { map?: unknown } } | null)?.blockers;
  if (!blockers || typeof blockers.map !== 'string') return spec;
  const file = resolve(dirname(specPath), blockers.map);
  let map: unknown;
  try {
    map = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${specPath}: blockers.map: cannot read the blocker map ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { ...(spec as object), blockers: { ...blockers, map } };
}
