/**
 * The hand-over from a worker's point-of-action interceptor to the activity body: the interceptor verifies the
 * request and records what it established against that very request object; the body works only with that record.
 * A body reached without the interceptor (a worker wired without it) finds nothing and refuses: the check cannot be
 * skipped by configuration.
 */
import { ApplicationFailure } from '@temporalio/activity';

const verified = new WeakMap<object, unknown>();

export function markAuthorized<T>(request: unknown, what: T): void {
  if (request !== null && typeof request === 'object') verified.set(request, what);
}

export function authorizedFor<T>(request: unknown): T {
  const what = request !== null && typeof request === 'object' ? verified.get(request) : undefined;
  if (what === undefined) {
    throw ApplicationFailure.nonRetryable('no point-of-action verification ran for this request; this worker is miswired and refuses', 'GrantRefused');
  }
  return what as T;
}
