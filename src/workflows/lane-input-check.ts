/**
 * The lane input check, written out by hand for workflow code: it accepts and refuses exactly what the zod
 * schemas the CLI and the workers use accept and refuse (`changeSpecSchema` in src/domain/change-spec.ts, strict,
 * with its defaults), and returns the same value. test/domain/lane-input-check.test.ts holds it to that, input by
 * generated input, against those schemas.
 *
 * Why not the schemas themselves: every cached workflow evaluates the modules it imports afresh (the SDK's
 * reusable V8 context), and each zod schema instance costs dozens of closures, so importing change-spec.ts from
 * workflow code cost every parked lane its own copy of the spec's schemas (bench/NOTES.md). This check is
 * bookkeeping anyway: the workers verify the spec against what START signed at the point of action.
 * The blocker map and rules are still checked with their zod schemas: workflow code loads those modules anyway.
 */
import { blockerMapSchema } from '../domain/blocker-map';
import { blockerRuleSchema, ruleProblems } from '../domain/blocker-rules';
import { CHANGE_ID } from '../domain/envelope';
import { ENV_NAME, MAX_ARM_WINDOW_MS, PRECONDITION_NAME, SQL_ALLOWANCES, STEP_ACTIONS, STEP_ID } from '../domain/vocabulary';
import { durationMs } from '../domain/duration';

export interface Issue {
  path: (string | number)[];
  message: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: Json, k: string) => Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined;

/** Collects issues under a path and builds the checked value, field by field, in the schema's order. */
class Checker {
  readonly issues: Issue[] = [];

  issue(path: (string | number)[], message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  /** An object with exactly these keys (any other is an issue), or undefined after recording why not. */
  strict(v: unknown, path: (string | number)[], keys: readonly string[]): Json | undefined {
    if (!isObject(v)) return this.issue(path, 'expected an object');
    const unknown = Object.keys(v).filter((k) => !keys.includes(k));
    if (unknown.length > 0) this.issue(path, `has unknown field(s) ${unknown.join(', ')}`);
    return v;
  }

  string(v: unknown, path: (string | number)[], opts: { min?: number; max?: number; pattern?: RegExp } = {}): string | undefined {
    if (typeof v !== 'string') return this.issue(path, 'expected a string');
    if (opts.min !== undefined && v.length < opts.min) return this.issue(path, `must be at least ${opts.min} character(s)`);
    if (opts.max !== undefined && v.length > opts.max) return this.issue(path, `must be at most ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(v)) return this.issue(path, `must match ${opts.pattern}`);
    return v;
  }

  int(v: unknown, path: (string | number)[], min: number, max: number): number | undefined {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return this.issue(path, 'expected a whole number');
    if (v < min || v > max) return this.issue(path, `must be between ${min} and ${max}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: (string | number)[], values: readonly T[]): T | undefined {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) return this.issue(path, `expected one of ${values.join(', ')}`);
    return v as T;
  }

  array<T>(v: unknown, path: (string | number)[], item: (x: unknown, p: (string | number)[]) => T): T[] | undefined {
    if (!Array.isArray(v)) return this.issue(path, 'expected an array');
    return v.map((x, i) => item(x, [...path, i]));
  }

  /** Copies the fields that are present (in `keys` order) through their checks: the output zod's strict objects give. */
  fields(o: Json, path: (string | number)[], checks: Record<string, (v: unknown, p: (string | number)[]) => unknown>): Json {
    const out: Json = {};
    for (const [k, check] of Object.entries(checks)) if (has(o, k)) out[k] = check(o[k], [...path, k]);
    return out;
  }
}

function readTimeouts(c: Checker, v: unknown, path: (string | number)[]): unknown {
  const o = c.strict(v, path, ['statementMs', 'lockMs']);
  if (!o) return undefined;
  for (const k of ['statementMs', 'lockMs']) if (!has(o, k)) c.issue([...path, k], 'is required');
  return c.fields(o, path, { statementMs: (x, p) => c.int(x, p, 1, 600_000), lockMs: (x, p) => c.int(x, p, 1, 600_000) });
}

function precondition(c: Checker, v: unknown, path: (string | number)[]): unknown {
  const o = c.strict(v, path, ['name', 'sql', 'expect']);
  if (!o) return undefined;
  for (const k of ['name', 'sql', 'expect']) if (!has(o, k)) c.issue([...path, k], 'is required');
  return c.fields(o, path, {
    name: (x, p) => c.string(x, p, { pattern: PRECONDITION_NAME }),
    sql: (x, p) => c.string(x, p, { min: 1, max: 4000 }),
    expect: (x, p) => (typeof x === 'number' || typeof x === 'boolean' ? x : c.string(x, p, { max: 200 })),
  });
}

function step(c: Checker, v: unknown, path: (string | number)[]): unknown {
  const o = c.strict(v, path, ['id', 'action', 'description', 'apply', 'rollback', 'window', 'preconditions']);
  if (!o) return undefined;
  for (const k of ['id', 'action', 'apply', 'rollback']) if (!has(o, k)) c.issue([...path, k], 'is required');
  if (has(o, 'preconditions') && !has(o, 'window')) c.issue([...path, 'window'], 'is required when a step declares preconditions (they are checked while it is armed)');
  return c.fields(o, path, {
    id: (x, p) => c.string(x, p, { pattern: STEP_ID }),
    action: (x, p) => c.oneOf(x, p, STEP_ACTIONS),
    description: (x, p) => c.string(x, p, { max: 2000 }),
    apply: (x, p) => c.string(x, p, { min: 1 }),
    rollback: (x, p) => c.string(x, p, { min: 1 }),
    window: (x, p) => {
      const ms = typeof x === 'string' ? durationMs(x) : undefined;
      if (ms === undefined) return c.issue(p, 'must be a duration like 90s, 15m or 1h');
      return ms <= MAX_ARM_WINDOW_MS ? x : c.issue(p, 'must be at most 1h: an armed step is a moment');
    },
    preconditions: (x, p) => {
      if (Array.isArray(x) && (x.length < 1 || x.length > 10)) return c.issue(p, 'must list 1 to 10 preconditions');
      return c.array(x, p, (y, q) => precondition(c, y, q));
    },
  });
}

function production(c: Checker, v: unknown, path: (string | number)[]): unknown {
  if (!isObject(v)) return c.issue(path, 'expected an object');
  if (v.engine === 'pglite') {
    const o = c.strict(v, path, ['engine', 'name', 'readTimeouts'])!;
    if (!has(o, 'name')) c.issue([...path, 'name'], 'is required');
    return c.fields(o, path, { engine: (x) => x, name: (x, p) => c.string(x, p, { pattern: CHANGE_ID }), readTimeouts: (x, p) => readTimeouts(c, x, p) });
  }
  if (v.engine === 'postgres') {
    const o = c.strict(v, path, ['engine', 'urlEnv', 'readOnlyUrlEnv', 'readTimeouts'])!;
    if (!has(o, 'urlEnv')) c.issue([...path, 'urlEnv'], 'is required');
    return c.fields(o, path, {
      engine: (x) => x,
      urlEnv: (x, p) => c.string(x, p, { pattern: ENV_NAME }),
      readOnlyUrlEnv: (x, p) => c.string(x, p, { pattern: ENV_NAME }),
      readTimeouts: (x, p) => readTimeouts(c, x, p),
    });
  }
  return c.issue([...path, 'engine'], 'expected "pglite" or "postgres"');
}

function clone(c: Checker, v: unknown, path: (string | number)[]): unknown {
  const o = c.strict(v, path, ['engine', 'urlEnv', 'sameClusterAsProduction']);
  if (!o) return undefined;
  if (o.engine !== 'postgres') c.issue([...path, 'engine'], 'expected "postgres"');
  if (!has(o, 'urlEnv')) c.issue([...path, 'urlEnv'], 'is required');
  return c.fields(o, path, {
    engine: (x) => x,
    urlEnv: (x, p) => c.string(x, p, { pattern: ENV_NAME }),
    sameClusterAsProduction: (x, p) => (x === true ? x : c.issue(p, 'expected true')),
  });
}

/** What a zod schema makes of a value: its output, or its issues under `path`. */
function viaSchema(c: Checker, schema: { safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, v: unknown, path: (string | number)[]): unknown {
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  for (const i of r.error.issues) c.issue([...path, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], i.message);
  return undefined;
}

function blockers(c: Checker, v: unknown, path: (string | number)[]): unknown {
  const o = c.strict(v, path, ['map', 'rules']);
  if (!o) return undefined;
  if (!has(o, 'map')) c.issue([...path, 'map'], 'is required');
  return c.fields(o, path, {
    map: (x, p) => viaSchema(c, blockerMapSchema, x, p),
    rules: (x, p) => {
      if (!isObject(x)) return c.issue(p, 'expected an object');
      const out: Json = {};
      for (const k of Object.keys(x)) out[k] = viaSchema(c, blockerRuleSchema, x[k], [...p, k]);
      return out;
    },
  });
}

/** The change spec, as changeSpecSchema parses it: its value with defaults filled in, or the issues. */
function checkChangeSpec(c: Checker, v: unknown, path: (string | number)[]): Json | undefined {
  const o = c.strict(v, path, ['v', 'id', 'title', 'description', 'surface', 'steps', 'targets', 'blockers']);
  if (!o) return undefined;
  const before = c.issues.length;
  if (!has(o, 'v')) c.issue([...path, 'v'], 'is required');
  for (const k of ['id', 'title']) if (!has(o, k)) c.issue([...path, k], 'is required');
  const spec = c.fields(o, path, {
    v: (x, p) => (x === 1 ? x : c.issue(p, 'expected 1')),
    id: (x, p) => c.string(x, p, { pattern: CHANGE_ID }),
    title: (x, p) => c.string(x, p, { min: 1, max: 200 }),
    description: (x, p) => c.string(x, p, { max: 10_000 }),
    surface: (x, p) => {
      const s = c.strict(x, p, ['tables', 'functions', 'allow']);
      if (!s) return undefined;
      const names = (y: unknown, q: (string | number)[]) => c.array(y, q, (n, r) => c.string(n, r, { min: 1 }));
      const out = c.fields(s, p, { tables: names, functions: names, allow: (y, q) => c.array(y, q, (a, r) => c.oneOf(a, r, SQL_ALLOWANCES)) });
      // The schema's defaults, in its field order.
      return { tables: out.tables ?? [], functions: out.functions ?? [], ...(has(s, 'allow') ? { allow: out.allow } : {}) };
    },
    steps: (x, p) => c.array(x, p, (st, q) => step(c, st, q)),
    targets: (x, p) => {
      const t = c.strict(x, p, ['production', 'clone']);
      if (!t) return undefined;
      if (!has(t, 'production')) c.issue([...p, 'production'], 'is required');
      return c.fields(t, p, { production: (y, q) => production(c, y, q), clone: (y, q) => clone(c, y, q) });
    },
    blockers: (x, p) => blockers(c, x, p),
  });
  if (!has(o, 'steps')) spec.steps = [];
  const ordered: Json = {};
  for (const k of ['v', 'id', 'title', 'description', 'surface', 'steps', 'targets', 'blockers']) if (k in spec) ordered[k] = spec[k];
  if (c.issues.length > before) return undefined;
  crossChecks(c, ordered, path);
  return c.issues.length > before ? undefined : ordered;
}

/** The schema's refinements: what no single field shows. */
function crossChecks(c: Checker, spec: Json, path: (string | number)[]): void {
  const steps = spec.steps as { id: string }[];
  const seen = new Set<string>();
  steps.forEach((s, i) => {
    if (seen.has(s.id)) c.issue([...path, 'steps', i, 'id'], `duplicate step id "${s.id}"`);
    seen.add(s.id);
  });
  const targets = spec.targets as { production: { engine: string }; clone?: unknown } | undefined;
  const engine = targets?.production.engine;
  if (engine === 'postgres' && !targets?.clone) c.issue([...path, 'targets', 'clone'], 'a postgres production needs targets.clone');
  if (engine !== 'postgres' && targets?.clone) c.issue([...path, 'targets', 'clone'], 'a PGlite production is cloned in memory; remove targets.clone or make production postgres');
  const allow = (spec.surface as { allow?: string[] } | undefined)?.allow ?? [];
  if (new Set(allow).size !== allow.length) c.issue([...path, 'surface', 'allow'], 'lists an exception twice; list each once');
  const b = spec.blockers as { map: { blockers: { id: string }[] }; rules?: Json } | undefined;
  const ids = new Set(b?.map.blockers.map((x) => x.id) ?? []);
  for (const id of Object.keys(b?.rules ?? {})) if (!ids.has(id)) c.issue([...path, 'blockers', 'rules', id], 'names no blocker in blockers.map');
  // Rules that would let fewer or other roles close a blocker than it names: the same check the spec schema makes.
  if (b) for (const problem of ruleProblems(b.map as never, b.rules as never)) c.issue([...path, 'blockers', 'rules', problem.split(':')[0]!], problem.slice(problem.indexOf(':') + 2));
}

const MAX_DURATION_MS = 365 * 24 * 60 * 60 * 1000;

/** The whole lane input: its value as the workflow uses it, or the issues that refuse it. */
export function checkLaneInput(raw: unknown): { ok: true; value: Json } | { ok: false; issues: Issue[] } {
  const c = new Checker();
  const o = c.strict(raw, [], ['change', 'start', 'grantTimeoutMs', 'shaped', 'precheckValidForMs', 'resumeFrom']);
  if (!o) return { ok: false, issues: c.issues };
  if (!has(o, 'change')) c.issue(['change'], 'is required');
  const value = c.fields(o, [], {
    change: (x, p) => checkChangeSpec(c, x, p),
    start: (x) => x,
    grantTimeoutMs: (x, p) => c.int(x, p, 1, MAX_DURATION_MS),
    shaped: (x, p) => (typeof x === 'boolean' ? x : c.issue(p, 'expected true or false')),
    precheckValidForMs: (x, p) => c.int(x, p, 1, MAX_DURATION_MS),
    resumeFrom: (x, p) => c.string(x, p, { min: 1, max: 64 }),
  });
  return c.issues.length > 0 ? { ok: false, issues: c.issues } : { ok: true, value };
}
