/**
 * The change spec (DESIGN.md §Words): one planned production change, as the operator declares it.
 * Strict on purpose: a misspelt field is an error, not an ignored line, because what is not read is not gated.
 * The Lane-engine and Targets issues extend this with targets, blockers and probes.
 */
import { z } from 'zod';
import { CHANGE_ID } from './envelope';
import { blockerMapSchema } from './blocker-map';
import { blockerRuleSchema } from './blocker-rules';
import { objectsOutsideSurface } from './surface-sql';

export const STEP_ACTIONS = ['APPLY', 'PERMIT', 'ACTIVATION', 'REPOINT', 'CUTOVER'] as const;

const stepSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 chars of letters, digits, ".", "_" or "-"'),
    action: z.enum(STEP_ACTIONS),
    description: z.string().max(2000).optional(),
    apply: z.string().min(1, 'apply SQL must not be empty'),
    rollback: z.string().min(1, 'rollback SQL must not be empty'),
  })
  .strict();

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
      })
      .strict()
      .optional(),
    steps: z.array(stepSchema).default([]),
    /**
     * Where the change is applied. Only the embedded PGlite engine is wired so far (Targets issue adds `pg`);
     * its data lives under `<lanes home>/targets/<name>`.
     */
    targets: z
      .object({
        production: z.object({ engine: z.literal('pglite'), name: z.string().regex(CHANGE_ID) }).strict(),
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
    // Steps may touch only what the operator declared; nothing is guessed.
    spec.steps.forEach((s, i) => {
      for (const which of ['apply', 'rollback'] as const) {
        const outside = objectsOutsideSurface(s[which], spec.surface);
        if (outside.length > 0) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, which], message: `touches ${outside.join(', ')}, outside the declared surface; add it to surface.tables/functions or change the SQL` });
        }
      }
    });
    const ids = new Set(spec.blockers?.map.blockers.map((b) => b.id) ?? []);
    for (const id of Object.keys(spec.blockers?.rules ?? {})) {
      if (!ids.has(id)) ctx.addIssue({ code: 'custom', path: ['blockers', 'rules', id], message: `names no blocker in blockers.map` });
    }
  });

export type ChangeSpec = z.infer<typeof changeSpecSchema>;

/** Where a change's production lives when the spec does not say: an embedded PGlite database named after it. */
export function productionTarget(spec: ChangeSpec): { engine: 'pglite'; name: string } {
  return spec.targets?.production ?? { engine: 'pglite', name: `${spec.id}.production` };
}
