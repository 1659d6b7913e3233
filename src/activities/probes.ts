/**
 * Bad-input probes (seeds 001–003: "N/N bad-input probes fail closed"): each feeds one bad input to the very
 * validator or gate a lane relies on — envelope rules, trust-root parsing, the surface check, a read-only
 * transaction, the seal gate, evidence verification, change-spec validation, the isolation check — and expects a
 * refusal. Envelope probes are signed with throwaway keys in a throwaway trust root, so each reaches the rule it
 * is aimed at instead of stopping at "unknown key". A probe that is *accepted* is a broken gate: the lane fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { bytesToHex } from '@noble/hashes/utils';
import { ed25519 } from '@noble/curves/ed25519';
import { verifyEnvelope, type EnvelopeContext } from '../domain/envelope-rules';
import type { EnvelopePayload, SignedEnvelope } from '../domain/envelope';
import { verifyEd25519Strict } from '../domain/keys';
import { signEnvelope } from '../domain/signing';
import { parseTrustRoot, type TrustRoot } from '../domain/trust-root';
import { objectsOutsideSurface } from '../domain/surface-sql';
import { sealDrift, sealEntry, SEAL_DRIFT_KINDS } from '../domain/seal';
import { changeSpecSchema } from '../domain/change-spec';
import { isolationProblem } from '../domain/isolation';
import type { ProbeReport, ProbeResult } from '../domain/lane-status';
import { verifyEvidenceDir, writeEvidencePacket } from './evidence';
import { exclusive, pgliteIdentity, pgliteSession } from './targets/pglite';
import { stampInstance } from './targets/target';

let probeDb: Promise<PGlite> | undefined;
/** One in-memory database per process for the read-only probe: starting PGlite costs seconds, probing does not. */
function probeDatabase(): Promise<PGlite> {
  probeDb ??= PGlite.create().then(async (db) => {
    await stampInstance(pgliteSession(db), randomUUID());
    return db;
  });
  return probeDb;
}

type Probe = { id: string; run: () => Promise<string | undefined> | string | undefined };

/** Probes of the envelope rules, in a throwaway trust root: each returns the refusal code, or undefined if accepted. */
function envelopeProbes(): Probe[] {
  const mk = (name: string, role: 'owner' | 'operator') => {
    const priv = bytesToHex(ed25519.utils.randomPrivateKey());
    return { name, role, priv, pub: bytesToHex(ed25519.getPublicKey(priv)) };
  };
  const owner = mk('probe-owner', 'owner');
  const operator = mk('probe-operator', 'operator');
  // The lane operator's own owner key: same person (name), other role.
  const sameperson = mk('probe-operator', 'owner');
  const outsider = mk('probe-outsider', 'owner');
  const root: TrustRoot = parseTrustRoot({ v: 1, keys: [owner, operator, sameperson].map(({ name, role, pub }) => ({ name, role, publicKey: pub })) });
  // A key outside the trust root still needs a well-formed id to reach the UNKNOWN_KEY rule.
  const keyIdOf = (pub: string) => root.keys.find((k) => k.publicKey === pub)?.keyId ?? '0123456789abcdef';
  const now = Date.parse('2026-06-12T10:00:00Z');
  const ctx: EnvelopeContext = {
    trustRoot: root,
    workflowId: 'probe.execution.1',
    changeId: 'probe',
    lane: 'execution',
    acceptedActions: ['REAL_RUN'],
    laneOperator: { keyId: keyIdOf(operator.pub), name: operator.name },
    nowMs: now,
    usedNonces: new Set(['ab'.repeat(16)]),
  };
  const sign = (key: { priv: string; pub: string }, over: Partial<EnvelopePayload> = {}): SignedEnvelope =>
    signEnvelope(
      {
        v: 1, changeId: 'probe', workflowId: 'probe.execution.1', lane: 'execution', action: 'REAL_RUN', nonce: randomBytes(16).toString('hex'),
        issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 600_000).toISOString(), keyId: keyIdOf(key.pub), ...over,
      },
      key.priv,
    );
  const refused = (raw: unknown, code: string) => () => {
    const v = verifyEnvelope(raw, ctx, verifyEd25519Strict);
    return v.ok ? undefined : v.code === code ? v.code : `${v.code} (expected ${code})`;
  };
  const valid = sign(owner);
  const control = verifyEnvelope(valid, ctx, verifyEd25519Strict);
  if (!control.ok) throw new Error(`probe control envelope was refused (${control.reason}); the probes would prove nothing`);
  return [
    { id: 'grant: malformed envelope', run: refused('not an envelope', 'MALFORMED') },
    { id: 'grant: unsigned', run: refused({ payload: valid.payload }, 'MALFORMED') },
    { id: 'grant: wrong key (not in the trust root)', run: refused(sign(outsider), 'UNKNOWN_KEY') },
    { id: 'grant: payload altered after signing', run: refused({ ...valid, payload: { ...valid.payload, action: 'CUTOVER' } }, 'BAD_SIGNATURE') },
    { id: 'grant: expired', run: refused(sign(owner, { issuedAt: new Date(now - 7_200_000).toISOString(), expiresAt: new Date(now - 3_600_000).toISOString() }), 'EXPIRED') },
    { id: 'grant: not yet valid', run: refused(sign(owner, { issuedAt: new Date(now + 3_600_000).toISOString(), expiresAt: new Date(now + 7_200_000).toISOString() }), 'NOT_YET_VALID') },
    { id: 'grant: other workflow', run: refused(sign(owner, { workflowId: 'probe.execution.2' }), 'OTHER_WORKFLOW') },
    { id: 'grant: other action', run: refused(sign(owner, { action: 'CUTOVER' }), 'ACTION_NOT_HERE') },
    { id: 'grant: replayed nonce', run: refused(sign(owner, { nonce: 'ab'.repeat(16) }), 'REPLAYED') },
    { id: 'grant: operator-signed', run: refused(sign(operator), 'WRONG_ROLE') },
    { id: "grant: signed by the lane operator's own owner key", run: refused(sign(sameperson), 'LANE_OPERATOR') },
    {
      id: 'trust root: small-order public key',
      run: () => {
        try {
          parseTrustRoot({ v: 1, keys: [{ name: 'weak', role: 'owner', publicKey: '01' + '00'.repeat(31) }] });
          return undefined;
        } catch (err) {
          return (err as Error).message.includes('small-order') ? 'refused' : `refused for another reason: ${(err as Error).message}`;
        }
      },
    },
  ];
}

export async function runProbes(): Promise<ProbeReport> {
  const surface = { tables: ['probe_surface'], functions: [] };
  const sealed = '{"t": "birth — registry"}\n';
  const enc = (s: string) => new TextEncoder().encode(s);
  const entry = sealEntry('sealed.json', enc(sealed));
  const drifted: Record<(typeof SEAL_DRIFT_KINDS)[number], Uint8Array | undefined> = {
    'missing file': undefined,
    'sha mismatch': enc(sealed.replace('registry', 'registrY')),
    'byte-length mismatch': enc(`${sealed} `),
    BOM: new Uint8Array([0xef, 0xbb, 0xbf, ...enc(sealed)]),
    CRLF: enc(sealed.replace('\n', '\r\n')),
    'ensure_ascii JSON re-encode': enc(sealed.replace('—', '\\u2014')),
    'Unicode drift': enc(sealed.replace('—', '-')),
  };
  const probes: Probe[] = [
    ...envelopeProbes(),
    { id: 'SQL outside the surface', run: () => (objectsOutsideSurface('DELETE FROM users; DROP TABLE probe_surface;', surface).includes('users') ? 'refused' : undefined) },
    {
      id: 'a write in a read-only (dry-run) transaction',
      run: async () => {
        const db = await probeDatabase();
        return exclusive(db, async () => {
          await db.exec('BEGIN READ ONLY');
          try {
            await db.exec('CREATE TABLE probe_write (x int)');
            return undefined;
          } catch {
            return 'refused';
          } finally {
            await db.exec('ROLLBACK');
          }
        });
      },
    },
    ...SEAL_DRIFT_KINDS.map((kind) => ({ id: `seal: ${kind}`, run: () => (sealDrift(entry, drifted[kind]).includes(kind) ? 'named' : undefined) })),
    {
      id: 'tampered evidence (one byte)',
      run: async () => {
        const dir = join(mkdtempSync(join(tmpdir(), 'lanes-probe-')), 'packet');
        try {
          await writeEvidencePacket(dir, { 'a.json': '{"a":1}\n' });
          writeFileSync(join(dir, 'a.json'), '{"a":2}\n');
          return verifyEvidenceDir(dir).problems.length > 0 ? 'refused' : undefined;
        } finally {
          rmSync(join(dir, '..'), { recursive: true, force: true });
        }
      },
    },
    { id: 'malformed change spec', run: () => (changeSpecSchema.safeParse({ v: 1, id: 'x', title: 't', steps: [{ id: 's', action: 'YOLO' }] }).success ? undefined : 'refused') },
    {
      // A clone "URL" that reaches production itself: the same database answers both identity reads.
      id: 'clone == production',
      run: async () => {
        const db = await probeDatabase();
        const identity = () => exclusive(db, (d) => pgliteIdentity('probe', d));
        return isolationProblem(await identity(), await identity()) && 'refused';
      },
    },
  ];
  const results: ProbeResult[] = [];
  for (const p of probes) {
    let verdict: string | undefined;
    try {
      verdict = await p.run();
    } catch (err) {
      verdict = `probe errored: ${(err as Error).message}`;
    }
    results.push({ id: p.id, failedClosed: verdict !== undefined && !verdict.includes('expected') && !verdict.startsWith('probe errored') && !verdict.includes('another reason'), detail: verdict ?? 'ACCEPTED' });
  }
  return { total: results.length, failedClosed: results.filter((r) => r.failedClosed).length, results };
}
