/**
 * The seal (DESIGN.md §Words, seed 002's "CI seal-vs-bytes gate"): a manifest of files with their sha256 and byte
 * length, and a verifier that fails closed and *names* the drift. Naming needs a little more than a hash: each
 * entry also records which encoding traits the sealed bytes had (BOM, CRLF, \uXXXX escapes) and the hash of an
 * ASCII-folded copy, so the verifier can undo one drift at a time and say which ones explain the change.
 * Pure: callers read the files.
 */
import { sha256Hex } from './hashing';

export const SEAL_DRIFT_KINDS = ['missing file', 'sha mismatch', 'byte-length mismatch', 'BOM', 'CRLF', 'ensure_ascii JSON re-encode', 'Unicode drift'] as const;
export type SealDrift = (typeof SEAL_DRIFT_KINDS)[number];

export interface SealEntry {
  path: string;
  sha256: string;
  bytes: number;
  bom: boolean;
  crlf: boolean;
  asciiEscapes: boolean;
  /** sha256 of the text with typographic characters folded to ASCII (— → -, “ → ", …). */
  foldedSha256: string;
}

export interface SealManifest {
  v: 1;
  files: SealEntry[];
}

const BOM = [0xef, 0xbb, 0xbf];
const hasBom = (b: Uint8Array) => b.length >= 3 && b[0] === BOM[0] && b[1] === BOM[1] && b[2] === BOM[2];
const decoder = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();
const ESCAPE = /\\u([0-9a-fA-F]{4})/g;
/** The same pattern without /g: `.test` on a global regex keeps state between calls. */
const HAS_ESCAPE = /\\u[0-9a-fA-F]{4}/;
const FOLD: Record<string, string> = {
  '\u2014': '-', '\u2013': '-', '\u2012': '-', '\u2212': '-', '\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"',
  '\u2026': '...', '\u00a0': ' ', '\u2009': ' ', '\u202f': ' ',
};
const fold = (text: string) => text.replace(/[\u2014\u2013\u2012\u2212\u2018\u2019\u201c\u201d\u2026\u00a0\u2009\u202f]/g, (c) => FOLD[c]!);

export function sealEntry(path: string, bytes: Uint8Array): SealEntry {
  const text = decoder.decode(bytes);
  return {
    path,
    sha256: sha256Hex(bytes),
    bytes: bytes.length,
    bom: hasBom(bytes),
    crlf: text.includes('\r\n'),
    asciiEscapes: HAS_ESCAPE.test(text),
    foldedSha256: sha256Hex(encoder.encode(fold(text))),
  };
}

/** Every drift kind that applies to one file: undo the encoding drifts one by one, then see what explains the rest. */
export function sealDrift(entry: SealEntry, current: Uint8Array | undefined): SealDrift[] {
  if (!current) return ['missing file'];
  if (sha256Hex(current) === entry.sha256 && current.length === entry.bytes) return [];
  const kinds: SealDrift[] = ['sha mismatch'];
  if (current.length !== entry.bytes) kinds.push('byte-length mismatch');
  let bytes = current;
  if (hasBom(bytes) && !entry.bom) {
    kinds.push('BOM');
    bytes = bytes.subarray(3);
  }
  let text = decoder.decode(bytes);
  if (text.includes('\r\n') && !entry.crlf) {
    kinds.push('CRLF');
    text = text.replace(/\r\n/g, '\n');
  }
  if (HAS_ESCAPE.test(text) && !entry.asciiEscapes) {
    const decoded = text.replace(ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (decoded !== text) {
      kinds.push('ensure_ascii JSON re-encode');
      text = decoded;
    }
  }
  const restored = encoder.encode(text);
  if (sha256Hex(restored) !== entry.sha256 && sha256Hex(encoder.encode(fold(text))) === entry.foldedSha256) kinds.push('Unicode drift');
  return kinds;
}
