/**
 * Reads and validates a trust root file. One reader for the lane activity and for `lanes trust show|check`, so
 * the CLI checks a file exactly the way a worker will load it. Every failure is a TrustRootError naming the path.
 */
import { readFile } from 'node:fs/promises';
import { parseTrustRoot, TrustRootError, type TrustRoot } from '../domain/trust-root';

export async function readTrustRootFile(path: string): Promise<TrustRoot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TrustRootError(`cannot read trust root ${path}: ${(err as Error).message}`, true);
  }
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
