/** The human output of `lanes status`, on its own: aligned rows, and what the lane is working on right now. */
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../src/cli/commands/status';
import type { LaneStatus } from '../../src/domain/lane-status';

const s: LaneStatus = {
  workflowId: 'c.rehearsal.1', changeId: 'c', lane: 'rehearsal', state: 'RUNNING', requiredGrants: ['AUTHORIZE_REHEARSAL'],
  grantsPresent: [], grantsMissing: [], revoked: [], rejected: [], waitingFor: [], blockersOpen: [],
};

describe('renderStatus', () => {
  it('shows the running activity and its last reported stage, aligned with the other rows', () => {
    const text = renderStatus(s, 'http://ui', [{ activity: 'rehearseOnClone', stage: 'restoring the snapshot', attempt: 2 }]);
    expect(text).toMatch(/^RUNNING {2}rehearsal lane c\.rehearsal\.1\n/);
    expect(text).toContain('\nworking on      rehearseOnClone: restoring the snapshot (attempt 2)\n');
    expect(text).toContain('\nui              http://ui\n');
    expect(renderStatus(s, 'http://ui')).not.toContain('working on');
  });
});
