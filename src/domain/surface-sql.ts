/**
 * Which database objects a step's SQL names, compared with the change's declared surface. The surface is what the
 * operator confirmed; SQL that reaches outside it is refused rather than guessed about. A deliberately simple
 * reader: it looks at the object after the keywords that create, alter, drop, write or read a relation or a
 * function, strips quotes and the `public.` schema, and ignores the step's own bookkeeping schema.
 */
const OBJECT_AFTER = /\b(?:TABLE(?:\s+IF\s+(?:NOT\s+)?EXISTS)?|INTO|UPDATE|FROM|JOIN|FUNCTION(?:\s+IF\s+EXISTS)?|VIEW|TRIGGER\s+\w+\s+ON|INDEX\s+\w+\s+ON|REFERENCES)\s+((?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?)/gi;

function bareName(ref: string): string {
  const parts = ref.split('.').map((p) => p.replace(/^"|"$/g, ''));
  return (parts.length === 2 && parts[0]!.toLowerCase() === 'public' ? parts[1]! : parts.join('.')).toLowerCase();
}

/** Objects the SQL names that the surface does not list (dollar-quoted bodies included: they run too). */
export function objectsOutsideSurface(sql: string, surface: { tables?: string[]; functions?: string[] } | undefined): string[] {
  const allowed = new Set([...(surface?.tables ?? []), ...(surface?.functions ?? [])].map((n) => n.toLowerCase()));
  const outside = new Set<string>();
  for (const m of sql.matchAll(OBJECT_AFTER)) {
    const name = bareName(m[1]!);
    if (!allowed.has(name)) outside.add(name);
  }
  return [...outside];
}
