/** Small readers for libpg_query's JSON parse trees: nodes are `{ Kind: { …fields } }`, names are String lists. */

export type TreeObject = Record<string, unknown>;

export const isTreeObject = (v: unknown): v is TreeObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The strings of a name list (`[{ String: { sval } }]`), or of a single String node. */
export function nameList(v: unknown): string[] {
  if (isTreeObject(v) && isTreeObject(v.List)) return nameList(v.List.items);
  if (isTreeObject(v) && isTreeObject(v.String)) return [String(v.String.sval ?? '')];
  return Array.isArray(v) ? v.flatMap((n) => nameList(n)) : [];
}

/** The string value of a constant (`A_Const { sval }`), or undefined when it is not a string literal. */
export function stringConstant(v: unknown): string | undefined {
  const c = isTreeObject(v) && isTreeObject(v.A_Const) ? v.A_Const : undefined;
  return c && isTreeObject(c.sval) && typeof c.sval.sval === 'string' ? c.sval.sval : c && isTreeObject(c.sval) ? '' : undefined;
}

/** `DefElem` options of a statement, by name (e.g. a function's `language` and `as`). */
export function option(options: unknown, name: string): unknown {
  if (!Array.isArray(options)) return undefined;
  for (const o of options) if (isTreeObject(o) && isTreeObject(o.DefElem) && o.DefElem.defname === name) return o.DefElem.arg ?? null;
  return undefined;
}
