/** Parses `90s`, `30m`, `2h`, `3d` (and sums like `1h30m`) into milliseconds; anything else is a usage error. */
import { UserError } from './user-error';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string, flag: string): number {
  const parts = /^(?:\d+[smhd])+$/.test(text) ? text.match(/\d+[smhd]/g) : null;
  const ms = parts?.reduce((sum, p) => sum + Number(p.slice(0, -1)) * UNIT_MS[p.slice(-1)]!, 0) ?? 0;
  if (!parts || ms <= 0) throw new UserError(`${flag} "${text}" is not a duration; use e.g. 30m, 2h, 3d or 1h30m`, 2);
  return ms;
}
