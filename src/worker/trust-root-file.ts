/**
 * Reads and validates a trust root file. One reader for the lane activity and for `lanes trust show|check`, so
 * the CLI checks a file exactly the way a worker will load it. Every failure is a TrustRootError naming the path.
 */
import { readFile } from 'node:fs/promises';
import { parseTrustRoot, TrustRootError, type TrustRoot } from '../domain/trust-root';

/**
 * Parsed trust roots by file content. Parsing checks every key's point on the curve (milliseconds per key), and
 * the point of action reads the file before every activity; the parse is a pure function of the bytes, so the
 * file is still read every time and any change to it takes effect at once.
 */
const parsed = new Map<string, TrustRoot>();
const MAX_PARSED = 8;

export async function readTrustRootFile(path: string): Promise<TrustRoot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TrustRootError(`cannot read trust root ${path}: ${(err as Error).message}`, true);
  }
  const known = parsed.get(text);
  if (known) return known;
  const root = parseTrustRootText(path, text);
  if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
  parsed.set(text, root);
  return root;
}

function parseTrustRootText(path: string, text: string): TrustRoot {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new TrustRootError(`trust root ${path} is not JSON: ${(err as Error).message}`);
  }
  try {
    return parseTrustRoot(doc);
  } catch (err) {
    if (err instanceof TrustRootError) throw new TrustRootError(`${path}: ${err.message}`);
    throw err;
  }
}
