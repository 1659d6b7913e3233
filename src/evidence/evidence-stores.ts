/**
 * A host's view of evidence: its own disk (LANES_HOME, always) and, in a cluster, the shared store every host reads
 * (LANES_EVIDENCE_URL). Writes go to both before they count; reads try the disk first and fall back to the shared
 * store, and whatever either returns is re-hashed against the tree asked for before a byte of it is used.
 *
 * Content is not provenance: every worker and CLI user can write to the shared store. So a worker attests each
 * packet it publishes (src/evidence/attestation.ts), and a packet read from the store counts only with an attestation
 * for exactly its tree by a worker key of the reader's trust root. This disk's own packets are this host's worker's.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvidenceRef } from '../domain/lane-status';
import { canonicalize } from '../domain/canonical-json';
import type { TrustRoot } from '../domain/trust-root';
import { cacheLocalPacket, evidenceDir, localTreesOf, readCachedAttestations, resolveLocalTree, safeSegment, writeLocalPacket } from './local-store';
import { memoryPacket, packetOf, packetProblems, parseManifest, TREE_HASH, type PacketKey, type Resolution } from './packet';
import type { DecisionText, SharedEvidenceStore } from './shared-store';
import { describeAttestation, forTree, sha256Hex, verifyAttestations, type Attester, type DecisionStatement, type EvidenceStatement, type VerifiedAttestation } from './attestation';

/** How a read judges provenance: the trust root whose worker keys attest, and whether an unattested packet may be shown. */
export interface ReadOptions {
  /** The reader's pinned trust root (LANES_TRUST_ROOT): only its `workers` attest. Without it nothing from the store counts. */
  trustRoot?: Pick<TrustRoot, 'workers'> | undefined;
  /** Return a verified-but-unattested packet from the store, marked `unattested` (the CLI's --unattested; never a worker). */
  unattested?: boolean;
}

/** A decision packet as read: from this disk (its own worker wrote it), or from the store with its verified attestation. */
export type DecisionRead = { text: string; from: string; attestedBy?: VerifiedAttestation } | { problem: string };

const keyOf = (s: PacketKey): PacketKey => ({ changeId: s.changeId, workflowId: s.workflowId, runId: s.runId });

export class EvidenceStores {
  constructor(
    readonly lanesHome: string,
    readonly shared: SharedEvidenceStore | undefined,
    /**
     * Whether a packet verified from the shared store is kept on this disk (workers yes; the CLI's pull no), and the
     * worker's attester (its worker key): every packet and decision published to the shared store is attested.
     */
    private readonly opts: { cache: boolean; attester?: Attester | undefined } = { cache: true },
  ) {}

  /** The worker's attestation of what it is about to publish; a shared store without an attester publishes nothing. */
  private attester(): Attester {
    if (!this.opts.attester) throw new Error('this worker has no worker key (LANES_WORKER_KEY) to attest what it publishes to the shared evidence store; it must not publish unattested packets');
    return this.opts.attester;
  }

  /**
   * Writes a lane run's packet to this host's disk (so `EvidenceRef.dir` is a real directory here) and then to the
   * shared store. A lane must never report a tree no other host can read: if publishing fails, this throws, the
   * activity fails, and Temporal retries it.
   */
  async writePacket(key: PacketKey, files: Record<string, string | Uint8Array>): Promise<EvidenceRef> {
    const packet = packetOf(files);
    const dir = evidenceDir(this.lanesHome, key.changeId, key.workflowId, key.runId);
    await writeLocalPacket(this.lanesHome, dir, packet);
    if (this.shared) await this.shared.publishPacket(key, packet, await this.attester().sign<EvidenceStatement>({ kind: 'evidence', tree: packet.tree, ...keyOf(key) }));
    return { dir, treeHash: packet.tree, files: packet.files.size };
  }

  /**
   * The packet with this tree, verified. Local first; when the disk has no good copy, the shared store's, which is
   * re-hashed here in memory and counts only with an attestation for exactly this tree by a worker key of
   * `opts.trustRoot` (then it is kept on disk with its attestations, re-verified whenever the copy is used). The
   * packet says which runs it is bound to (`bound`) so callers check it belongs to their change. Fails closed:
   * anything missing, unreadable, not matching or not attested is a problem naming what and where.
   */
  async resolve(tree: string, opts: ReadOptions = {}): Promise<Resolution> {
    if (!TREE_HASH.test(tree)) return { problem: `${tree} is not a tree hash` };
    const found = resolveLocalTree(this.lanesHome, tree);
    let localProblem: string;
    if ('problem' in found) localProblem = found.problem;
    else {
      const { cached, ...local } = found;
      if (!cached) return local; // this host's worker wrote it, in the directory of its run
      const att = opts.trustRoot ? verifyAttestations<EvidenceStatement>(readCachedAttestations(this.lanesHome, tree), opts.trustRoot, forTree(tree)) : undefined;
      if (att && att.verified.length > 0) return { ...local, bound: att.verified.map((a) => keyOf(a.statement)), attestedBy: att.verified };
      localProblem = `the copy of tree ${tree} cached from the shared store (${local.where}) is not attested by a worker of the trust root (${att ? att.problems.join('; ') || 'no attestation kept with it' : 'no trust root to check it against'})`;
    }
    if (!this.shared) return { problem: localProblem };
    const where = `the shared evidence store (${this.shared.label})`;
    let stored;
    try {
      stored = await this.shared.fetchPacket(tree);
    } catch (err) {
      return { problem: `${localProblem}; and ${where} cannot be read: ${(err as Error).message}` };
    }
    if (!stored) return { problem: `${localProblem}; and ${where} has no packet with tree ${tree}` };
    const problems = packetProblems(tree, stored.manifest, (e) => stored.blobs.get(e.sha256));
    if (problems.length > 0) return { problem: `${localProblem}; and the packet with tree ${tree} in ${where} does not verify: ${problems.join('; ')}` };
    const files = new Map(parseManifest(stored.manifest).entries.map((e) => [e.path, stored.blobs.get(e.sha256)!]));
    const content = { tree, manifest: stored.manifest, files };
    // Provenance: the bytes hash to the tree, but anyone with the store's URL can publish bytes. Only a worker key
    // of the reader's own trust root, signing a statement for exactly this tree, says a lane produced them.
    const att = opts.trustRoot ? verifyAttestations<EvidenceStatement>(stored.attestations, opts.trustRoot, forTree(tree)) : undefined;
    if (!att || att.verified.length === 0) {
      const why = !att ? 'there is no trust root to check attestations against (LANES_TRUST_ROOT)' : att.problems.length > 0 ? att.problems.join('; ') : 'no worker attestation is stored for it';
      const problem = `the packet with tree ${tree} in ${where} is NOT ATTESTED by any worker in the trust root (${why}); anyone who can write to the store could have made it, so it proves nothing (${localProblem})`;
      return opts.unattested ? memoryPacket(content, where, { bound: [], attestedBy: [], unattested: problem }) : { problem };
    }
    // A cache only: a disk that cannot take it costs the next resolve a fetch, never this one its answer.
    if (this.opts.cache) await cacheLocalPacket(this.lanesHome, content, att.verified.map((a) => a.raw)).catch(() => undefined);
    return memoryPacket(content, `${where}, attested by ${describeAttestation(att.verified[0]!)}`, { bound: att.verified.map((a) => keyOf(a.statement)), attestedBy: att.verified });
  }

  /**
   * The trees of a workflow id, newest first: from the shared store, only trees a worker of `trustRoot` attested as
   * that workflow's (newest attested run first); then this disk's own packets. The store's runs index is not asked:
   * anyone can add a row to it.
   */
  async treesOf(workflowId: string, trustRoot?: Pick<TrustRoot, 'workers'>): Promise<{ tree: string; where: string }[]> {
    let shared: { tree: string; where: string }[] = [];
    if (this.shared && trustRoot) {
      const { verified } = verifyAttestations<EvidenceStatement>(await this.shared.attestationsOf(workflowId), trustRoot, (st) =>
        st.kind !== 'evidence' ? 'is not for an evidence packet' : st.workflowId !== workflowId ? `binds workflow ${String(st.workflowId)}, not ${workflowId}` : !TREE_HASH.test(String(st.tree)) ? 'names no tree' : undefined,
      );
      verified.sort((a, b) => (a.statement.at < b.statement.at ? 1 : a.statement.at > b.statement.at ? -1 : 0));
      const seen = new Set<string>();
      shared = verified.filter((a) => !seen.has(a.statement.tree) && seen.add(a.statement.tree)).map((a) => ({ tree: a.statement.tree, where: `${this.shared!.label}, attested by ${describeAttestation(a)}` }));
    }
    return [...shared, ...localTreesOf(this.lanesHome, workflowId).map((r) => ({ tree: r.tree, where: r.dir }))];
  }

  /** Where a lane run's decision packet lives on disk: next to (not inside) its evidence, one file pair per run. */
  decisionBase(key: PacketKey): string {
    return join(this.lanesHome, 'decisions', safeSegment(key.changeId), safeSegment(key.workflowId), safeSegment(key.runId));
  }

  /**
   * Writes a lane's decision packet next to (not inside) its evidence, so the evidence tree stays as the lane sealed
   * it — `<lanes home>/decisions/<changeId>/<workflowId>/<runId>.{md,json}` — and to the shared store, so `lanes
   * packet` on any host can show it when no worker answers. Returns the Markdown file's path.
   */
  async writeDecision(key: PacketKey, packet: { json: unknown; markdown: string }): Promise<string> {
    const base = this.decisionBase(key);
    const text: DecisionText = { json: `${canonicalize(packet.json)}\n`, markdown: packet.markdown };
    await mkdir(join(base, '..'), { recursive: true });
    for (const [ext, body] of [['json', text.json], ['md', text.markdown]] as const) {
      await writeFile(`${base}.${ext}.partial`, body);
      await rename(`${base}.${ext}.partial`, `${base}.${ext}`);
    }
    if (this.shared) {
      const attestation = await this.attester().sign<DecisionStatement>({ kind: 'decision', ...keyOf(key), jsonSha256: sha256Hex(text.json), markdownSha256: sha256Hex(text.markdown) });
      await this.shared.publishDecision(key, text, attestation);
    }
    return `${base}.md`;
  }

  /**
   * A decision packet as written: from this disk (its own worker's), else the shared store's newest one of that
   * workflow (and run, if given) that a worker of `opts.trustRoot` attested, texts matching the signed sha256s.
   * Undefined when neither has one; a problem when the store has only unattested ones.
   */
  async readDecision(key: Omit<PacketKey, 'runId'> & { runId?: string }, format: 'json' | 'md', opts: ReadOptions = {}): Promise<DecisionRead | undefined> {
    const path = `${this.decisionBase({ ...key, runId: key.runId ?? '' })}.${format}`;
    const local = await readFile(path, 'utf8').catch(() => undefined);
    if (local !== undefined) return { text: local, from: path };
    if (!this.shared) return undefined;
    const stored = await this.shared.fetchDecisions(key);
    if (stored.length === 0) return undefined;
    const why: string[] = [];
    for (const d of stored) {
      const { verified, problems } = opts.trustRoot
        ? verifyAttestations<DecisionStatement>(d.attestations, opts.trustRoot, (st) =>
            st.kind !== 'decision' ? 'is not for a decision packet'
            : st.changeId !== key.changeId || st.workflowId !== key.workflowId || st.runId !== d.runId ? `binds ${String(st.changeId)}/${String(st.workflowId)}/${String(st.runId)}, not ${key.changeId}/${key.workflowId}/${d.runId}`
            : st.jsonSha256 !== sha256Hex(d.json) || st.markdownSha256 !== sha256Hex(d.markdown) ? 'is for other texts (the stored packet was changed)'
            : undefined,
          )
        : { verified: [], problems: ['there is no trust root to check attestations against (LANES_TRUST_ROOT)'] };
      const [first] = verified;
      if (first) return { text: format === 'json' ? d.json : d.markdown, from: `the shared evidence store (${this.shared.label}), run ${d.runId}`, attestedBy: first };
      why.push(`run ${d.runId}: ${problems.join('; ') || 'no worker attestation is stored for it'}`);
    }
    return { problem: `the shared evidence store (${this.shared.label}) holds a decision packet for ${key.workflowId}, but it is NOT ATTESTED by any worker in the trust root (${why.join('; ')}); anyone who can write to the store could have written it, so it is not shown` };
  }
}
