/**
 * Reads a change spec from JSON or YAML and validates it. Errors name the file, the field and its line, so the
 * operator can go straight to the mistake.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { changeSpecSchema, type ChangeSpec } from '../domain/change-spec';
import { UserError } from './user-error';

export function readChangeSpec(path: string): ChangeSpec {
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
  const parsed = changeSpecSchema.safeParse(withBlockerMapFile(doc.toJS(), path));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 10).map((issue) => {
    const node = doc.getIn(issue.path as (string | number)[], true);
    const parent = issue.path.length > 0 ? doc.getIn(issue.path.slice(0, -1) as (string | number)[], true) : doc.contents;
    const at = isNode(node) ? node : isNode(parent) ? parent : undefined;
    const line = at?.range ? `:${lines.linePos(at.range[0]).line}` : '';
    const field = issue.path.map(String).join('.') || '(top level)';
    return `  ${path}${line}: ${field}: ${issue.message}`;
  });
  throw new UserError(`change spec ${path} is not valid:\n${problems.join('\n')}\nFix the fields above; \`lanes change validate ${path}\` re-checks.`);
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
