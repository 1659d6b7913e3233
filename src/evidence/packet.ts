/**
 * An evidence packet as content, wherever it is kept: its files' bytes and its MANIFEST, whose sha256 is the tree
 * hash (src/domain/tree-hash.ts). Every store writes what `packetOf` builds, and everything read back from a store
 * that is not this process's own memory is judged by `packetProblems` against the tree a signature or a lane named:
 * storage is never authority, the tree hash is.
 */
import { createHash } from 'node:crypto';
import { MANIFEST_FILE, manifestText, type TreeEntry } from '../domain/tree-hash';
import type { VerifiedAttestation } from './attestation';

export interface PacketContent {
  tree: string;
  /** The MANIFEST text exactly as hashed. */
  manifest: string;
  /** Path (relative, '/'-separated) → bytes, for every line of the MANIFEST. */
  files: Map<string, Buffer>;
}

/** Where a lane run's packet belongs: the index a workflow id is pulled by. */
export interface PacketKey {
  changeId: string;
  workflowId: string;
  runId: string;
}

/** A packet whose every byte was checked against its tree before anyone may read it. */
export interface VerifiedPacket {
  tree: string;
  /** Where it was found, for messages (a directory, or the shared store's redacted URL). */
  where: string;
  /** Every file the verified MANIFEST lists. */
  files: string[];
  /** A file's bytes, as verified (a local file is re-read and re-hashed: what is used is what was hashed). */
  bytes(name: string): Buffer;
  read(name: string): string;
  /**
   * Provenance: the lane runs this packet is bound to — this host's own run (from the directory its worker wrote it
   * in), or the runs the verified attestations name. Empty only for a packet taken unattested (`--unattested`).
   */
  bound: PacketKey[];
  /** The worker attestations that verified (a packet from the shared store, or cached from it); empty for this host's own. */
  attestedBy: VerifiedAttestation[];
  /** Set when the caller asked for a packet even unattested and it is: why it is not attested. Never authority. */
  unattested?: string;
}

export type Resolution = VerifiedPacket | { problem: string };

export const TREE_HASH = /^[0-9a-f]{64}$/;

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** A plain relative path: no MANIFEST, no absolute path, no '.', '..' or empty segment, no backslash or newline. */
export function pathProblem(rel: string): string | undefined {
  if (rel === MANIFEST_FILE || rel.startsWith('/') || /[\\\n\r\0]/.test(rel) || rel.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    return `evidence file name ${JSON.stringify(rel)} is not a plain relative path`;
  }
  return undefined;
}

export function packetOf(files: Record<string, string | Uint8Array>): PacketContent {
  const map = new Map<string, Buffer>();
  const entries: TreeEntry[] = [];
  for (const [rel, content] of Object.entries(files)) {
    const problem = pathProblem(rel);
    if (problem) throw new Error(problem);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    map.set(rel, bytes);
    entries.push({ path: rel, sha256: sha256(bytes), bytes: bytes.length });
  }
  const manifest = manifestText(entries);
  return { tree: sha256(manifest), manifest, files: map };
}

/** The MANIFEST's lines, each `<sha256> <bytes> <path>`; a line of any other shape is a problem. */
export function parseManifest(manifest: string): { entries: TreeEntry[]; problems: string[] } {
  const entries: TreeEntry[] = [];
  const problems: string[] = [];
  const lines = manifest.split('\n');
  if (lines.pop() !== '') problems.push(`${MANIFEST_FILE}: does not end with a newline`);
  for (const [i, line] of lines.entries()) {
    const m = /^([0-9a-f]{64}) (0|[1-9][0-9]*) (.+)$/.exec(line);
    if (!m) {
      problems.push(`${MANIFEST_FILE} line ${i + 1} is not "<sha256> <bytes> <path>"`);
      continue;
    }
    const path = m[3]!;
    const bad = pathProblem(path);
    if (bad) problems.push(`${MANIFEST_FILE} line ${i + 1}: ${bad}`);
    else entries.push({ sha256: m[1]!, bytes: Number(m[2]), path });
  }
  const paths = new Set(entries.map((e) => e.path));
  if (paths.size !== entries.length) problems.push(`${MANIFEST_FILE}: a path is listed twice`);
  // A path that is also another's directory cannot be laid out as files.
  for (const p of paths) if ([...p.matchAll(/\//g)].some((m) => paths.has(p.slice(0, m.index)))) problems.push(`${MANIFEST_FILE}: ${p} lies under a path that is a file`);
  return { entries, problems };
}

/**
 * Why a packet read back from somewhere does not stand for `tree`; empty when it does. The MANIFEST must hash to the
 * tree and be canonical; every file it lists must be there, with exactly the length and sha256 of its line. A store
 * can hold nothing beyond what the MANIFEST lists (content is fetched by its lines), so nothing can be added.
 */
export function packetProblems(tree: string, manifest: string, blob: (entry: TreeEntry) => Buffer | undefined): string[] {
  const actual = sha256(manifest);
  if (actual !== tree) return [`its ${MANIFEST_FILE} hashes to ${actual}, not ${tree} (the MANIFEST was changed)`];
  const { entries, problems } = parseManifest(manifest);
  if (problems.length === 0 && manifestText(entries) !== manifest) problems.push(`${MANIFEST_FILE}: not in canonical form`);
  for (const e of entries) {
    const bytes = blob(e);
    if (!bytes) problems.push(`${e.path}: missing (no content with sha256 ${e.sha256})`);
    else if (bytes.length !== e.bytes || sha256(bytes) !== e.sha256) problems.push(`${e.path}: content changed (it hashes to ${sha256(bytes)}, its MANIFEST line says ${e.sha256})`);
  }
  return problems;
}

/** A packet held in memory after `packetProblems` found nothing wrong: reads come from the verified bytes. */
export function memoryPacket(content: PacketContent, where: string, provenance: Pick<VerifiedPacket, 'bound' | 'attestedBy' | 'unattested'>): VerifiedPacket {
  const bytes = (name: string): Buffer => {
    const b = content.files.get(name);
    if (!b) throw new Error(`${name} is not in evidence packet ${content.tree}`);
    return b;
  };
  return { tree: content.tree, where, files: [...content.files.keys()], bytes, read: (name) => bytes(name).toString('utf8'), ...provenance };
}
