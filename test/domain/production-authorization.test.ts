/**
 * The production worker's own verifier (run by its interceptor with node:crypto), on its own: it must refuse
 * anything short of a complete authorization for the step, and agree with the workflow-side check.
 */
import { signerRolesFor } from '../../src/domain/envelope-rules';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { checkProductionAuthorization, type ProductionCheckInput } from '../../src/domain/production-authorization';
import { parseTrustRoot } from '../../src/domain/trust-root';
import { verifyEd25519Strict } from '../../src/domain/keys';
import { makeEnvelope } from '../../src/cli/envelopes';
import { envelopePayloadSchema } from '../../src/domain/envelope';
import { verifyEd25519Node } from '../../src/worker/node-signature';
import { makeKeys } from '../support/lanes';

const keys = makeKeys();
const trustRoot = parseTrustRoot(JSON.parse(readFileSync(keys.trustRootPath, 'utf8')));
const WF = 'chg.execution.1';
const TREE = '7'.repeat(64);
const NOW = Date.parse('2026-06-12T10:00:00Z');
const env = (action: Parameters<typeof makeEnvelope>[0]['action'], over: Partial<Parameters<typeof makeEnvelope>[0]> = {}) =>
  makeEnvelope({ key: keys.owner, workflowId: WF, changeId: 'chg', lane: 'execution', action, validForMs: 600_000, now: NOW, ...(action === 'REAL_RUN' || action === 'APPLY' ? { evidenceTree: TREE } : {}), ...over });
const start = makeEnvelope({ key: keys.operator, workflowId: WF, changeId: 'chg', lane: 'execution', action: 'START_LANE', validForMs: 600_000, now: NOW - 3_600_000 });
const input = (grants: unknown[], over: Partial<ProductionCheckInput> = {}): ProductionCheckInput => ({
  trustRoot, workflowId: WF, changeId: 'chg', stepAction: 'APPLY', start, grants, rehearsalTree: TREE, nowMs: NOW + 1000, ...over,
});
const both = (i: ProductionCheckInput) => {
  const node = checkProductionAuthorization(i, verifyEd25519Node);
  const noble = checkProductionAuthorization(i, verifyEd25519Strict);
  expect(node).toEqual(noble);
  return node.ok ? 'OK' : node.code;
};

describe('production authorization (interceptor-side verifier)', () => {
  it('accepts exactly the complete set for the step, checking the start as of its own issue time', () => {
    expect(both(input([env('OPT4_PRODUCTION'), env('REAL_RUN'), env('APPLY')]))).toBe('OK');
  });

  it('refuses a missing, forged, expired, misbound, wrong-tree, repeated-nonce or operator-signed grant', () => {
    const ok = [env('OPT4_PRODUCTION'), env('REAL_RUN'), env('APPLY')];
    expect(both(input(ok.slice(0, 2)))).toBe('MISSING');
    expect(both(input([...ok.slice(0, 2), { ...env('APPLY'), signature: env('APPLY').signature }]))).toBe('BAD_SIGNATURE');
    expect(both(input(ok, { nowMs: NOW + 700_000 }))).toBe('EXPIRED');
    expect(both(input(ok, { workflowId: 'chg.execution.2' }))).toMatch(/OTHER_WORKFLOW|MALFORMED/);
    expect(both(input([...ok, env('CUTOVER')]))).toBe('ACTION_NOT_HERE');
    expect(both(input(ok, { rehearsalTree: '8'.repeat(64) }))).toBe('EVIDENCE_TREE');
    expect(both(input([...ok, ok[2]!]))).toBe('REPLAYED');
    expect(both(input([env('OPT4_PRODUCTION', { key: keys.operator }), ...ok.slice(1)]))).toBe('WRONG_ROLE');
    expect(both(input(ok, { start: env('OPT4_PRODUCTION') }))).toMatch(/ACTION_NOT_HERE/);
  });

  it('counts distinct owners toward a threshold; the same owner twice counts once', () => {
    const root = { ...trustRoot, thresholds: { REAL_RUN: 2 } };
    const ok = [env('OPT4_PRODUCTION'), env('REAL_RUN'), env('APPLY')];
    expect(both(input([...ok, env('REAL_RUN')], { trustRoot: root }))).toBe('THRESHOLD');
    expect(both(input([...ok, env('REAL_RUN', { key: keys.owner2 })], { trustRoot: root }))).toBe('OK');
  });
});

describe('envelope fields per action', () => {
  const base = env('OPT4_PRODUCTION').payload;
  const issues = (p: object) => envelopePayloadSchema.safeParse(p).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
  it('requires `revokes` on REVOKE, blocker fields on BLOCKER_UPDATE, a lane everywhere else, and nothing extra', () => {
    expect(issues({ ...base, action: 'REVOKE' })).toEqual(['revokes: is required for REVOKE']);
    expect(issues({ ...base, revokes: 'a'.repeat(64) })).toEqual(['revokes: is not allowed on OPT4_PRODUCTION']);
    const { lane: _lane, ...noLane } = base;
    expect(issues({ ...noLane, action: 'BLOCKER_UPDATE' })).toEqual(['blockerId: is required for BLOCKER_UPDATE', 'blockerStatus: is required for BLOCKER_UPDATE']);
    expect(issues(noLane)).toEqual(['lane: is required for OPT4_PRODUCTION']);
    expect(issues({ ...base, inputSha256: 'a'.repeat(64) })).toEqual(['inputSha256: is not allowed on OPT4_PRODUCTION']);
    expect(issues({ ...base, action: 'OPERATOR_INPUT' })).toEqual(['inputKind: is required for OPERATOR_INPUT', 'inputSha256: is required for OPERATOR_INPUT']);
    expect(issues({ ...base, action: 'OPERATOR_INPUT', inputKind: 'Surface Map', inputSha256: 'a'.repeat(64) })).toEqual([expect.stringMatching(/^inputKind: must be 1-40 chars/)]);
    expect(issues({ ...base, action: 'OPERATOR_INPUT', inputKind: 'surface-map', inputSha256: 'a'.repeat(64) })).toEqual([]);
    expect(issues({ ...base, inputKind: 'surface-map' })).toEqual(['inputKind: is not allowed on OPT4_PRODUCTION']);
  });

  it('lets only an operator sign an OPERATOR_INPUT, and only an owner a grant', () => {
    expect(signerRolesFor('OPERATOR_INPUT')).toEqual(['operator']);
    expect(signerRolesFor('START_LANE')).toEqual(['operator']);
    expect(signerRolesFor('REAL_RUN')).toEqual(['owner']);
  });
});
