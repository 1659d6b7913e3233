/**
 * The evidence tree hash (DESIGN.md §Words): sha256 over a manifest with one line per file,
 * `<sha256-hex> <byte-length> <relative/path>\n`, sorted by path (byte order). Anyone can recompute it offline
 * with coreutils; the README shows how. The manifest file itself is not part of the tree.
 */
import { sha256Hex } from './hashing';

export const MANIFEST_FILE = 'MANIFEST';

export interface TreeEntry {
  path: string;
  sha256: string;
  bytes: number;
}

export function manifestText(entries: readonly TreeEntry[]): string {
  const sorted = [...entries].sort((a, b) => compareBytes(a.path, b.path));
  return sorted.map((e) => `${e.sha256} ${e.bytes} ${e.path}\n`).join('');
}

export function treeHash(entries: readonly TreeEntry[]): string {
  return sha256Hex(manifestText(entries));
}

/** Byte-order comparison of UTF-8 paths, to match `LC_ALL=C sort`. */
function compareBytes(a: string, b: string): number {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(ea.length, eb.length); i++) if (ea[i] !== eb[i]) return ea[i]! - eb[i]!;
  return ea.length - eb.length;
}
