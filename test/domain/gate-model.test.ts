/**
 * Model-based test of the gate rules (fast-check `fc.commands`): random sequences of valid, forged, expired,
 * not-yet-valid, replayed, other-workflow, other-action, operator-signed, requester-signed, unknown-key and
 * wrong-evidence-tree grants, duplicate signers toward a 2-of-n threshold, revocations and the passing of time,
 * run through the real GrantBook + evaluateGate. After every command the gate's verdict must equal a tiny model's.
 * Signatures are checked with node:crypto here for speed; the fuzz suite compares it with the workflow's check.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GrantBook } from '../../src/domain/grant-book';
import { evaluateGate, type ChangeView } from '../../src/domain/gate-rules';
import { parseTrustRoot, type TrustRoot } from '../../src/domain/trust-root';
import { makeEnvelope } from '../../src/cli/envelopes';
import { createKeyPair, readPrivateKey, type PrivateKeyFile } from '../../src/cli/key-files';
import type { SignedEnvelope } from '../../src/domain/envelope';
import type { GrantAction } from '../../src/domain/vocabulary';
import { verifyEd25519Node } from '../../src/worker/node-signature';
import { blockerStateHash } from '../../src/domain/bindings';
import { makeKeys } from '../support/lanes';

const WF = 'chg-1.execution.model';
const CHANGE = 'chg-1';
const TREE = 'a'.repeat(64);
const SPEC = 'b'.repeat(64);
const RUN = 'run-model-1';
const START = '5'.repeat(64);
const PRECHECK = 'd'.repeat(64);
const NO_BLOCKERS = blockerStateHash(undefined);
const REQUIRED: GrantAction[] = ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY'];
const THRESHOLD: Partial<Record<GrantAction, number>> = { OPT4_PRODUCTION: 2 };
const MIN = 60_000;
const T0 = Date.parse('2026-06-12T10:00:00Z');

const keys = makeKeys();
// The requester: an owner key held by the same person (same name) as the operator who started the lane.
const requester = readPrivateKey(createKeyPair(keys.dir, 'requester', 'owner').keyPath);
const renamed = { ...requester, name: keys.operator.name };
const rootPath = join(keys.dir, 'model-trust-root.json');
writeFileSync(
  rootPath,
  JSON.stringify({
    v: 1,
    keys: [keys.owner, keys.owner2, keys.operator, renamed].map(({ name, role, publicKey }) => ({ name, role, publicKey })),
    thresholds: THRESHOLD,
  }),
);
const trustRoot: TrustRoot = parseTrustRoot(JSON.parse(readFileSync(rootPath, 'utf8')));
const OWNERS: PrivateKeyFile[] = [keys.owner, keys.owner2];

type Kind = 'valid' | 'forged' | 'expired' | 'notYetValid' | 'otherWorkflow' | 'otherRun' | 'otherStart' | 'otherSpec' | 'otherTrustRoot' | 'otherAction' | 'operatorSigned' | 'requesterSigned' | 'unknownKey' | 'wrongTree' | 'replayed';

interface Model {
  now: number;
  grants: { id: string; action: GrantAction; signer: string; expiresAt: number; tree?: string }[];
  revoked: Set<string>;
}
interface Real {
  book: GrantBook;
  sent: SignedEnvelope[];
}

function ready(m: Model): { ready: boolean; missing: GrantAction[] } {
  const missing = REQUIRED.filter((a) => {
    const signers = new Set(
      m.grants
        .filter((g) => g.action === a && !m.revoked.has(g.id) && g.expiresAt > m.now && (a === 'OPT4_PRODUCTION' || g.tree === TREE))
        .map((g) => g.signer),
    );
    return signers.size < (THRESHOLD[a] ?? 1);
  });
  return { ready: missing.length === 0, missing };
}

function verdict(m: Model, r: Real) {
  const nonceClaims: Record<string, string> = {};
  for (const g of r.book.grants) nonceClaims[g.payload.nonce] = WF;
  const change: ChangeView = {
    changeId: CHANGE,
    version: 1,
    latestRehearsal: { workflowId: 'r', lane: 'rehearsal', shaped: false, outcome: 'COMPLETED', specHash: SPEC, finishedAt: '', treeHash: TREE },
    latestPrecheck: { workflowId: 'p', lane: 'precheck', shaped: false, outcome: 'COMPLETED', specHash: SPEC, finishedAt: '', treeHash: PRECHECK, validUntil: '2100-01-01T00:00:00Z' },
    nonceClaims,
  };
  return evaluateGate({ workflowId: WF, changeId: CHANGE, lane: 'execution', required: REQUIRED, thresholds: trustRoot.thresholds, grants: r.book.grants, revoked: r.book.revoked, nowMs: m.now, specHash: SPEC, change });
}

/** Steps at which the gate was open: the property means little unless the gate opens often enough. */
let openSteps = 0;

function check(m: Model, r: Real): void {
  const v = verdict(m, r);
  const expected = ready(m);
  if (expected.ready) openSteps++;
  expect(v.ready).toBe(expected.ready);
  expect(v.grantsMissing).toEqual(expected.missing);
}

class SendGrant implements fc.Command<Model, Real> {
  constructor(
    readonly kind: Kind,
    readonly action: GrantAction,
    readonly owner: number,
    readonly validMin: number,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const owner = OWNERS[this.owner]!;
    const opt4 = this.action === 'OPT4_PRODUCTION';
    const base = {
      key: owner, workflowId: WF, runId: RUN, startId: START, specHash: SPEC, trustRoot: trustRoot.fingerprint, changeId: CHANGE, lane: 'execution' as const, action: this.action,
      validForMs: this.validMin * MIN, now: m.now, evidenceTree: opt4 ? undefined : TREE, ...(this.action === 'REAL_RUN' ? { precheckTree: PRECHECK } : {}), ...(opt4 ? { blockersHash: NO_BLOCKERS } : {}),
    };
    let env: SignedEnvelope;
    switch (this.kind) {
      case 'forged': {
        const other = makeEnvelope(base);
        env = { payload: makeEnvelope(base).payload, signature: other.signature };
        break;
      }
      case 'expired': env = makeEnvelope({ ...base, now: m.now - 2 * this.validMin * MIN - 5 * MIN }); break;
      case 'notYetValid': env = makeEnvelope({ ...base, now: m.now + 30 * MIN }); break;
      case 'otherWorkflow': env = makeEnvelope({ ...base, workflowId: 'chg-1.execution.other' }); break;
      case 'otherRun': env = makeEnvelope({ ...base, runId: 'run-model-2' }); break;
      case 'otherStart': env = makeEnvelope({ ...base, startId: '6'.repeat(64) }); break;
      case 'otherSpec': env = makeEnvelope({ ...base, specHash: 'e'.repeat(64) }); break;
      case 'otherTrustRoot': env = makeEnvelope({ ...base, trustRoot: 'f'.repeat(64) }); break;
      case 'otherAction': env = makeEnvelope({ ...base, action: 'CUTOVER', evidenceTree: undefined, precheckTree: undefined, blockersHash: undefined }); break;
      case 'operatorSigned': env = makeEnvelope({ ...base, key: keys.operator }); break;
      case 'requesterSigned': env = makeEnvelope({ ...base, key: renamed }); break;
      case 'unknownKey': env = makeEnvelope({ ...base, key: keys.stranger }); break;
      case 'wrongTree': env = makeEnvelope({ ...base, evidenceTree: 'c'.repeat(64) }); break;
      case 'replayed': env = r.sent[r.sent.length - 1] ?? makeEnvelope({ ...base, now: m.now - 300 * MIN }); break;
      default: env = makeEnvelope(base);
    }
    const receipt = r.book.receive('grant', env, m.now);
    // A wrong evidence tree is accepted into the book (it is well-formed and signed) but never counts where bound.
    // OPT4_PRODUCTION carries no evidence tree at all: one there is malformed.
    const acceptable = this.kind === 'valid' || (this.kind === 'wrongTree' && !opt4);
    expect(receipt.kind).toBe(acceptable ? 'grant' : 'rejected');
    if (receipt.kind === 'grant') {
      r.sent.push(env);
      const p = env.payload;
      m.grants.push({ id: receipt.envelope.id, action: this.action, signer: owner.name, expiresAt: Date.parse(p.expiresAt), ...(p.evidenceTree ? { tree: p.evidenceTree } : {}) });
    }
    check(m, r);
  }
  toString = () => `grant(${this.kind}, ${this.action}, owner${this.owner}, ${this.validMin}m)`;
}

class Revoke implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.grants.length > 0;
  run(m: Model, r: Real): void {
    const target = m.grants[this.pick % m.grants.length]!;
    const env = makeEnvelope({ key: keys.owner2, workflowId: WF, runId: RUN, startId: START, specHash: SPEC, trustRoot: trustRoot.fingerprint, changeId: CHANGE, lane: 'execution', action: 'REVOKE', revokes: target.id, validForMs: 10 * MIN, now: m.now });
    expect(r.book.receive('revoke', env, m.now).kind).toBe('revoke');
    m.revoked.add(target.id);
    check(m, r);
  }
  toString = () => `revoke(${this.pick})`;
}

class Advance implements fc.Command<Model, Real> {
  constructor(readonly minutes: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.now += this.minutes * MIN;
    check(m, r);
  }
  toString = () => `advance(${this.minutes}m)`;
}

const KINDS: Kind[] = [...Array<Kind>(15).fill('valid'), 'forged', 'expired', 'notYetValid', 'otherWorkflow', 'otherRun', 'otherStart', 'otherSpec', 'otherTrustRoot', 'otherAction', 'operatorSigned', 'requesterSigned', 'unknownKey', 'wrongTree', 'replayed'];
const commands = [
  // Grants are most of the traffic, so sequences often reach an open gate and then lose it again.
  ...Array.from({ length: 5 }, () => fc.tuple(fc.constantFrom(...KINDS), fc.constantFrom(...REQUIRED), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 10, max: 240 })).map(([k, a, o, v]) => new SendGrant(k, a, o, v))),
  fc.nat().map((n) => new Revoke(n)),
  fc.integer({ min: 1, max: 60 }).map((n) => new Advance(n)),
];

describe('gate rules, model-based (fast-check)', () => {
  it('agrees with the model on every step of 1,000 random command sequences', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 30, size: 'max' }), (cmds) => {
        const model: Model = { now: T0, grants: [], revoked: new Set() };
        const real: Real = {
          book: new GrantBook({ trustRoot, workflowId: WF, runId: RUN, startId: START, specHash: SPEC, changeId: CHANGE, lane: 'execution', accepts: REQUIRED, laneOperator: { keyId: keys.operator.keyId, name: keys.operator.name } }, verifyEd25519Node),
          sent: [],
        };
        fc.modelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: 1000 },
    );
    // The property is only meaningful if the gate actually opens in a fair share of runs.
    expect(openSteps).toBeGreaterThan(200);
  });
});
