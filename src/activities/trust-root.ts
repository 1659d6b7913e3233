/**
 * Reads the trust root file for a lane. Runs as an activity so the workflow never touches the filesystem and the
 * exact key set used is recorded in history (its fingerprint is shown by `status`).
 */
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { parseTrustRoot, TrustRootError, type TrustRoot } from '../domain/trust-root';

export async function readTrustRoot(path: string | undefined): Promise<TrustRoot> {
  if (!path) {
    throw ApplicationFailure.nonRetryable(
      'the worker has no trust root: set LANES_TRUST_ROOT to a trust root JSON file (`npm start` creates a development one)',
      'TrustRootMissing',
    );
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`cannot read trust root ${path}: ${(err as Error).message}`, 'TrustRootMissing');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`trust root ${path} is not JSON: ${(err as Error).message}`, 'TrustRootInvalid');
  }
  try {
    return parseTrustRoot(doc);
  } catch (err) {
    if (err instanceof TrustRootError) throw ApplicationFailure.nonRetryable(`${path}: ${err.message}`, 'TrustRootInvalid');
    throw err;
  }
}
