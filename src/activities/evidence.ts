/**
 * Writes an evidence packet: files under `<lanesHome>/evidence/<changeId>/<workflowId>/`, plus a MANIFEST whose
 * sha256 is the tree hash (src/domain/tree-hash.ts). Written to a temporary sibling and renamed into place, so a
 * crash leaves either the previous packet or the complete new one, never half of one; a retried activity
 * produces the same packet again.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { MANIFEST_FILE, manifestText, treeHash, type TreeEntry } from '../domain/tree-hash';
import type { EvidenceRef } from '../domain/lane-status';

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

export async function writeEvidencePacket(lanesHome: string, dir: string, files: Record<string, string | Uint8Array>): Promise<EvidenceRef> {
  const staging = `${dir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  const entries: TreeEntry[] = [];
  for (const [rel, content] of Object.entries(files)) {
    if (rel === MANIFEST_FILE || rel.startsWith('/') || rel.split('/').includes('..')) {
      throw new Error(`evidence file name ${JSON.stringify(rel)} is not a plain relative path`);
    }
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    await mkdir(dirname(join(staging, rel)), { recursive: true });
    await writeFile(join(staging, rel), bytes);
    entries.push({ path: rel, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
  }
  await writeFile(join(staging, MANIFEST_FILE), manifestText(entries));
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await rename(staging, dir);
  const tree = treeHash(entries);
  // The index only says where to look: whoever resolves a tree re-hashes the directory it points at.
  const index = treeIndexPath(lanesHome, tree);
  await mkdir(dirname(index), { recursive: true });
  await writeFile(`${index}.partial-${process.pid}`, relative(join(lanesHome, 'evidence'), dir));
  await rename(`${index}.partial-${process.pid}`, index);
  return { dir, treeHash: tree, files: entries.length };
}

/**
 * A packet found by its tree hash and re-hashed here: the directory the index names must hash to exactly `tree`,
 * with no file added, changed or missing. Returns the directory, or why the tree cannot be used.
 */
export interface ResolvedPacket {
  dir: string;
  /** A file of the packet, read once and checked against the verified MANIFEST: what is used is what was hashed. */
  read(name: string): string;
  /** Every file the verified MANIFEST lists. */
  files: string[];
}

export function resolveEvidenceTree(lanesHome: string, tree: string): ResolvedPacket | { problem: string } {
  if (!/^[0-9a-f]{64}$/.test(tree)) return { problem: `${tree} is not a tree hash` };
  let rel: string;
  try {
    rel = readFileSync(treeIndexPath(lanesHome, tree), 'utf8');
  } catch {
    return { problem: `no evidence packet with tree ${tree} on this worker (${join(lanesHome, 'evidence')})` };
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
  return {
    dir,
    files: [...manifest.keys()],
    read(name) {
      const bytes = readFileSync(join(dir, name));
      if (manifest.get(name) !== createHash('sha256').update(bytes).digest('hex')) throw new Error(`${name} changed after the packet was verified`);
      return bytes.toString('utf8');
    },
  };
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
