/**
 * Durations as people write them: `90s`, `30m`, `2h`, `3d`, and sums like `1h30m`. Shared by the CLI's flags and the
 * trust root's limits, so "24h" means the same thing in both places.
 */
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when `text` is not a positive duration of that form. */
export function durationMs(text: string): number | undefined {
  const parts = /^(?:\d+[smhd])+$/.test(text) ? text.match(/\d+[smhd]/g) : null;
  const ms = parts?.reduce((sum, p) => sum + Number(p.slice(0, -1)) * UNIT_MS[p.slice(-1)]!, 0) ?? 0;
  return parts && ms > 0 ? ms : undefined;
}

/** `86400000` → `24h`, `5400000` → `1h30m`, `604800000` → `7d`: how a limit is said back to a person. */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000);
  const out: string[] = [];
  // People say "24h" and "36h", but "7d": days only from two of them on.
  const units = rest >= 2 * 86_400 ? ([['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) : ([['h', 3_600], ['m', 60], ['s', 1]] as const);
  for (const [unit, s] of units) {
    if (rest >= s) {
      out.push(`${Math.floor(rest / s)}${unit}`);
      rest %= s;
    }
  }
  return out.join('') || '0s';
}
