/**
 * The workflow's hand-written lane input check (src/workflows/lane-input-check.ts) against the zod schema the CLI
 * and the workers use: for generated inputs — valid specs of every shape, then fields deleted, replaced by other
 * JSON values, near misses or unknown fields — both accept or both refuse, and an accepted input comes out as
 * the same JSON, byte for byte (defaults filled in, fields in the schema's order: what the lane hashes and writes).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { changeSpecSchema } from '../../src/domain/change-spec';
import { checkLaneInput } from '../../src/workflows/lane-input-check';
import { validLaneInput } from '../../src/workflows/lane-input';
import { readChangeSpecForTest } from '../support/fixtures';

/** The schema the workflow used before the hand-written check (its oracle now). */
const duration = z.number().int().positive().max(365 * 24 * 60 * 60 * 1000);
const oracle = z.object({ change: changeSpecSchema, start: z.unknown(), grantTimeoutMs: duration.optional(), shaped: z.boolean().optional(), precheckValidForMs: duration.optional() }).strict();

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const demo = JSON.parse(JSON.stringify(readChangeSpecForTest())) as { [k: string]: Json };
const BASES: Json[] = [
  { change: demo, start: { envelope: 'x' } },
  { change: { v: 1, id: 'c1', title: 't', steps: [{ id: 's1', action: 'APPLY', apply: 'SELECT 1', rollback: 'SELECT 2', description: 'd' }] }, start: null, grantTimeoutMs: 60_000, shaped: true, precheckValidForMs: 1000 },
  {
    change: {
      v: 1,
      id: 'pg.change',
      title: 'pg',
      description: 'x',
      surface: { tables: ['t'], allow: ['roles', 'dynamic-sql'] },
      targets: { production: { engine: 'postgres', urlEnv: 'PROD_URL', readOnlyUrlEnv: 'RO_URL', readTimeouts: { statementMs: 5000, lockMs: 100 } }, clone: { engine: 'postgres', urlEnv: 'CLONE_URL', sameClusterAsProduction: true } },
    },
    start: 1,
  },
  { change: { v: 1, id: 'pgl', title: 'p', surface: {}, steps: [], targets: { production: { engine: 'pglite', name: 'prod-1', readTimeouts: { statementMs: 1, lockMs: 600000 } } } }, start: 'x' },
];

/** Every path to a value inside `v`. */
function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const here = [at];
  if (Array.isArray(v)) return [...here, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v && typeof v === 'object') return [...here, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return here;
}

type Mutation = { kind: 'delete' | 'set' | 'add'; pick: number; value: Json; key: string };

function mutate(base: Json, m: Mutation): Json {
  const copy = JSON.parse(JSON.stringify(base)) as Json;
  const all = paths(copy).filter((p) => p.length > 0);
  if (all.length === 0) return copy;
  const path = all[m.pick % all.length]!;
  let parent = copy as { [k: string]: Json } | Json[];
  for (const k of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[k] as { [k: string]: Json } | Json[];
  const last = path.at(-1)!;
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last as string];
  } else if (m.kind === 'set') (parent as Record<string | number, Json>)[last] = m.value;
  else {
    const target = (parent as Record<string | number, Json>)[last];
    if (target && typeof target === 'object' && !Array.isArray(target)) target[m.key] = m.value;
    else if (Array.isArray(target)) target.push(m.value);
  }
  return copy;
}

/** Values close to what the schema wants, so mutations hit its edges rather than only its type checks. */
const nearMiss: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>('', 'x', 'APPLY', 'DEPLOY', 'pglite', 'postgres', 'PROD_URL', 'bad url', 'roles', 'nope', 'a'.repeat(65), 'a'.repeat(201), 'OPEN', 'CLOSED', 0, 1, 2, -1, 1.5, 600_000, 600_001, 31_536_000_000, 31_536_000_001, true, false, null, [], {}, ['t'], ['roles', 'roles'], { engine: 'pglite' }, { engine: 'postgres', urlEnv: 'X' }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);
const mutation: fc.Arbitrary<Mutation> = fc.record({ kind: fc.constantFrom<Mutation['kind']>('delete', 'set', 'set', 'add'), pick: fc.nat(), value: nearMiss, key: fc.constantFrom('extra', 'id', 'v', 'steps', 'clone', 'rules', 'allow', 'readTimeouts', 'description', 'start') });

function compare(input: Json): void {
  const expected = oracle.safeParse(input);
  const actual = checkLaneInput(input);
  expect(actual.ok, `${JSON.stringify(input)}\nzod: ${expected.success ? 'accepts' : JSON.stringify(expected.error.issues.slice(0, 2))}\nours: ${actual.ok ? 'accepts' : JSON.stringify(actual.issues.slice(0, 2))}`).toBe(expected.success);
  if (expected.success && actual.ok) expect(JSON.stringify(actual.value)).toBe(JSON.stringify(expected.data));
}

describe('the lane input check written for workflow code', () => {
  it('accepts the valid bases exactly as the zod schema does, with the same output', () => {
    for (const b of BASES) {
      expect(oracle.safeParse(b).success).toBe(true);
      compare(b);
    }
  });

  it('agrees with the zod schema on generated inputs (accept/refuse, and the value)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...BASES), fc.array(mutation, { minLength: 1, maxLength: 3 }), (base, ms) => compare(ms.reduce(mutate, base))),
      { numRuns: 3000 },
    );
  });

  it('agrees on cross-field rules: duplicate step ids, clone vs engine, duplicate allowances, rules naming no blocker', () => {
    const c = BASES[1] as { change: { steps: Json[] } };
    compare({ ...c, change: { ...c.change, steps: [...c.change.steps, ...c.change.steps] } });
    compare({ change: { v: 1, id: 'a', title: 't', targets: { production: { engine: 'postgres', urlEnv: 'A' } } } });
    compare({ change: { v: 1, id: 'a', title: 't', targets: { production: { engine: 'pglite', name: 'a' }, clone: { engine: 'postgres', urlEnv: 'A' } } } });
    compare({ change: { v: 1, id: 'a', title: 't', surface: { allow: ['roles', 'roles'] } } });
    compare({ change: { ...demo, blockers: { ...(demo.blockers as object), rules: { 'NO-SUCH-BLOCKER': { grants: ['REAL_RUN'] } } } } });
  });

  it('refuses in the workflow with the field named and the reason (LaneInputInvalid)', () => {
    expect(() => validLaneInput({ change: { ...demo, steps: 'DROP TABLE x' }, start: 1 })).toThrow(/lane input refused: change\.steps expected an array/);
    expect(() => validLaneInput({ change: demo, start: 1, skipGate: true })).toThrow(/lane input refused: \(input\) has unknown field\(s\) skipGate/);
  });
});
