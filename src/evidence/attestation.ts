/**
 * Worker attestations: provenance for what the shared evidence store holds. The store is writable by every worker and
 * CLI user, so a row there proves only that its bytes hash to its tree, not that a lane produced them. A worker signs,
 * with its own key (listed under the pinned trust root's `workers`), a statement binding what it wrote — an evidence
 * tree or a decision packet — to the change, workflow and run its point of action verified; a reader accepts a stored
 * packet only with a statement for exactly that packet, signed by a worker key of the reader's own trust root.
 *
 * Worker keys are not people's keys: the trust root keeps them apart, so no envelope (grant, START, blocker move,
 * charter) can be verified under one (src/domain/trust-root.ts, findKey).
 */
import { createHash } from 'node:crypto';
import { canonicalize } from '../domain/canonical-json';
import { signCanonical } from '../domain/signing';
import { findWorker, type TrustRoot, type TrustedWorker } from '../domain/trust-root';
import { verifyEd25519Node } from '../worker/node-signature';
import { readPrivateKey, type PrivateKeyFile } from '../cli/key-files';
import { readTrustRootFile } from '../worker/trust-root-file';
import type { PacketKey } from './packet';

/** What a worker signs for an evidence packet it wrote (canonical JSON; `at` orders runs of one workflow id). */
export interface EvidenceStatement extends PacketKey {
  v: 1;
  kind: 'evidence';
  tree: string;
  /** Fingerprint of the trust root the writing worker ran under (for the record; readers check their own). */
  trustRoot: string;
  at: string;
}

/** What a worker signs for a decision packet it wrote: the sha256 of each of its two texts. */
export interface DecisionStatement extends PacketKey {
  v: 1;
  kind: 'decision';
  jsonSha256: string;
  markdownSha256: string;
  trustRoot: string;
  at: string;
}

export type Statement = EvidenceStatement | DecisionStatement;

/** As stored: the statement exactly as signed (canonical JSON text), the signing key's id, the signature. */
export interface SignedAttestation {
  keyId: string;
  statement: string;
  signature: string;
}

/** An attestation that verified: the statement, and the worker of the reader's trust root that signed it. */
export interface VerifiedAttestation<S extends Statement = Statement> {
  statement: S;
  worker: TrustedWorker;
  /** As stored (kept with a cached packet, re-verified when the copy is used). */
  raw: SignedAttestation;
}

export const sha256Hex = (text: string | Uint8Array): string => createHash('sha256').update(text).digest('hex');

/** A worker's signing side: its key (role worker) and the trust root file it runs under. */
export class Attester {
  constructor(
    readonly key: PrivateKeyFile,
    private readonly trustRootPath: string,
  ) {}

  get keyId(): string {
    return this.key.keyId;
  }

  async sign<S extends Statement>(statement: Omit<S, 'v' | 'trustRoot' | 'at'>): Promise<SignedAttestation> {
    const trustRoot = (await readTrustRootFile(this.trustRootPath)).fingerprint;
    const full = { ...statement, v: 1, trustRoot, at: new Date().toISOString() };
    return { keyId: this.key.keyId, statement: canonicalize(full), signature: signCanonical(full, this.key.privateKey) };
  }
}

/** Where a worker's key and trust root are; see src/worker/config.ts. */
export interface AttesterConfig {
  workerKeyPath?: string | undefined;
  trustRootPath?: string | undefined;
}

const FIX = 'make one with `lanes keys new --role worker --name <host> --out <dir>`, list its .pub under the trust root\'s "workers" as {"id": "<host>", "publicKey": "…"}, and set LANES_WORKER_KEY=<dir>/<host>.key';

/** The worker's attester from LANES_WORKER_KEY: a readable (mode 0600) key file of role worker. Throws saying what to fix. */
export function attesterOf(cfg: AttesterConfig): Attester {
  if (!cfg.workerKeyPath) throw new Error(`LANES_WORKER_KEY is not set: a worker publishing to the shared evidence store (LANES_EVIDENCE_URL) must attest what it writes with its worker key; ${FIX}`);
  if (!cfg.trustRootPath) throw new Error('LANES_TRUST_ROOT is not set: a worker must know which owner keys and worker keys to trust');
  let key: PrivateKeyFile;
  try {
    key = readPrivateKey(cfg.workerKeyPath);
  } catch (err) {
    throw new Error(`LANES_WORKER_KEY: ${(err as Error).message}`);
  }
  if (key.role !== 'worker') throw new Error(`LANES_WORKER_KEY names ${cfg.workerKeyPath}, an ${key.role} key (${key.name}); a worker attests with a worker key of its own, never a person's: ${FIX}`);
  return new Attester(key, cfg.trustRootPath);
}

/**
 * The worker's attester, checked whole (at startup): LANES_WORKER_KEY names a worker key file whose key the trust
 * root at LANES_TRUST_ROOT lists under `workers`. Throws an Error saying what is wrong, where, and how to fix it.
 */
export async function loadAttester(cfg: AttesterConfig): Promise<Attester> {
  const attester = attesterOf(cfg);
  const key = attester.key;
  const root = await readTrustRootFile(cfg.trustRootPath!);
  const listed = findWorker(root, key.keyId);
  if (!listed) throw new Error(`the worker key ${cfg.workerKeyPath} (${key.name}, key id ${key.keyId}) is not listed under "workers" in the trust root ${cfg.trustRootPath}, so no other host would accept what this worker publishes; add {"id": "${key.name}", "publicKey": "${key.publicKey}"} to its "workers" (on every host) and restart`);
  return attester;
}

/**
 * The attestations that verify under `trustRoot` and whose statement `bind` accepts; with the reasons the others do
 * not. A statement is believed only as signed: its canonical text is parsed, re-canonicalised and must be identical.
 */
export function verifyAttestations<S extends Statement>(
  attestations: readonly SignedAttestation[],
  trustRoot: Pick<TrustRoot, 'workers'>,
  bind: (statement: Statement) => string | undefined,
): { verified: VerifiedAttestation<S>[]; problems: string[] } {
  const verified: VerifiedAttestation<S>[] = [];
  const problems: string[] = [];
  for (const a of attestations) {
    const worker = findWorker(trustRoot, a.keyId);
    if (!worker) {
      problems.push(`an attestation by key ${a.keyId} is by no worker the trust root lists`);
      continue;
    }
    if (!verifyEd25519Node(worker.publicKey, new TextEncoder().encode(a.statement), a.signature)) {
      problems.push(`an attestation by worker ${worker.id} (${a.keyId}) has a signature that does not verify`);
      continue;
    }
    let statement: Statement;
    try {
      statement = JSON.parse(a.statement) as Statement;
      if (canonicalize(statement) !== a.statement || statement.v !== 1) throw new Error('not canonical');
    } catch {
      problems.push(`an attestation by worker ${worker.id} (${a.keyId}) is not a statement this release reads`);
      continue;
    }
    const wrong = bind(statement);
    if (wrong) problems.push(`an attestation by worker ${worker.id} (${a.keyId}) ${wrong}`);
    else verified.push({ statement: statement as S, worker, raw: a });
  }
  return { verified, problems };
}

/** The binding check for an evidence attestation: for exactly this tree. */
export function forTree(tree: string): (s: Statement) => string | undefined {
  return (s) => (s.kind !== 'evidence' ? `is for a ${String(s.kind)}, not an evidence packet` : s.tree !== tree ? `is for tree ${String(s.tree)}, not ${tree}` : undefined);
}

/** Who attested, for messages: `worker host-a (key 0123…) for change c, workflow w, run r`. */
export function describeAttestation(a: VerifiedAttestation): string {
  return `worker ${a.worker.id} (key ${a.worker.keyId}) for change ${a.statement.changeId}, workflow ${a.statement.workflowId}, run ${a.statement.runId}, at ${a.statement.at}`;
}
