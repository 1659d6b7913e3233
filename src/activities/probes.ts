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
import { sealDrift, sealEntry, SEAL_DRIFT_KINDS } from '../domain/seal';
import { changeSpecSchema } from '../domain/change-spec';
import { isolationProblem } from '../domain/isolation';
import type { ProbeReport, ProbeResult } from '../domain/lane-status';
import { verifyEvidenceDir, writeEvidencePacket } from '../evidence/local-store';
import { exclusive, pgliteIdentity, pgliteSession } from './targets/pglite';
import { stampInstance } from './targets/target';
import { sqlContainmentProblems } from '../sql/containment';

/** The spec hash probe envelopes are bound to (any fixed value: the probes test the binding, not a spec). */
const PROBE_SPEC = 'c'.repeat(64);
const PROBE_START = 'd'.repeat(64);

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
  // The lane operator's own owner key: the same person (the trust root says so), another role and key.
  const sameperson = mk('probe-operator', 'owner');
  const outsider = mk('probe-outsider', 'owner');
  const root: TrustRoot = parseTrustRoot({
    v: 2,
    people: [
      { id: 'probe-owner', name: 'Probe Owner', keys: [{ role: 'owner', publicKey: owner.pub }] },
      { id: 'probe-operator', name: 'Probe Operator', keys: [operator, sameperson].map(({ role, pub }) => ({ role, publicKey: pub })) },
    ],
  });
  // A key outside the trust root still needs a well-formed id to reach the UNKNOWN_KEY rule.
  const keyIdOf = (pub: string) => root.keys.find((k) => k.publicKey === pub)?.keyId ?? '0123456789abcdef';
  const now = Date.parse('2026-06-12T10:00:00Z');
  const ctx: EnvelopeContext = {
    trustRoot: root,
    workflowId: 'probe.execution.1',
    runId: 'probe-run-1',
    startId: PROBE_START,
    specHash: PROBE_SPEC,
    changeId: 'probe',
    lane: 'execution',
    acceptedActions: ['REAL_RUN'],
    laneOperator: { keyId: keyIdOf(operator.pub), person: 'probe-operator', name: operator.name },
    nowMs: now,
    usedNonces: new Set(['ab'.repeat(16)]),
  };
  // Fields set to undefined are left out, as the CLI leaves out fields an action does not carry.
  const sign = (key: { priv: string; pub: string }, over: Partial<EnvelopePayload> = {}): SignedEnvelope =>
    signEnvelope(
      JSON.parse(JSON.stringify({
        v: 2, changeId: 'probe', workflowId: 'probe.execution.1', lane: 'execution', action: 'REAL_RUN', nonce: randomBytes(16).toString('hex'),
        trustRoot: root.fingerprint, specHash: PROBE_SPEC, runId: 'probe-run-1', startId: PROBE_START, evidenceTree: 'e'.repeat(64), precheckTree: 'f'.repeat(64),
        issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 600_000).toISOString(), keyId: keyIdOf(key.pub), ...over,
      })),
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
    { id: 'grant: payload altered after signing', run: refused({ ...valid, payload: { ...valid.payload, expiresAt: new Date(now + 86_400_000).toISOString() } }, 'BAD_SIGNATURE') },
    { id: 'grant: expired', run: refused(sign(owner, { issuedAt: new Date(now - 7_200_000).toISOString(), expiresAt: new Date(now - 3_600_000).toISOString() }), 'EXPIRED') },
    { id: 'grant: lives longer than the trust root allows', run: refused(sign(owner, { expiresAt: new Date(now + 25 * 3_600_000).toISOString() }), 'TOO_LONG') },
    { id: 'grant: not yet valid', run: refused(sign(owner, { issuedAt: new Date(now + 3_600_000).toISOString(), expiresAt: new Date(now + 7_200_000).toISOString() }), 'NOT_YET_VALID') },
    { id: 'grant: other workflow', run: refused(sign(owner, { workflowId: 'probe.execution.2' }), 'OTHER_WORKFLOW') },
    { id: 'grant: other action', run: refused(sign(owner, { action: 'APPLY', precheckTree: undefined }), 'ACTION_NOT_HERE') },
    { id: 'grant: replayed nonce', run: refused(sign(owner, { nonce: 'ab'.repeat(16) }), 'REPLAYED') },
    { id: 'grant: operator-signed', run: refused(sign(operator), 'WRONG_ROLE') },
    { id: "grant: signed by the lane operator's own owner key", run: refused(sign(sameperson), 'LANE_OPERATOR') },
    // Bindings (DESIGN.md §Grants): a grant replayed into another run of the same workflow id, for another spec
    // (other SQL or target), or signed under another trust root, authorises nothing here.
    { id: 'grant: other run of the same workflow id', run: refused(sign(owner, { runId: 'probe-run-2' }), 'OTHER_RUN') },
    { id: "grant: for another operator's start (replayed under a reused id)", run: refused(sign(owner, { startId: '0'.repeat(64) }), 'OTHER_START') },
    { id: 'grant: other change spec (other SQL)', run: refused(sign(owner, { specHash: '0'.repeat(64) }), 'OTHER_SPEC') },
    { id: 'grant: signed under another trust root', run: refused(sign(owner, { trustRoot: '1'.repeat(64) }), 'OTHER_TRUST_ROOT') },
    { id: 'grant: v1 envelope (unbound to spec and run)', run: refused(sign(owner, { v: 1 as never }), 'MALFORMED') },
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
    { id: 'SQL outside the surface', run: refusedSql('DELETE FROM users; DROP TABLE probe_surface;', /relation users is outside/, surface) },
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
          await writeEvidencePacket(join(dir, '..'), dir, { 'a.json': '{"a":1}\n' });
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
    // ── SQL containment (issue 12): keep this section last ──
    ...sqlContainmentProbes(),
  ];
  const results: ProbeResult[] = [];
  for (const p of probes) {
    // Each probe is a few milliseconds of CPU on the worker's main thread, which also hands workflow tasks to the
    // workflow thread: yielding between probes lets the lane's own start go on (on the other core) while they run.
    await new Promise<void>((resolve) => setImmediate(resolve));
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

/**
 * Feeds `apply` as a step's SQL to the containment check every lane runs first (src/sql/containment.ts), in a
 * change whose surface is `surface`; refused when a problem matches `reason` (so a refusal for some other reason
 * does not count).
 */
function refusedSql(apply: string, reason: RegExp, surface: { tables: string[]; functions: string[] } = { tables: ['birth_registry'], functions: [] }) {
  return async () => {
    const problems = await sqlContainmentProblems({ v: 1, id: 'probe', title: 'probe', surface, steps: [{ id: 'probe-step', action: 'APPLY', apply, rollback: 'SELECT 1' }] });
    if (problems.length === 0) return undefined;
    const hit = problems.find((p) => reason.test(p));
    return hit ? `refused: ${hit.slice(0, 160)}` : `refused for another reason: ${problems[0]}`;
  };
}

/**
 * SQL containment probes: the payloads that once passed the keyword scan and the read-only dry-run (each was
 * reproduced against production), the other classes the parser-based check refuses, the extended protocol's
 * one-statement rule the dry-run relies on, and clones that share production's cluster.
 */
function sqlContainmentProbes(): Probe[] {
  const postgresId = (system: string | null, database: string) => ({ engine: 'postgres' as const, system, database, instance: null });
  return [
    { id: "SQL: COMMIT and DELETE hidden behind a non-ASCII dollar tag", run: refusedSql("SELECT $é$'$é$; COMMIT; DELETE FROM/**/users; COMMIT; BEGIN READ ONLY; SAVEPOINT explain; SAVEPOINT step; SELECT $é$'$é$", /COMMIT \(transaction control\)/) },
    { id: 'SQL: DELETE FROM/**/users', run: refusedSql('DELETE FROM/**/users', /relation users is outside/) },
    { id: 'SQL: TRUNCATE users', run: refusedSql('TRUNCATE users', /relation users is outside/) },
    { id: 'SQL: DROP SCHEMA x CASCADE', run: refusedSql('DROP SCHEMA x CASCADE', /CASCADE/) },
    { id: 'SQL: DO block with EXECUTE of built text', run: refusedSql("DO $$ BEGIN EXECUTE 'DROP TABLE ' || 'users'; END $$", /EXECUTE of SQL text/) },
    { id: 'SQL: ALTER ROLE app SUPERUSER', run: refusedSql('ALTER ROLE app SUPERUSER', /role or privilege statement/) },
    { id: 'SQL: ALTER DATABASE prod CONNECTION LIMIT 0', run: refusedSql('ALTER ROLE app NOLOGIN; ALTER DATABASE prod CONNECTION LIMIT 0', /statement 2 .*database-level statement/) },
    { id: 'SQL: SET SESSION CHARACTERISTICS … READ WRITE', run: refusedSql('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE', /transaction control/) },
    { id: 'SQL: SET ROLE', run: refusedSql('SET ROLE postgres', /SET role \(session state\)/) },
    { id: "SQL: set_config('transaction_read_only', 'off')", run: refusedSql("SELECT set_config('transaction_read_only', 'off', true)", /session state/) },
    { id: 'SQL: COPY … TO PROGRAM', run: refusedSql("COPY birth_registry TO PROGRAM 'sh -c id'", /server-level/) },
    { id: 'SQL: dblink', run: refusedSql("SELECT dblink_exec('dbname=prod', 'DELETE FROM users')", /server-level/) },
    { id: 'SQL: write to the gated_lanes bookkeeping schema', run: refusedSql("DELETE FROM gated_lanes.applied_steps", /bookkeeping schema/) },
    { id: 'SQL: PL/pgSQL body reaching outside the surface', run: refusedSql('CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $b$ BEGIN DELETE FROM users; END $b$', /relation users is outside/) },
    {
      id: 'extended protocol: two statements in one message',
      run: async () => {
        const db = await probeDatabase();
        return exclusive(db, async (d) => {
          try {
            await pgliteSession(d).statement('SELECT 1; SELECT 2');
            return undefined;
          } catch (err) {
            return /multiple commands/.test((err as Error).message) ? 'refused' : `refused for another reason: ${(err as Error).message}`;
          }
        });
      },
    },
    { id: "clone on production's own cluster (another database)", run: () => isolationProblem(postgresId('7', 'prod:1'), postgresId('7', 'clone:2')) && 'refused' },
    { id: 'clone whose cluster cannot be identified', run: () => isolationProblem(postgresId(null, 'prod:1'), postgresId('8', 'clone:2')) && 'refused' },
  ];
}
