/**
 * The blocker charter (src/domain/charter.ts): what its hash covers, and when CHARTER envelopes charter a change —
 * valid owners' signatures, as many distinct people as the trust root asks, for exactly this map and these rules.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { makeEnvelope } from '../../src/cli/envelopes';
import { charterHashOf, judgeCharter } from '../../src/domain/charter';
import { changeSpecSchema, type ChangeSpec } from '../../src/domain/change-spec';
import { specHashOf } from '../../src/domain/bindings';
import { parseTrustRoot } from '../../src/domain/trust-root';
import { verifyEd25519Node } from '../../src/worker/node-signature';
import { changeWorkflowId } from '../../src/workflows/messages';
import { makeKeys } from '../support/lanes';
import { readChangeSpecForTest } from '../support/fixtures';

const keys = makeKeys();
const doc = JSON.parse(readFileSync(keys.trustRootPath, 'utf8'));
const root = parseTrustRoot(doc);
const twoOwners = parseTrustRoot({ ...doc, thresholds: { CHARTER: 2 } });
const change: ChangeSpec = changeSpecSchema.parse({ ...readChangeSpecForTest(), id: 'charter-unit' });
const T0 = Date.parse('2026-06-01T10:00:00Z');

const charter = (key: typeof keys.owner, trustRoot: string, minutes: number, over: { charterHash?: string } = {}) =>
  makeEnvelope({ key, workflowId: changeWorkflowId(change.id), changeId: change.id, action: 'CHARTER', charterHash: charterHashOf(change.blockers ? { changeId: change.id, blockers: change.blockers } : { changeId: change.id }), trustRoot, specHash: specHashOf(change), validForMs: 600_000, now: T0 + minutes * 60_000, ...over });
const judge = (envs: unknown[], r = root) => judgeCharter(envs, { changeId: change.id, blockers: change.blockers }, { trustRoot: r, entityWorkflowId: changeWorkflowId(change.id) }, verifyEd25519Node);

describe('the charter hash', () => {
  it('covers the map (statuses and fields) and the rules, not declared proofs nor the SQL', () => {
    const h = charterHashOf({ changeId: change.id, blockers: change.blockers });
    const withSql = { ...change, steps: change.steps.map((s) => ({ ...s, apply: `${s.apply} -- reviewed` })) };
    expect(charterHashOf({ changeId: change.id, blockers: withSql.blockers })).toBe(h);
    const proofs = structuredClone(change.blockers!);
    proofs.map.blockers[0]!.proofs = [{ kind: 'owner-decision', by: 'x', at: 't', from: 'OPEN', to: 'CLOSED' }];
    expect(charterHashOf({ changeId: change.id, blockers: proofs })).toBe(h);
    const status = structuredClone(change.blockers!);
    status.map.blockers[0]!.status = 'CLOSED';
    expect(charterHashOf({ changeId: change.id, blockers: status })).not.toBe(h);
    const rules = structuredClone(change.blockers!);
    rules.rules = {};
    expect(charterHashOf({ changeId: change.id, blockers: rules })).not.toBe(h);
    expect(charterHashOf({ changeId: 'another', blockers: change.blockers })).not.toBe(h);
  });
});

describe('judging CHARTER envelopes', () => {
  it('one owner charters under the default threshold; its issue time is when the rules took effect', () => {
    expect(judge([charter(keys.owner, root.fingerprint, 3)])).toMatchObject({ ok: true, at: new Date(T0 + 3 * 60_000).toISOString() });
    expect(judge([])).toMatchObject({ ok: false, reason: expect.stringMatching(/are not chartered: 0 of 1 owner signed them/) });
  });

  it('counts no operator, no stranger, no other trust root and no other map or rules', () => {
    for (const bad of [
      charter(keys.operator, root.fingerprint, 0),
      charter(keys.stranger, root.fingerprint, 0),
      charter(keys.owner, '0'.repeat(64), 0),
      charter(keys.owner, root.fingerprint, 0, { charterHash: 'f'.repeat(64) }),
    ]) expect(judge([bad]).ok).toBe(false);
  });

  it('without thresholds.CHARTER, chartering takes as many owners as OPT4_PRODUCTION or REAL_RUN', () => {
    const strict = parseTrustRoot({ ...doc, thresholds: { REAL_RUN: 2 } });
    expect(judge([charter(keys.owner, strict.fingerprint, 0)], strict)).toMatchObject({ ok: false, reason: expect.stringMatching(/1 of 2 owners/) });
    expect(judge([charter(keys.owner, strict.fingerprint, 0), charter(keys.owner2, strict.fingerprint, 1)], strict).ok).toBe(true);
  });

  it('a threshold of two needs two people: one owner signing twice never meets it', () => {
    const twice = [charter(keys.owner, twoOwners.fingerprint, 0), charter(keys.owner, twoOwners.fingerprint, 1)];
    expect(judge(twice, twoOwners)).toMatchObject({ ok: false, reason: expect.stringMatching(/1 of 2 owners/) });
    expect(judge([...twice, charter(keys.owner2, twoOwners.fingerprint, 7)], twoOwners)).toMatchObject({ ok: true, at: new Date(T0 + 7 * 60_000).toISOString() });
  });
});
