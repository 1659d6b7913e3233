/** The blocker map as our users keep it (seeds/004), and the rules for moving blockers. Pure functions. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blockerMapSchema, type BlockerMap } from '../../src/domain/blocker-map';
import { applyLaneOutcome, blockersBlockingExecution, moveBlocker, rolesNamed, ruleFor, type BlockerRules, type LedgerEntry } from '../../src/domain/blocker-rules';
import { changeSpecSchema } from '../../src/domain/change-spec';

const SEED_TEXT = readFileSync(join(__dirname, '..', 'fixtures', 'seed-004-blocker-map.json'), 'utf8');
const seed = (): BlockerMap => blockerMapSchema.parse(JSON.parse(SEED_TEXT));
const RULES: BlockerRules = {
  'FIX7-P0-DRYRUN-PROD-ROLLBACK-1': { laneProof: { lane: 'rehearsal', to: 'PARTIALLY_DISCHARGED', note: 'clone leg proven; production leg still open' } },
  'FIX7-P0-PROD-OPT4-1': { grants: ['OPT4_PRODUCTION'] },
};
const EXEC = ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'] as const;
const TREE = 'd'.repeat(64);
const INPUT = 'c'.repeat(64);
const SCOPING_TREE = 'f'.repeat(64);
const ledger: LedgerEntry[] = [
  { workflowId: 'r1', lane: 'rehearsal', shaped: false, outcome: 'COMPLETED', specHash: 's', finishedAt: '2026-06-12T10:00:00Z', treeHash: TREE, inputs: [INPUT] },
  { workflowId: 's1', lane: 'scoping', shaped: false, outcome: 'COMPLETED', specHash: 's', finishedAt: '2026-06-12T09:00:00Z', treeHash: SCOPING_TREE, inputs: ['9'.repeat(64)] },
];
const owner = { keyId: 'a'.repeat(16), role: 'owner' as const };
const operator = { keyId: 'b'.repeat(16), role: 'operator' as const };
const move = (blockerId: string, to: string, signer: { keyId: string; role: 'owner' | 'operator'; person?: string } = owner, extra = {}) => ({ blockerId, to: to as never, signer, envelopeId: 'e', at: '2026-06-12T11:00:00Z', ...extra });

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
    expect(code(moveBlocker(map, RULES, move('FIX7-P0-OPERATOR-INPUT-1', 'NARROWED', operator, { inputSha256: INPUT, treeHash: TREE }), ledger))).toBe('OK');
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
    const input = { inputSha256: INPUT, treeHash: TREE };
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

describe('proofs are checked, not counted', () => {
  const code = (v: ReturnType<typeof moveBlocker>) => (v.ok ? 'OK' : `${v.code}: ${v.reason}`);
  const B = 'FIX7-P0-OPERATOR-INPUT-1';

  it('an operator input counts only as the named lane of this change recorded it', () => {
    expect(code(moveBlocker(seed(), RULES, move(B, 'NARROWED', operator, { inputSha256: INPUT, treeHash: TREE }), ledger))).toBe('OK');
    // An arbitrary sha256 nothing recorded, an input offered without the lane that recorded it, or another lane's input.
    expect(code(moveBlocker(seed(), RULES, move(B, 'NARROWED', operator, { inputSha256: 'e'.repeat(64), treeHash: TREE }), ledger))).toMatch(/^UNKNOWN_EVIDENCE: operator input e{64} was not recorded/);
    expect(code(moveBlocker(seed(), RULES, move(B, 'NARROWED', operator, { inputSha256: INPUT }), ledger))).toMatch(/^UNKNOWN_EVIDENCE: .*name that tree/);
    expect(code(moveBlocker(seed(), RULES, move(B, 'NARROWED', operator, { inputSha256: INPUT, treeHash: SCOPING_TREE }), ledger))).toMatch(/^UNKNOWN_EVIDENCE/);
    // A scoping lane may carry the operator's input (it is the operator's signed word, not the lane's proof).
    expect(code(moveBlocker(seed(), RULES, move(B, 'NARROWED', operator, { inputSha256: '9'.repeat(64), treeHash: SCOPING_TREE }), ledger))).toBe('OK');
  });

  it("an evidence tree counts only from a passed lane that needed a grant, of the kind the blocker's rule names", () => {
    // A scoping lane needs no grant: its packet proves nothing.
    expect(code(moveBlocker(seed(), RULES, move(B, 'NARROWED', operator, { treeHash: SCOPING_TREE }), ledger))).toMatch(/^UNKNOWN_EVIDENCE: .*scoping lane's/);
    const R = 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1'; // its rule takes a rehearsal
    const precheck: LedgerEntry = { ...ledger[0]!, lane: 'precheck', treeHash: 'a'.repeat(64) };
    expect(code(moveBlocker(seed(), RULES, move(R, 'NARROWED', operator, { treeHash: 'a'.repeat(64) }), [...ledger, precheck]))).toMatch(/^UNKNOWN_EVIDENCE: .*a precheck lane's; this blocker's rule takes a rehearsal/);
    expect(code(moveBlocker(seed(), RULES, move(R, 'NARROWED', operator, { treeHash: TREE }), ledger))).toBe('OK');
    const failed: LedgerEntry = { ...ledger[0]!, outcome: 'FAILED', treeHash: 'b'.repeat(64) };
    expect(code(moveBlocker(seed(), RULES, move(R, 'NARROWED', operator, { treeHash: 'b'.repeat(64) }), [failed]))).toMatch(/^UNKNOWN_EVIDENCE/);
  });
});

describe('rules cannot lower who must sign', () => {
  const spec = (rules: unknown, map: BlockerMap = seed()) => changeSpecSchema.safeParse({ v: 1, id: 'rules', title: 'rules', blockers: { map, rules } });
  const issues = (r: ReturnType<typeof spec>) => r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

  it('refuses "grants" on a blocker whose actor_needed names more or other roles than the owner', () => {
    expect(spec({ 'FIX7-P0-PROD-OPT4-1': { grants: ['OPT4_PRODUCTION'] } }).success).toBe(true);
    expect(issues(spec({ 'FIX7-P0-PROD-BIRTH-SURFACE-1': { grants: ['OPT4_PRODUCTION'] } }))).toEqual([
      expect.stringMatching(/^blockers\.rules\.FIX7-P0-PROD-BIRTH-SURFACE-1: "grants" would let owner grants alone satisfy a blocker whose actor_needed is "owner \+ operator"/),
    ]);
    expect(issues(spec({ 'FIX7-P0-OPERATOR-INPUT-1': { grants: ['REAL_RUN'] } }))[0]).toMatch(/actor_needed is "operator"/);
  });

  it('refuses a lane proof by a lane that needs no grant', () => {
    expect(issues(spec({ 'FIX7-P0-PROD-BIRTH-SURFACE-1': { laneProof: { lane: 'scoping', to: 'CLOSED' } } }))[0]).toMatch(/laneProof\.lane: must be rehearsal, dry-run or precheck/);
  });

  it('derives an authorization gate only for a blocker the owner alone moves', () => {
    const map = seed();
    const b = map.blockers.find((x) => x.id === 'FIX7-P0-PLAN-REALRUN-1')!;
    b.actor_needed = 'owner + operator';
    expect(ruleFor(b, {}).grants).toBeUndefined();
    expect(blockersBlockingExecution(map, {}, EXEC, new Set(EXEC)).map((x) => x.id)).toContain('FIX7-P0-PLAN-REALRUN-1');
  });
});

describe('who a blocker needs, read fail-closed', () => {
  it('reads plurals and any separator, and needs both roles when it names neither', () => {
    expect(rolesNamed('owner + operator')).toEqual(['owner', 'operator']);
    expect(rolesNamed('owners + operator')).toEqual(['owner', 'operator']);
    expect(rolesNamed('both owners and the operator')).toEqual(['owner', 'operator']);
    expect(rolesNamed('OWNER_AND_OPERATOR')).toEqual(['owner', 'operator']);
    expect(rolesNamed('operator (+ separate authorization)')).toEqual(['operator']);
    expect(rolesNamed('n/a')).toEqual(['owner', 'operator']);
  });

  it('one person holding both keys cannot close an owner + operator blocker alone', () => {
    const B = 'FIX7-P0-PROD-BIRTH-SURFACE-1';
    const input = { inputSha256: INPUT, treeHash: TREE };
    const bobOwner = { ...owner, person: 'bob' };
    const bobOperator = { ...operator, person: 'bob' };
    let map = seed();
    const step = (m: Parameters<typeof moveBlocker>[2]) => {
      const r = moveBlocker(map, RULES, m, ledger);
      if (r.ok) map = r.map;
      return r;
    };
    expect(step(move(B, 'NARROWED', bobOwner)).ok).toBe(true);
    expect(step(move(B, 'CLOSED', bobOperator, input))).toMatchObject({ ok: false, code: 'NO_PROOF', reason: expect.stringMatching(/two different people/) });
    expect(step(move(B, 'CLOSED', { ...operator, person: 'olly' }, input)).ok).toBe(true);
  });

  it('refuses an authorization gate met by grants no execution requires', () => {
    const r = changeSpecSchema.safeParse({ v: 1, id: 'rules', title: 'rules', blockers: { map: seed(), rules: { 'FIX7-P0-PROD-OPT4-1': { grants: ['AUTHORIZE_REHEARSAL'] } } } });
    expect(r.error?.issues.map((i) => i.message)).toEqual([expect.stringMatching(/names AUTHORIZE_REHEARSAL, which no execution lane requires/)]);
  });
});
