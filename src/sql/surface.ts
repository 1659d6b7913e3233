/**
 * Whether an object a statement touches is inside the change's declared surface. The surface is tables and
 * functions in schema `public` (where the fingerprint reads them), so an unqualified name is taken as `public.`;
 * built-in functions (pg_catalog) are inside every surface. Gated Lanes' own bookkeeping schema is outside every
 * surface: a step that could write `gated_lanes.applied_steps` could forge which steps production has applied.
 */
import { BOOKKEEPING_SCHEMA } from '../activities/targets/target';
import { BUILTIN_FUNCTIONS } from './builtin-functions';
import { objectName, type Finding, type TouchedObject } from './findings';

export interface DeclaredSurface {
  tables?: string[];
  functions?: string[];
}

export interface OutsideSurface {
  what: string;
  fix: string;
}

const inPublic = (o: TouchedObject) => o.schema === null || o.schema === 'public';

/** Why `o` is outside the surface, or undefined when it is inside. Roles and databases are findings instead. */
export function outsideSurface(o: TouchedObject, surface: DeclaredSurface | undefined): OutsideSurface | undefined {
  const name = objectName(o);
  if (o.schema === BOOKKEEPING_SCHEMA || (o.kind === 'schema' && o.name === BOOKKEEPING_SCHEMA)) {
    return { what: `${o.kind} ${name} is in Gated Lanes' bookkeeping schema`, fix: `steps may not touch schema ${BOOKKEEPING_SCHEMA}; it records which steps production has applied` };
  }
  const elsewhere = inPublic(o) ? '' : ` (the surface is schema public; refer to its objects unqualified or as public.<name>)`;
  if (o.kind === 'relation') {
    if (inPublic(o) && (surface?.tables ?? []).includes(o.name)) return undefined;
    return { what: `relation ${name} is outside the declared surface`, fix: `add it to surface.tables, or change the SQL${elsewhere}` };
  }
  if (o.kind === 'function') {
    if (inPublic(o) && (surface?.functions ?? []).includes(o.name)) return undefined;
    if ((o.schema === null || o.schema === 'pg_catalog') && BUILTIN_FUNCTIONS.has(o.name)) return undefined;
    return { what: `function ${name} is outside the declared surface (not a built-in function)`, fix: `add it to surface.functions, or change the SQL${elsewhere}` };
  }
  if (o.kind === 'schema') {
    return { what: `schema ${name} is outside the declared surface`, fix: 'a surface is tables and functions in schema public; make schema changes outside Gated Lanes' };
  }
  return undefined;
}

/** Roles and databases a statement names are statement classes of their own (exceptions `roles`, `database`). */
export function objectFinding(o: TouchedObject): Finding | undefined {
  if (o.kind === 'role') return { class: 'roles', what: `names role ${o.name}` };
  if (o.kind === 'database') return { class: 'database', what: `names database ${o.name}` };
  return undefined;
}
