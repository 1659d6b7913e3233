/** Recovery is a decision: a half-applied production is said so, with exactly HOLD, roll back and resume on offer. */
import { describe, expect, it } from 'vitest';
import { decisionMarkdown, decisionPacket } from '../../src/domain/decision-packet';
import { halfApplied } from '../../src/domain/recovery';
import { renderStatus } from '../../src/cli/commands/status';
import type { LaneStatus } from '../../src/domain/lane-status';

const failed: LaneStatus = {
  workflowId: 'fix7.execution.1', changeId: 'fix7', lane: 'execution', state: 'FAILED', requiredGrants: ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'CUTOVER', 'ACTIVATION'],
  grantsPresent: [], grantsMissing: [], revoked: [], rejected: [], waitingFor: [], blockersOpen: [],
  failure: 'step s2: its SQL failed on production: relation exists',
  steps: [
    { id: 's1', action: 'APPLY', state: 'APPLIED', appliedAt: '2026-06-12T10:00:00.000Z' },
    { id: 's2', action: 'CUTOVER', state: 'RUNNING' },
    { id: 's3', action: 'ACTIVATION', state: 'PENDING' },
  ],
};

describe('a half-applied production', () => {
  it('after a failed execution: the packet says so and offers exactly HOLD, roll back and resume from the failed step', () => {
    const p = decisionPacket(failed, undefined);
    expect(p.statusLine).toBe('execution: FAILED. Production: production is half-applied: steps s1 applied. Default: HOLD.');
    expect(p.options.map((o) => o.id)).toEqual(['HOLD_PRODUCTION', 'ROLLBACK_PRODUCTION', 'RESUME_PRODUCTION_EXECUTION']);
    expect(p.options[2]!.text).toMatch(/--resume-from s2/);
    expect(p.selects).toBeNull();
    expect(p.recommendation).toMatch(/^Hold production: it is half-applied \(steps s1 applied\)/);
    expect(decisionMarkdown(p)).toMatch(/3\. RESUME_PRODUCTION_EXECUTION/);
    expect(renderStatus(failed, 'http://ui')).toMatch(/production is half-applied: steps s1 applied[\s\S]*ROLLBACK_PRODUCTION[\s\S]*RESUME_PRODUCTION_EXECUTION: resume from step s2/);
  });

  it('a held resumed execution counts the steps applied before it; one that applied nothing, or completed, is not half-applied', () => {
    const held: LaneStatus = { ...failed, state: 'HOLD', steps: [{ ...failed.steps![0]!, state: 'APPLIED_EARLIER' }, { ...failed.steps![1]!, state: 'APPLIED' }, failed.steps![2]!] };
    expect(halfApplied(held)).toEqual({ applied: ['s1', 's2'], resumeFrom: 's3' });
    expect(halfApplied({ ...failed, steps: failed.steps!.map((s) => ({ ...s, state: 'PENDING' as const })) })).toBeUndefined();
    expect(halfApplied({ ...failed, state: 'COMPLETED', steps: failed.steps!.map((s) => ({ ...s, state: 'APPLIED' as const })) })).toBeUndefined();
    expect(decisionPacket({ ...failed, steps: [] }, undefined).options.map((o) => o.id)).not.toContain('ROLLBACK_PRODUCTION');
  });
});
