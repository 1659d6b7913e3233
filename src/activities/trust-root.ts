/**
 * Reads the trust root file for a lane. Runs as an activity so the workflow never touches the filesystem and the
 * exact key set used is recorded in history (its fingerprint is shown by `status`). Failures are non-retryable:
 * a missing or invalid trust root is a configuration error, and the lane fails closed naming it.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { TrustRootError, type TrustRoot } from '../domain/trust-root';
import { readTrustRootFile } from '../worker/trust-root-file';

export async function readTrustRoot(path: string | undefined): Promise<TrustRoot> {
  if (!path) {
    throw ApplicationFailure.nonRetryable(
      'the worker has no trust root: set LANES_TRUST_ROOT to a trust root JSON file (`npm start` creates a development one)',
      'TrustRootMissing',
    );
  }
  try {
    return await readTrustRootFile(path);
  } catch (err) {
    if (!(err instanceof TrustRootError)) throw err;
    throw ApplicationFailure.nonRetryable(err.message, err.unreadable ? 'TrustRootMissing' : 'TrustRootInvalid');
  }
}
