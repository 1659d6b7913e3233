/** Decision packets against golden files (refresh with UPDATE_GOLDEN=1 after a deliberate change). */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decisionMarkdown, decisionPacket } from '../../src/domain/decision-packet';
import { blockerMapSchema } from '../../src/domain/blocker-map';
import { applyLaneOutcome, type LedgerEntry } from '../../src/domain/blocker-rules';
import type { LaneStatus } from '../../src/domain/lane-status';
import type { ChangeView } from '../../src/domain/gate-rules';

const FIXTURES = join(__dirname, '..', 'fixtures');
const seed = blockerMapSchema.parse(JSON.parse(readFileSync(join(FIXTURES, 'seed-004-blocker-map.json'), 'utf8')));
const rules = { 'FIX7-P0-DRYRUN-PROD-ROLLBACK-1': { laneProof: { lane: 'rehearsal' as const, to: 'PARTIALLY_DISCHARGED' as const } } };
const TREE = '7a9364c5b64d95350da4023ad101a902fc77eb994c487f995412fe547bd847f9';
const rehearsal: LedgerEntry = { workflowId: 'fix7.rehearsal.1', lane: 'rehearsal', shaped: false, outcome: 'COMPLETED', specHash: 's', finishedAt: '2026-06-12T10:00:00.000Z', treeHash: TREE };
const status: LaneStatus = {
  workflowId: 'fix7.rehearsal.1', changeId: 'fix7', lane: 'rehearsal', state: 'COMPLETED', requiredGrants: ['AUTHORIZE_REHEARSAL'],
  grantsPresent: [], grantsMissing: [], revoked: [], rejected: [], waitingFor: [], blockersOpen: [],
  evidence: { dir: '/x', treeHash: TREE, files: 4 },
};

function golden(name: string, text: string): void {
  const path = join(FIXTURES, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

describe('decision packets', () => {
  it('after a passed rehearsal: selects nothing, default HOLD, the rollback blocker partially discharged', () => {
    const view: ChangeView = { changeId: 'fix7', version: 3, blockers: applyLaneOutcome(seed, rules, rehearsal), rules, latestRehearsal: rehearsal, nonceClaims: {} };
    const p = decisionPacket(status, view);
    expect(p.selects).toBeNull();
    expect(p.default).toBe('HOLD_PRODUCTION');
    expect(p.preconditions).toHaveLength(7);
    golden('decision-after-rehearsal.md', decisionMarkdown(p));
    golden('decision-after-rehearsal.json', `${JSON.stringify(p, null, 2)}\n`);
  });

  it('while the blocker rules are not chartered: recommends holding until an owner charters them', () => {
    const view: ChangeView = { changeId: 'fix7', version: 1, blockers: seed, rules, nonceClaims: {}, charter: { hash: 'c'.repeat(64), envelopes: [] } };
    const p = decisionPacket({ ...status, evidence: undefined }, view);
    expect(p.recommendation).toMatch(/^Hold production\. The blocker map and rules \(or the declaration that there are none\) are the operator's proposal until an owner charters them \(`lanes charter fix7/);
    expect(p.statusLine).toMatch(/blocker rules not chartered by an owner\. Default: HOLD\.$/);
    expect(p.selects).toBeNull();
    const chartered = decisionPacket({ ...status, evidence: undefined }, { ...view, charter: { ...view.charter!, at: '2026-06-12T09:00:00.000Z' } });
    expect(chartered.recommendation).not.toMatch(/charter/);
  });

  it('after a HOLD on silence, before any rehearsal: recommends the rehearsal first', () => {
    const held: LaneStatus = { ...status, lane: 'dry-run', state: 'HOLD', holdReason: 'nothing proceeds on silence', evidence: undefined };
    const p = decisionPacket(held, { changeId: 'fix7', version: 1, blockers: seed, rules, nonceClaims: {} });
    expect(p.recommendation).toMatch(/authorize a rehearsal on an isolated clone first/);
    golden('decision-after-hold.md', decisionMarkdown(p));
  });

  /** One golden packet per lane, each from the durable state that lane would leave (ledger and blocker map). */
  const closedMap = { ...seed, blockers: seed.blockers.map((b) => ({ ...b, status: 'CLOSED' as const })) };
  const precheckEntry: LedgerEntry = { ...rehearsal, workflowId: 'fix7.precheck.1', lane: 'precheck', finishedAt: '2026-06-13T10:00:00.000Z', validUntil: '2026-06-14T10:00:00.000Z' };
  it.each([
    { lane: 'scoping', state: 'COMPLETED', view: { blockers: seed }, want: /authorize a rehearsal on an isolated clone first/ },
    { lane: 'rehearsal', state: 'FAILED', failure: 'the rollback SQL did not restore the surface exactly: table birth_registry (rows: 3 → 2) differ(s) from before', view: { blockers: seed }, want: /authorize a rehearsal/ },
    { lane: 'dry-run', state: 'COMPLETED', view: { blockers: applyLaneOutcome(seed, rules, rehearsal), latestRehearsal: rehearsal }, want: /Hold production\. The next step is to resolve FIX7-P0-PROD-BIRTH-SURFACE-1/ },
    { lane: 'precheck', state: 'COMPLETED', view: { blockers: closedMap, latestRehearsal: rehearsal }, want: /authorize a real-run precheck/ },
    { lane: 'execution', state: 'WAITING_FOR_GRANT', view: { blockers: closedMap, latestRehearsal: rehearsal, latestPrecheck: precheckEntry }, want: /execution may be considered/ },
    {
      lane: 'execution',
      state: 'COMPLETED',
      steps: [{ id: 'qt001-apply', action: 'APPLY', state: 'APPLIED', appliedAt: '2026-06-13T11:00:00.000Z' }],
      view: { blockers: closedMap, latestRehearsal: rehearsal, latestPrecheck: precheckEntry },
      want: /Production execution is complete/,
    },
  ] as const)('$lane $state: selects nothing, defaults to HOLD, recommends one next step', ({ lane, state, view, want, ...rest }) => {
    const s = { ...status, ...rest, workflowId: `fix7.${lane}.1`, lane, state } as LaneStatus;
    const p = decisionPacket(s, { changeId: 'fix7', version: 2, rules, nonceClaims: {}, ...view });
    expect(p.selects).toBeNull();
    expect(p.default).toBe('HOLD_PRODUCTION');
    expect(p.recommendation).toMatch(want);
    golden(`decision-${lane}-${state.toLowerCase()}.md`, decisionMarkdown(p));
  });

  it('after an execution with only authorization gates open: not BLOCKED, and the recommendation is to verify and hold', () => {
    const gatesOnly = { ...seed, blockers: seed.blockers.map((b) => ({ ...b, status: /REALRUN|SEPARATE-AUTH/.test(b.id) ? b.status : ('CLOSED' as const) })) };
    const s = { ...status, workflowId: 'fix7.execution.2', lane: 'execution', state: 'COMPLETED' } as LaneStatus;
    const p = decisionPacket(s, { changeId: 'fix7', version: 9, rules, nonceClaims: {}, blockers: gatesOnly, latestRehearsal: rehearsal, latestPrecheck: precheckEntry });
    expect(p.statusLine).toBe('execution: COMPLETED. Production: no open blockers; 2 authorization gates met only by per-lane grants. Default: HOLD.');
    expect(p.recommendation).toBe('Production execution is complete; verify the evidence packet and hold.');
    expect(p.preconditions.map((r) => r.gate)).toEqual([expect.stringMatching(/^authorization gate: /), expect.stringMatching(/^authorization gate: /)]);
  });
});
