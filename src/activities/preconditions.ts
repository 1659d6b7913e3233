/**
 * An armed step's live preconditions, evaluated on production by the production worker right before the step's
 * transaction: each in one READ ONLY transaction that is always rolled back, under short statement and lock
 * timeouts, one parsed statement at a time through the extended protocol (src/sql/preconditions.ts checked each is
 * one plain SELECT). The first column of the first row must equal the declared `expect`, compared as text.
 */
import type { ChangeSpec, StepPrecondition } from '../domain/change-spec';
import { productionTarget } from '../domain/change-spec';
import { DEFAULT_READ_TIMEOUTS } from './production-reads';
import { inRolledBackTransaction, type Target } from './targets/target';

export interface PreconditionFailure {
  name: string;
  got: string;
  expected: string;
}

const asText = (v: unknown): string => (v === null || v === undefined ? 'NULL' : v instanceof Date ? v.toISOString() : String(v));

/** The first precondition that does not hold, or undefined when all hold. A query error is a failure too (fail closed). */
export async function failingPrecondition(db: Target, change: ChangeSpec, preconditions: readonly StepPrecondition[]): Promise<PreconditionFailure | undefined> {
  const limits = productionTarget(change).readTimeouts ?? DEFAULT_READ_TIMEOUTS;
  return db.session((s) =>
    inRolledBackTransaction(s, 'BEGIN READ ONLY', async () => {
      await s.exec(`SET LOCAL statement_timeout = ${limits.statementMs}; SET LOCAL lock_timeout = ${limits.lockMs}; SET LOCAL standard_conforming_strings = on`);
      for (const p of preconditions) {
        const expected = asText(p.expect);
        let got: string;
        try {
          await s.exec('SAVEPOINT precondition');
          const rows = await s.statement<Record<string, unknown>>(p.sql);
          got = rows.length === 0 ? '(no row)' : asText(Object.values(rows[0]!)[0]);
          await s.exec('RELEASE SAVEPOINT precondition');
        } catch (err) {
          await s.exec('ROLLBACK TO SAVEPOINT precondition').catch(() => undefined);
          got = `error: ${(err as Error).message}`;
        }
        // What it got goes into the failure, so into history: a glimpse, never a whole value.
        if (got !== expected) return { name: p.name, got: got.length > 120 ? `${got.slice(0, 120)}… (${got.length} chars)` : got, expected };
      }
      return undefined;
    }),
  );
}
