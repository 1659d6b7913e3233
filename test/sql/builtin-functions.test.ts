/** The built-in function list is catalog data: it must be PGlite's pg_catalog, name for name. */
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { BUILTIN_FUNCTIONS, DYNAMIC_SQL_FUNCTION, SYSTEM_FUNCTION } from '../../src/sql/builtin-functions';

describe('BUILTIN_FUNCTIONS', () => {
  it("equals pg_catalog's function names on PGlite (on drift, paste the names printed below into src/sql/builtin-functions.ts)", async () => {
    const db = await PGlite.create();
    try {
      const rows = await db.query<{ n: string }>("SELECT DISTINCT proname::text AS n FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace");
      const names = rows.rows.map((r) => r.n).sort();
      const same = names.length === BUILTIN_FUNCTIONS.size && names.every((n) => BUILTIN_FUNCTIONS.has(n));
      if (!same) process.stderr.write(`pg_catalog function names:\n${names.join(' ')}\n`);
      expect(same).toBe(true);
      // The escape lists name real functions (a typo would leave one callable).
      for (const n of ['pg_read_file', 'lo_import', 'pg_terminate_backend', 'pg_reload_conf', 'pg_advisory_lock']) expect(SYSTEM_FUNCTION.test(n) && BUILTIN_FUNCTIONS.has(n), n).toBe(true);
      for (const n of ['query_to_xml', 'table_to_xml', 'ts_stat', 'cursor_to_xml']) expect(DYNAMIC_SQL_FUNCTION.test(n) && BUILTIN_FUNCTIONS.has(n), n).toBe(true);
      expect(SYSTEM_FUNCTION.test('lower')).toBe(false);
    } finally {
      await db.close();
    }
  });
});
