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

  it('after a HOLD on silence, before any rehearsal: recommends the rehearsal first', () => {
    const held: LaneStatus = { ...status, lane: 'dry-run', state: 'HOLD', holdReason: 'nothing proceeds on silence', evidence: undefined };
    const p = decisionPacket(held, { changeId: 'fix7', version: 1, blockers: seed, rules, nonceClaims: {} });
    expect(p.recommendation).toMatch(/authorize a rehearsal on an isolated clone first/);
    golden('decision-after-hold.md', decisionMarkdown(p));
  });
});
