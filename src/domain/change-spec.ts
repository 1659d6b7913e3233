/**
 * The change spec (DESIGN.md §Words): one planned production change, as the operator declares it.
 * Strict on purpose: a misspelt field is an error, not an ignored line, because what is not read is not gated.
 * The Lane-engine and Targets issues extend this with targets, blockers and probes.
 */
import { z } from 'zod';
import { durationMs } from './duration';
import { CHANGE_ID } from './envelope';
import { blockerMapSchema } from './blocker-map';
import { blockerRuleSchema, ruleProblems } from './blocker-rules';
import { ENV_NAME, MAX_ARM_WINDOW_MS, PRECONDITION_NAME, SQL_ALLOWANCES, STEP_ACTIONS, STEP_ID } from './vocabulary';

// In vocabulary.ts, so workflow code can name them without evaluating this module's schemas (lane-input.ts).
export { SQL_ALLOWANCES, STEP_ACTIONS, type SqlAllowance } from './vocabulary';

const envName = z.string().regex(ENV_NAME, 'must name an environment variable (A-Z, 0-9, _), e.g. PROD_DATABASE_URL; put the URL itself in that variable, never in the spec');


/** Limits for the statements a read-only lane runs on production (SET LOCAL statement_timeout / lock_timeout). */
const readTimeoutsSchema = z
  .object({
    statementMs: z.number().int().min(1).max(600_000),
    lockMs: z.number().int().min(1).max(600_000),
  })
  .strict();

export { MAX_ARM_WINDOW_MS } from './vocabulary';

/**
 * A live check an armed step makes on production right before it applies (read-only; src/sql checks it is one plain
 * SELECT): its first column of its first row must equal `expect`, compared as text (`true`, `0`, `ok`).
 */
const preconditionSchema = z
  .object({
    name: z.string().regex(PRECONDITION_NAME, 'must be 1-64 chars of letters, digits, spaces, ".", "_" or "-"'),
    sql: z.string().min(1, 'precondition SQL must not be empty').max(4000),
    expect: z.union([z.string().max(200), z.number(), z.boolean()]),
  })
  .strict();

const stepSchema = z
  .object({
    id: z.string().regex(STEP_ID, 'must be 1-64 chars of letters, digits, ".", "_" or "-"'),
    action: z.enum(STEP_ACTIONS),
    description: z.string().max(2000).optional(),
    apply: z.string().min(1, 'apply SQL must not be empty'),
    rollback: z.string().min(1, 'rollback SQL must not be empty'),
    /**
     * An armed step (a repoint, a cutover: a moment, not a step): its grant arms it for at most this long (e.g.
     * `15m`, at most 1h), and it applies only while armed and only when every precondition holds at that moment.
     */
    window: z
      .string()
      .refine((w) => durationMs(w) !== undefined, 'must be a duration like 90s, 15m or 1h')
      .refine((w) => (durationMs(w) ?? Infinity) <= MAX_ARM_WINDOW_MS, 'must be at most 1h: an armed step is a moment')
      .optional(),
    preconditions: z.array(preconditionSchema).min(1).max(10).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.preconditions && s.window === undefined) ctx.addIssue({ code: 'custom', path: ['window'], message: 'is required when a step declares preconditions (they are checked while it is armed)' });
  });

export type StepPrecondition = z.infer<typeof preconditionSchema>;

/** How long an armed step may be armed, in ms; undefined for a plain step. */
export function armWindowOf(step: { window?: string }): number | undefined {
  return step.window === undefined ? undefined : durationMs(step.window);
}

export const changeSpecSchema = z
  .object({
    v: z.literal(1),
    id: z.string().regex(CHANGE_ID, 'must be 1-100 chars of letters, digits, ".", "_" or "-"'),
    title: z.string().min(1).max(200),
    description: z.string().max(10_000).optional(),
    surface: z
      .object({
        tables: z.array(z.string().min(1)).default([]),
        functions: z.array(z.string().min(1)).default([]),
        /** Statement classes the steps may use beyond plain DDL/DML on the surface (see SQL_ALLOWANCES). */
        allow: z.array(z.enum(SQL_ALLOWANCES)).optional(),
      })
      .strict()
      .optional(),
    steps: z.array(stepSchema).default([]),
    /**
     * Where the change is applied and rehearsed. PGlite (embedded, the default) keeps production under
     * `<lanes home>/targets/<name>` and clones in memory. PostgreSQL is reached by URLs the worker reads from the
     * environment variables named here: the spec (and so workflow history) never holds a URL or a password.
     */
    targets: z
      .object({
        production: z.discriminatedUnion('engine', [
          z.object({ engine: z.literal('pglite'), name: z.string().regex(CHANGE_ID), readTimeouts: readTimeoutsSchema.optional() }).strict(),
          z
            .object({
              engine: z.literal('postgres'),
              urlEnv: envName,
              /** A URL for a read-only role on production: dry-run and precheck connect with it when given. */
              readOnlyUrlEnv: envName.optional(),
              readTimeouts: readTimeoutsSchema.optional(),
            })
            .strict(),
        ]),
        /**
         * A PostgreSQL server where lanes may create (and drop) scratch clone databases. It must be another cluster
         * than production (system identifiers differ) unless `sameClusterAsProduction: true` says otherwise.
         */
        clone: z.object({ engine: z.literal('postgres'), urlEnv: envName, sameClusterAsProduction: z.literal(true).optional() }).strict().optional(),
      })
      .strict()
      .optional(),
    /** The initial blocker map (seeds/004 shape, as-is) and, optionally, what it takes to move each blocker. */
    blockers: z
      .object({
        map: blockerMapSchema,
        rules: z.record(z.string(), blockerRuleSchema).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.steps.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id "${s.id}"` });
      seen.add(s.id);
    });
    // What the steps' SQL touches is checked node-side with PostgreSQL's own parser (src/sql/containment.ts):
    // the parser is WASM, which workflow code (this module's other importer) cannot load.
    const engine = spec.targets?.production.engine;
    if (engine === 'postgres' && !spec.targets?.clone) {
      ctx.addIssue({ code: 'custom', path: ['targets', 'clone'], message: 'a postgres production needs targets.clone {"engine": "postgres", "urlEnv": "…"}: a server where rehearsals may create scratch databases' });
    }
    if (engine !== 'postgres' && spec.targets?.clone) {
      ctx.addIssue({ code: 'custom', path: ['targets', 'clone'], message: 'a PGlite production is cloned in memory; remove targets.clone or make production postgres' });
    }
    const allow = spec.surface?.allow ?? [];
    if (new Set(allow).size !== allow.length) ctx.addIssue({ code: 'custom', path: ['surface', 'allow'], message: 'lists an exception twice; list each once' });
    const ids = new Set(spec.blockers?.map.blockers.map((b) => b.id) ?? []);
    for (const id of Object.keys(spec.blockers?.rules ?? {})) {
      if (!ids.has(id)) ctx.addIssue({ code: 'custom', path: ['blockers', 'rules', id], message: `names no blocker in blockers.map` });
    }
    if (spec.blockers) {
      for (const problem of ruleProblems(spec.blockers.map, spec.blockers.rules)) ctx.addIssue({ code: 'custom', path: ['blockers', 'rules', problem.split(':')[0]!], message: problem.slice(problem.indexOf(':') + 2) });
    }
  });

export type ChangeSpec = z.infer<typeof changeSpecSchema>;

export type ProductionTargetSpec = NonNullable<ChangeSpec['targets']>['production'];

/** Where a change's production lives when the spec does not say: an embedded PGlite database named after it. */
export function productionTarget(spec: ChangeSpec): ProductionTargetSpec {
  return spec.targets?.production ?? { engine: 'pglite', name: `${spec.id}.production` };
}
