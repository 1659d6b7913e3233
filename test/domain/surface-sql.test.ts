/** The surface check: steps may touch only the declared tables and functions. */
import { describe, expect, it } from 'vitest';
import { objectsOutsideSurface } from '../../src/domain/surface-sql';
import { changeSpecSchema } from '../../src/domain/change-spec';
import { readChangeSpecForTest } from '../support/fixtures';

const surface = { tables: ['birth_registry'], functions: ['fn_birth_register'] };

describe('surface check', () => {
  it('finds nothing outside the surface in the demo steps (function bodies included)', () => {
    for (const step of readChangeSpecForTest().steps) {
      expect(objectsOutsideSurface(step.apply, surface)).toEqual([]);
      expect(objectsOutsideSurface(step.rollback, surface)).toEqual([]);
    }
  });

  it('names objects outside it, quoted or schema-qualified', () => {
    expect(objectsOutsideSurface('DROP TABLE IF EXISTS public.users; DELETE FROM "Secrets"; INSERT INTO birth_registry VALUES (1)', surface)).toEqual(['users', 'secrets']);
  });

  it('makes a change spec whose step reaches outside the surface invalid, naming the step field', () => {
    const spec = { ...readChangeSpecForTest(), steps: [{ id: 's1', action: 'APPLY', apply: 'DELETE FROM audit_log;', rollback: 'SELECT 1;' }] };
    const issues = changeSpecSchema.safeParse(spec).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(['steps.0.apply: touches audit_log, outside the declared surface; add it to surface.tables/functions or change the SQL']);
  });
});
