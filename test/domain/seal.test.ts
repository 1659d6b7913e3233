/** The seal gate names each drift kind (seed 002's 7/7 selftest), and stays quiet on identical bytes. */
import { describe, expect, it } from 'vitest';
import { sealDrift, sealEntry } from '../../src/domain/seal';

const enc = (s: string) => new TextEncoder().encode(s);
const ORIGINAL = '{"title": "object birth — registry", "ok": true}\n';
const entry = sealEntry('packet.json', enc(ORIGINAL));

describe('seal drift', () => {
  it('is clean on identical bytes', () => {
    expect(sealDrift(entry, enc(ORIGINAL))).toEqual([]);
  });

  it.each([
    ['missing file', undefined, ['missing file']],
    ['em-dash turned into "-" (same length in chars, not in bytes)', enc(ORIGINAL.replace('—', '-')), ['sha mismatch', 'byte-length mismatch', 'Unicode drift']],
    ['ensure_ascii re-encode (— → \\u2014)', enc(ORIGINAL.replace('—', '\\u2014')), ['sha mismatch', 'byte-length mismatch', 'ensure_ascii JSON re-encode']],
    ['a BOM', new Uint8Array([0xef, 0xbb, 0xbf, ...enc(ORIGINAL)]), ['sha mismatch', 'byte-length mismatch', 'BOM']],
    ['CRLF line endings', enc(ORIGINAL.replace(/\n/g, '\r\n')), ['sha mismatch', 'byte-length mismatch', 'CRLF']],
    ['one byte changed, same length', enc(ORIGINAL.replace('true', 'trUe')), ['sha mismatch']],
    ['BOM and CRLF together', new Uint8Array([0xef, 0xbb, 0xbf, ...enc(ORIGINAL.replace(/\n/g, '\r\n'))]), ['sha mismatch', 'byte-length mismatch', 'BOM', 'CRLF']],
  ] as const)('names %s', (_name, bytes, expected) => {
    expect(sealDrift(entry, bytes)).toEqual(expected);
  });

  it('does not call a content change Unicode drift', () => {
    expect(sealDrift(entry, enc(ORIGINAL.replace('registry', 'registrY').replace('—', '-')))).toEqual(['sha mismatch', 'byte-length mismatch']);
  });
});
