/**
 * A host's view of evidence: its own disk (LANES_HOME, always) and, in a cluster, the shared store every host reads
 * (LANES_EVIDENCE_URL). Writes go to both before they count; reads try the disk first and fall back to the shared
 * store, and whatever either returns is re-hashed against the tree asked for before a byte of it is used.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvidenceRef } from '../domain/lane-status';
import { canonicalize } from '../domain/canonical-json';
import { cacheLocalPacket, evidenceDir, localTreesOf, resolveLocalTree, safeSegment, writeLocalPacket } from './local-store';
import { memoryPacket, packetOf, packetProblems, parseManifest, TREE_HASH, type PacketKey, type Resolution } from './packet';
import type { DecisionText, SharedEvidenceStore } from './shared-store';

export class EvidenceStores {
  constructor(
    readonly lanesHome: string,
    readonly shared: SharedEvidenceStore | undefined,
    /** Whether a packet verified from the shared store is kept on this disk (workers yes; the CLI's pull no). */
    private readonly opts: { cache: boolean } = { cache: true },
  ) {}

  /**
   * Writes a lane run's packet to this host's disk (so `EvidenceRef.dir` is a real directory here) and then to the
   * shared store. A lane must never report a tree no other host can read: if publishing fails, this throws, the
   * activity fails, and Temporal retries it.
   */
  async writePacket(key: PacketKey, files: Record<string, string | Uint8Array>): Promise<EvidenceRef> {
    const packet = packetOf(files);
    const dir = evidenceDir(this.lanesHome, key.changeId, key.workflowId, key.runId);
    await writeLocalPacket(this.lanesHome, dir, packet);
    if (this.shared) await this.shared.publishPacket(key, packet);
    return { dir, treeHash: packet.tree, files: packet.files.size };
  }

  /**
   * The packet with this tree, verified. Local first; when the disk has no good copy, the shared store's, which is
   * verified here in memory (the tree hash is the authority, so any copy that hashes to it is the packet) and then
   * kept on disk. Fails closed: anything missing, unreadable or not matching is a problem naming what and where.
   */
  async resolve(tree: string): Promise<Resolution> {
    if (!TREE_HASH.test(tree)) return { problem: `${tree} is not a tree hash` };
    const local = resolveLocalTree(this.lanesHome, tree);
    if (!('problem' in local) || !this.shared) return local;
    const where = `the shared evidence store (${this.shared.label})`;
    let stored;
    try {
      stored = await this.shared.fetchPacket(tree);
    } catch (err) {
      return { problem: `${local.problem}; and ${where} cannot be read: ${(err as Error).message}` };
    }
    if (!stored) return { problem: `${local.problem}; and ${where} has no packet with tree ${tree}` };
    const problems = packetProblems(tree, stored.manifest, (e) => stored.blobs.get(e.sha256));
    if (problems.length > 0) return { problem: `${local.problem}; and the packet with tree ${tree} in ${where} does not verify: ${problems.join('; ')}` };
    const files = new Map(parseManifest(stored.manifest).entries.map((e) => [e.path, stored.blobs.get(e.sha256)!]));
    const content = { tree, manifest: stored.manifest, files };
    // A cache only: a disk that cannot take it costs the next resolve a fetch, never this one its answer.
    if (this.opts.cache) await cacheLocalPacket(this.lanesHome, content).catch(() => undefined);
    return memoryPacket(content, where);
  }

  /** The trees indexed under a workflow id, newest first: the shared store's index, then this disk's packets. */
  async treesOf(workflowId: string): Promise<{ tree: string; where: string }[]> {
    const shared = this.shared ? (await this.shared.treesOf(workflowId)).map((r) => ({ tree: r.tree, where: `${this.shared!.label} (change ${r.changeId}, run ${r.runId})` })) : [];
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
    if (this.shared) await this.shared.publishDecision(key, text);
    return `${base}.md`;
  }

  /** A decision packet as written, from this disk or else the shared store; undefined when neither has it. */
  async readDecision(key: Omit<PacketKey, 'runId'> & { runId?: string }, format: 'json' | 'md'): Promise<string | undefined> {
    const local = await readFile(`${this.decisionBase({ ...key, runId: key.runId ?? '' })}.${format}`, 'utf8').catch(() => undefined);
    if (local !== undefined || !this.shared) return local;
    const stored = await this.shared.fetchDecision(key);
    return stored && (format === 'json' ? stored.json : stored.markdown);
  }
}
