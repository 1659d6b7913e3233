/** Output helpers: `--json` for scripts, aligned plain text for people, colour only on a TTY. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

const tty = process.stdout.isTTY && !process.env.NO_COLOR;
export const bold = (s: string): string => (tty ? `\x1b[1m${s}\x1b[22m` : s);
