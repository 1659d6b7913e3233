/** Parses a duration flag (`90s`, `30m`, `2h`, `3d`, `1h30m`) into milliseconds; anything else is a usage error. */
import { durationMs } from '../domain/duration';
import { UserError } from './user-error';

export function parseDuration(text: string, flag: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new UserError(`${flag} "${text}" is not a duration; use e.g. 30m, 2h, 3d or 1h30m`, 2);
  return ms;
}
