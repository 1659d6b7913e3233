/**
 * The local evidence store, the embedded default: packets as files under `<lanesHome>/evidence/<changeId>/<workflowId>/<runId>/`,
 * plus a MANIFEST whose sha256 is the tree hash (src/domain/tree-hash.ts), so `lanes evidence verify` and the
 * coreutils recipe in the README check a packet where it lies. Written to a temporary sibling and renamed into place,
 * so a crash leaves either the previous packet or the complete new one, never half of one; a retried activity
 * produces the same packet again. Packets fetched from the shared store are cached by tree under `evidence/.cache/`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { MANIFEST_FILE, manifestText, treeHash, type TreeEntry } from '../domain/tree-hash';
import type { EvidenceRef } from '../domain/lane-status';
import { packetOf, TREE_HASH, type PacketContent, type PacketKey, type VerifiedPacket } from './packet';
import type { SignedAttestation } from './attestation';

/** One directory per lane run: a reused workflow id gets a directory of its own and never overwrites a packet. */
export function evidenceDir(lanesHome: string, changeId: string, workflowId: string, runId: string): string {
  return join(lanesHome, 'evidence', safeSegment(changeId), safeSegment(workflowId), safeSegment(runId));
}

/**
 * The content-addressed index: `evidence/.trees/<tree hash>` holds the packet's directory (relative to evidence/).
 * A change id never starts with '.', so no change's directory can collide with the index.
 */
function treeIndexPath(lanesHome: string, tree: string): string {
  return join(lanesHome, 'evidence', '.trees', tree);
}

/** Writes `files` as the packet in `dir` (see evidenceDir) and indexes it by its tree. */
export async function writeEvidencePacket(lanesHome: string, dir: string, files: Record<string, string | Uint8Array>): Promise<EvidenceRef> {
  const packet = packetOf(files);
  await writeLocalPacket(lanesHome, dir, packet);
  return { dir, treeHash: packet.tree, files: packet.files.size };
}

/**
 * Lays a packet out as files in `dir`, all or nothing: written to `<dir>.partial-<pid>-…`, checked by `check` if
 * given, and renamed into place. `replace` says whether a packet already in `dir` is replaced (a retried activity
 * rewrites its own run's packet); without it only an empty or missing `dir` is taken.
 */
export async function writePacketDir(dir: string, packet: PacketContent, opts: { replace: boolean; check?: (staging: string) => void }): Promise<void> {
  const staging = `${dir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    for (const [rel, bytes] of packet.files) {
      await mkdir(dirname(join(staging, rel)), { recursive: true });
      await writeFile(join(staging, rel), bytes);
    }
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, MANIFEST_FILE), packet.manifest);
    opts.check?.(staging);
    if (opts.replace) await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    // rename(2) replaces an empty directory and fails on a non-empty one: nothing already there is overwritten.
    await rename(staging, dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export async function writeLocalPacket(lanesHome: string, dir: string, packet: PacketContent): Promise<void> {
  await writePacketDir(dir, packet, { replace: true });
  // The index only says where to look: whoever resolves a tree re-hashes the directory it points at.
  const index = treeIndexPath(lanesHome, packet.tree);
  const indexStaging = `${index}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(dirname(index), { recursive: true });
  await writeFile(indexStaging, relative(join(lanesHome, 'evidence'), dir));
  await rename(indexStaging, index);
}

/**
 * Keeps a packet verified from the shared store on this worker's disk, by tree (`evidence/.cache/<tree>`): the next
 * resolve is local, and re-hashes it like any local packet. Never the directory of a lane run, so a store's index
 * cannot make this worker overwrite its own packets.
 */
export async function cacheLocalPacket(lanesHome: string, packet: PacketContent, attestations: readonly SignedAttestation[]): Promise<void> {
  // The attestations that verified go first, next to (not inside) the cached packet: a later local resolve of the
  // cache re-verifies them under the trust root of that moment, so the cache is never more than the store was.
  const att = cachedAttestationsPath(lanesHome, packet.tree);
  const staging = `${att}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(dirname(att), { recursive: true });
  await writeFile(staging, `${JSON.stringify(attestations)}\n`);
  await rename(staging, att);
  await writeLocalPacket(lanesHome, join(lanesHome, 'evidence', '.cache', packet.tree), packet);
}

/** Where the attestations of a packet cached from the shared store are kept: `evidence/.attested/<tree>.json`. */
export function cachedAttestationsPath(lanesHome: string, tree: string): string {
  return join(lanesHome, 'evidence', '.attested', `${tree}.json`);
}

/** The attestations kept with a cached packet, unverified; [] when none (or unreadable). */
export function readCachedAttestations(lanesHome: string, tree: string): SignedAttestation[] {
  try {
    const doc = JSON.parse(readFileSync(cachedAttestationsPath(lanesHome, tree), 'utf8')) as unknown;
    return Array.isArray(doc) ? doc.filter((a): a is SignedAttestation => typeof a?.keyId === 'string' && typeof a?.statement === 'string' && typeof a?.signature === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The packets of one workflow id this store holds, newest first, with the tree their MANIFEST hashes to. Only a
 * finding aid (for `lanes evidence pull <workflowId>`): whoever uses one resolves its tree, which re-hashes it.
 */
export function localTreesOf(lanesHome: string, workflowId: string): { tree: string; dir: string }[] {
  const root = join(lanesHome, 'evidence');
  const found: { tree: string; dir: string; at: number }[] = [];
  const list = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  for (const change of list(root).filter((c) => !c.startsWith('.'))) {
    const wfDir = join(root, change, safeSegment(workflowId));
    for (const run of list(wfDir).filter((r) => !r.includes('.partial-'))) {
      const dir = join(wfDir, run);
      try {
        const manifest = readFileSync(join(dir, MANIFEST_FILE));
        found.push({ dir, tree: createHash('sha256').update(manifest).digest('hex'), at: statSync(join(dir, MANIFEST_FILE)).mtimeMs });
      } catch {
        // not a packet (or unreadable): nothing to offer
      }
    }
  }
  return found.sort((a, b) => b.at - a.at).map(({ at: _at, ...rest }) => rest);
}

/**
 * A packet found by its tree hash and re-hashed here: the directory the index names must hash to exactly `tree`,
 * with no file added, changed or missing. Returns the packet, or why the tree cannot be used. A packet this host's
 * worker wrote is bound to the run its directory names; one cached from the shared store (`cached`) is bound to
 * nothing here: its caller re-verifies the attestations kept with it.
 */
export function resolveLocalTree(lanesHome: string, tree: string): (VerifiedPacket & { cached: boolean }) | { problem: string } {
  if (!TREE_HASH.test(tree)) return { problem: `${tree} is not a tree hash` };
  let rel: string;
  try {
    rel = readFileSync(treeIndexPath(lanesHome, tree), 'utf8');
  } catch {
    return { problem: `no evidence packet with tree ${tree} on this host (${join(lanesHome, 'evidence')})` };
  }
  const root = join(lanesHome, 'evidence');
  const dir = resolve(root, rel);
  let verified;
  try {
    // Inside the store, after every link is resolved: an index entry (or a linked directory) cannot lead elsewhere.
    const realRoot = realpathSync(root);
    if (!realpathSync(dir).startsWith(realRoot + sep) || !dir.startsWith(resolve(root) + sep)) return { problem: `the index entry for tree ${tree} points outside the evidence store` };
    verified = verifyEvidenceDir(dir);
  } catch (err) {
    return { problem: `evidence packet ${dir} cannot be read: ${(err as Error).message}` };
  }
  if (verified.problems.length > 0) return { problem: `evidence packet ${dir} does not verify: ${verified.problems.join('; ')}` };
  if (verified.treeHash !== tree) return { problem: `evidence packet ${dir} hashes to ${verified.treeHash}, not ${tree}` };
  // The MANIFEST as it was verified, not as it reads now.
  const manifest = new Map(verified.manifest.split('\n').filter(Boolean).map((l) => [l.slice(l.indexOf(' ', 65) + 1), l.slice(0, 64)] as const));
  const bytes = (name: string): Buffer => {
    const content = readFileSync(join(dir, name));
    if (manifest.get(name) !== createHash('sha256').update(content).digest('hex')) throw new Error(`${name} changed after the packet was verified`);
    return content;
  };
  const segments = rel.split('/');
  const cached = segments[0] === '.cache';
  const bound: PacketKey[] = !cached && segments.length === 3 ? [{ changeId: unsafeSegment(segments[0]!), workflowId: unsafeSegment(segments[1]!), runId: unsafeSegment(segments[2]!) }] : [];
  return { tree, where: dir, files: [...manifest.keys()], bytes, read: (name) => bytes(name).toString('utf8'), bound, attestedBy: [], cached };
}

/** The inverse of safeSegment. */
export function unsafeSegment(segment: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    if (segment[i] === '_') {
      bytes.push(parseInt(segment.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(segment.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Workflow ids may hold any character; keep each one a single, portable path segment, and keep the mapping
 * injective (two ids never share a directory): characters outside [A-Za-z0-9.-] and a leading '.' become `_xx`
 * (their UTF-8 bytes in hex), and '_' itself is always escaped.
 */
export function safeSegment(s: string): string {
  let out = '';
  for (const [i, ch] of [...s].entries()) {
    if (/[A-Za-z0-9-]/.test(ch) || (ch === '.' && i > 0)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `_${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

const chunk = Buffer.allocUnsafe(1 << 20);

/**
 * sha256 and length of a file, read through one reused 1 MiB buffer: evidence can hold large dumps, and reading
 * them whole would allocate (and fault in) a fresh buffer per file — a third slower than openssl (bench P4).
 */
function hashFile(path: string): { sha256: string; bytes: number } {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; bytes += n) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Recomputes a packet from its files and compares it with its MANIFEST: files changed, added or missing, and a
 * MANIFEST not in canonical form. Throws when the directory has no readable MANIFEST (not a packet at all).
 * Symbolic links are refused, never followed: a packet is regular files only (as the coreutils recipe in the README
 * sees it), and a link could make the same bytes count twice, point outside the packet, or loop.
 */
export function verifyEvidenceDir(dir: string): { treeHash: string; files: number; problems: string[]; manifest: string } {
  const problems: string[] = [];
  if (lstatSync(join(dir, MANIFEST_FILE)).isSymbolicLink()) problems.push(`${MANIFEST_FILE}: a symbolic link (a packet holds regular files only)`);
  const manifest = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((name) => {
      const path = join(d, name);
      const st = lstatSync(path);
      if (st.isSymbolicLink()) return void problems.push(`${relative(dir, path)}: a symbolic link (a packet holds regular files only; not followed)`), [];
      if (st.isDirectory()) return walk(path);
      if (!st.isFile()) return void problems.push(`${relative(dir, path)}: not a regular file`), [];
      return [relative(dir, path)];
    });
  const entries: TreeEntry[] = walk(dir)
    .filter((f) => f !== MANIFEST_FILE)
    .map((path) => {
      return { path, ...hashFile(join(dir, path)) };
    });
  // Each MANIFEST line is `<64 hex> <bytes> <path>`: the path starts after the second space.
  const recorded = new Map(manifest.split('\n').filter(Boolean).map((l) => [l.slice(l.indexOf(' ', 65) + 1), l] as const));
  for (const e of entries) {
    const line = recorded.get(e.path);
    if (!line) problems.push(`${e.path}: not in the MANIFEST (added)`);
    else if (line !== `${e.sha256} ${e.bytes} ${e.path}`) problems.push(`${e.path}: content changed`);
    recorded.delete(e.path);
  }
  for (const path of recorded.keys()) problems.push(`${path}: missing`);
  if (problems.length === 0 && manifestText(entries) !== manifest) problems.push(`${MANIFEST_FILE}: not in canonical form`);
  return { treeHash: treeHash(entries), files: entries.length, problems, manifest };
}
