/**
 * P6: SQL containment cost per step (goal < 5 ms): PostgreSQL's parser (WASM), the tree walk, PL/pgSQL bodies and
 * the surface check, for every step's apply and rollback SQL (src/sql/containment.ts). Baseline, in the same run:
 * `JSON.parse` of the same change spec's JSON text, the cheapest thing any reader of the spec does with it.
 */
import { sqlContainmentProblems } from '../src/sql/containment';
import { loadSqlParser } from '../src/sql/parser';
import type { ChangeSpec } from '../src/domain/change-spec';
import { measured, seconds, type BenchResult, type Log } from './measure';

/** A step of each kind a change usually has: DDL, DML with a subquery and a CTE, a SQL and a PL/pgSQL function. */
const STEP_SQL: { apply: string; rollback: string }[] = [
  { apply: 'ALTER TABLE birth_registry ADD COLUMN verified boolean NOT NULL DEFAULT false; CREATE INDEX birth_registry_verified_idx ON birth_registry (verified);', rollback: 'ALTER TABLE birth_registry DROP COLUMN verified;' },
  {
    apply: "WITH old AS (SELECT object_id FROM birth_registry WHERE born_at < now() - interval '1 year') UPDATE birth_registry SET origin = lower(origin) || ' (migrated)' WHERE object_id IN (SELECT object_id FROM old);",
    rollback: "UPDATE birth_registry SET origin = replace(origin, ' (migrated)', '') WHERE origin LIKE '% (migrated)';",
  },
  { apply: "CREATE FUNCTION fn_birth_register(p_object_id text, p_origin text) RETURNS void LANGUAGE sql AS $$ INSERT INTO birth_registry (object_id, origin) VALUES (p_object_id, p_origin) $$;", rollback: 'DROP FUNCTION fn_birth_register(text, text);' },
  {
    apply: `CREATE FUNCTION fn_birth_touch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
  n := (SELECT count(*) FROM birth_registry WHERE origin = NEW.origin);
  IF n > 1000 THEN RAISE EXCEPTION 'too many births from %', NEW.origin; END IF;
  NEW.origin := coalesce(NEW.origin, 'unknown');
  RETURN NEW;
END $$;
CREATE TRIGGER birth_registry_touch BEFORE INSERT ON birth_registry FOR EACH ROW EXECUTE FUNCTION fn_birth_touch();`,
    rollback: 'DROP TRIGGER birth_registry_touch ON birth_registry; DROP FUNCTION fn_birth_touch();',
  },
];

export async function sqlParsing(opts: { repeat: number; log: Log; steps?: number }): Promise<BenchResult> {
  const n = opts.steps ?? 200;
  const spec: ChangeSpec = {
    v: 1,
    id: 'bench-sql',
    title: 'bench',
    surface: { tables: ['birth_registry'], functions: ['fn_birth_register', 'fn_birth_touch'] },
    steps: Array.from({ length: n }, (_, i) => ({ id: `step-${i}`, action: 'APPLY' as const, ...STEP_SQL[i % STEP_SQL.length]! })),
  };
  const text = JSON.stringify(spec);
  await loadSqlParser(); // once per process, like a worker: not part of the per-step cost
  const problems = await sqlContainmentProblems(spec);
  if (problems.length) throw new Error(`bench spec is not contained: ${problems[0]}`);
  opts.log(`P6: ${n} steps, checking ${opts.repeat}× (and JSON.parse of the same spec)`);
  const ours: number[] = [];
  const json: number[] = [];
  for (let r = 0; r < opts.repeat; r++) {
    ours.push((await seconds(() => sqlContainmentProblems(spec))) / n);
    // JSON.parse is far below timer resolution for one spec: time many and divide.
    json.push((await seconds(() => { for (let k = 0; k < 100; k++) JSON.parse(text); })) / 100 / n);
  }
  const subject = measured('sqlContainmentProblems, per step (apply + rollback)', ours);
  const baseline = measured('JSON.parse of the same spec, per step', json);
  return {
    id: 'P6',
    title: 'SQL containment (parse + validate) per step',
    goal: 'subject < 5 ms per step',
    ratioIs: 'our seconds / JSON.parse seconds (per step)',
    subject,
    baseline,
    ratio: subject.median / baseline.median,
    met: subject.median < 0.005,
    notes: [`${n} steps of 4 kinds (DDL, DML with CTE and subquery, SQL function, PL/pgSQL trigger function); ${(subject.median * 1000).toFixed(3)} ms per step; the WASM module is loaded once beforehand`],
  };
}
