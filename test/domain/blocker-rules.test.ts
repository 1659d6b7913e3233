/** The blocker map as our users keep it (seeds/004), and the rules for moving blockers. Pure functions. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blockerMapSchema, type BlockerMap } from '../../src/domain/blocker-map';
import { applyLaneOutcome, blockersBlockingExecution, moveBlocker, ruleFor, type BlockerRules, type LedgerEntry } from '../../src/domain/blocker-rules';

const SEED_TEXT = readFileSync(join(__dirname, '..', 'fixtures', 'seed-004-blocker-map.json'), 'utf8');
const seed = (): BlockerMap => blockerMapSchema.parse(JSON.parse(SEED_TEXT));
const RULES: BlockerRules = {
  'FIX7-P0-DRYRUN-PROD-ROLLBACK-1': { laneProof: { lane: 'rehearsal', to: 'PARTIALLY_DISCHARGED', note: 'clone leg proven; production leg still open' } },
  'FIX7-P0-PROD-OPT4-1': { grants: ['OPT4_PRODUCTION'] },
};
const EXEC = ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'] as const;
const TREE = 'd'.repeat(64);
const ledger: LedgerEntry[] = [{ workflowId: 'r1', lane: 'rehearsal', shaped: false, outcome: 'COMPLETED', specHash: 's', finishedAt: '2026-06-12T10:00:00Z', treeHash: TREE }];
const owner = { keyId: 'a'.repeat(16), role: 'owner' as const };
const operator = { keyId: 'b'.repeat(16), role: 'operator' as const };
const move = (blockerId: string, to: string, signer: { keyId: string; role: 'owner' | 'operator' } = owner, extra = {}) => ({ blockerId, to: to as never, signer, envelopeId: 'e', at: '2026-06-12T11:00:00Z', ...extra });

describe('blocker map import/export', () => {
  it('imports the seed map as-is and exports it back unchanged', () => {
    const map = seed();
    expect(map.blockers).toHaveLength(7);
    expect(JSON.parse(JSON.stringify(map))).toEqual(JSON.parse(SEED_TEXT));
  });

  it('refuses a map with an unknown status or a duplicate id, naming the field', () => {
    const badStatus = JSON.parse(SEED_TEXT);
    badStatus.blockers[0].status = 'DONE';
    const duplicate = JSON.parse(SEED_TEXT);
    duplicate.blockers[2].id = duplicate.blockers[1].id;
    const paths = (doc: unknown) => blockerMapSchema.safeParse(doc).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths(badStatus)).toEqual([expect.stringMatching(/^blockers\.0\.status: /)]);
    expect(paths(duplicate)).toEqual([`blockers.2.id: duplicate blocker id "${duplicate.blockers[1].id}"`]);
  });
});

describe('blocker rules', () => {
  it('derives authorization gates from "n/a" proofs whose `blocks` are grant actions', () => {
    const map = seed();
    const byId = (id: string) => ruleFor(map.blockers.find((b) => b.id === id)!, RULES);
    expect(byId('FIX7-P0-PLAN-REALRUN-1').grants).toEqual(['REAL_RUN']);
    expect(byId('FIX7-P0-PLAN-SEPARATE-AUTH-1').grants).toEqual(['CUTOVER', 'APPLY', 'PERMIT', 'ACTIVATION', 'REPOINT']);
    expect(byId('FIX7-P0-PROD-OPT4-1').grants).toEqual(['OPT4_PRODUCTION']);
    expect(byId('FIX7-P0-PROD-BIRTH-SURFACE-1')).toMatchObject({ roles: ['owner', 'operator'], needsTechnicalProof: true });
    expect(byId('FIX7-P0-PROD-BIRTH-SURFACE-1').grants).toBeUndefined();
  });

  it('every open blocker blocks execution, except authorization gates the lane satisfies', () => {
    const map = seed();
    const none = blockersBlockingExecution(map, RULES, EXEC, new Set()).map((b) => b.id);
    expect(none).toHaveLength(7);
    const all = blockersBlockingExecution(map, RULES, EXEC, new Set(EXEC)).map((b) => b.id);
    expect(all).toEqual(['FIX7-P0-PROD-BIRTH-SURFACE-1', 'FIX7-P0-PROD-CI-SCOPE-1', 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1', 'FIX7-P0-OPERATOR-INPUT-1']);
    // A change without REPOINT/CUTOVER/PERMIT steps does not need those grants to pass SEPARATE-AUTH.
    const partial = blockersBlockingExecution(map, RULES, EXEC, new Set(['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY'] as const)).map((b) => b.id);
    expect(partial).toContain('FIX7-P0-PLAN-SEPARATE-AUTH-1');
  });

  it('a passed rehearsal takes the rollback blocker to PARTIALLY_DISCHARGED with its evidence tree; a failed one moves nothing', () => {
    const moved = applyLaneOutcome(seed(), RULES, ledger[0]!);
    const b = moved.blockers.find((x) => x.id === 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1')!;
    expect(b.status).toBe('PARTIALLY_DISCHARGED');
    expect(b.proofs).toEqual([expect.objectContaining({ kind: 'evidence', treeHash: TREE, from: 'OPEN', to: 'PARTIALLY_DISCHARGED', note: 'clone leg proven; production leg still open' })]);
    expect(applyLaneOutcome(seed(), RULES, { ...ledger[0]!, outcome: 'FAILED' })).toEqual(seed());
  });

  it('enforces who moves which blocker, to what, with which proof', () => {
    const map = seed();
    const code = (v: ReturnType<typeof moveBlocker>) => (v.ok ? 'OK' : v.code);
    expect(code(moveBlocker(map, RULES, move('NOPE', 'CLOSED'), ledger))).toBe('UNKNOWN_BLOCKER');
    expect(code(moveBlocker(map, RULES, move('FIX7-P0-OPERATOR-INPUT-1', 'NARROWED', owner), ledger))).toBe('WRONG_ACTOR');
    expect(code(moveBlocker(map, RULES, move('FIX7-P0-OPERATOR-INPUT-1', 'NARROWED', operator), ledger))).toBe('NO_PROOF');
    expect(code(moveBlocker(map, RULES, move('FIX7-P0-OPERATOR-INPUT-1', 'NARROWED', operator, { treeHash: 'e'.repeat(64) }), ledger))).toBe('UNKNOWN_EVIDENCE');
    expect(code(moveBlocker(map, RULES, move('FIX7-P0-OPERATOR-INPUT-1', 'NARROWED', operator, { inputSha256: 'c'.repeat(64) }), ledger))).toBe('OK');
    expect(code(moveBlocker(map, RULES, move('FIX7-P0-PLAN-REALRUN-1', 'CLOSED'), ledger))).toBe('GRANT_GATE');
    expect(code(moveBlocker(map, RULES, move('FIX7-P0-PROD-OPT4-1', 'OPEN'), ledger))).toBe('NO_CHANGE');
    // owner + operator: the owner's decision alone cannot close it; both roles and a technical proof can.
    expect(code(moveBlocker(map, RULES, move('FIX7-P0-PROD-CI-SCOPE-1', 'CLOSED'), ledger))).toBe('NO_PROOF');
    const designed = moveBlocker(map, RULES, move('FIX7-P0-PROD-CI-SCOPE-1', 'DESIGN_DELIVERED', operator, { treeHash: TREE }), ledger);
    expect(designed.ok).toBe(true);
    const closed = moveBlocker((designed as { map: BlockerMap }).map, RULES, move('FIX7-P0-PROD-CI-SCOPE-1', 'CLOSED'), ledger);
    expect(code(closed)).toBe('OK');
    const final = (closed as { map: BlockerMap }).map;
    expect(code(moveBlocker(final, RULES, move('FIX7-P0-PROD-CI-SCOPE-1', 'OPEN'), ledger))).toBe('FINAL');
    expect(final.blockers.find((b) => b.id === 'FIX7-P0-PROD-CI-SCOPE-1')!.proofs!.map((p) => [p.role, p.kind])).toEqual([
      ['operator', 'evidence'],
      ['owner', 'owner-decision'],
    ]);
  });
});

describe('sign-off is counted, not assumed', () => {
  it("an owner's reopen is nobody's sign-off: the operator cannot then close an owner + operator blocker alone", () => {
    const B = 'FIX7-P0-PROD-BIRTH-SURFACE-1';
    const input = { inputSha256: 'c'.repeat(64) };
    let map = seed();
    const step = (m: Parameters<typeof moveBlocker>[2]) => {
      const r = moveBlocker(map, RULES, m, ledger);
      if (r.ok) map = r.map;
      return r;
    };
    expect(step(move(B, 'NARROWED', operator, input)).ok).toBe(true);
    expect(step(move(B, 'OPEN', owner)).ok).toBe(true); // the owner rejects the narrowing
    const close = step(move(B, 'CLOSED', operator, input));
    expect(close).toMatchObject({ ok: false, code: 'NO_PROOF', reason: expect.stringMatching(/no signed move by the owner yet/) });
    // After a real owner move since the reopen, the operator's close counts.
    expect(step(move(B, 'NARROWED', owner)).ok).toBe(true);
    expect(step(move(B, 'CLOSED', operator, input)).ok).toBe(true);
  });
});
