/**
 * What every benchmark reports: a subject and its baseline, each measured repeatedly in the same run, their
 * medians, and the ratio the goal is stated in. Figures are seconds unless a benchmark says otherwise.
 */
export interface Measured {
  name: string;
  samples: number[];
  median: number;
}

export interface BenchResult {
  id: string;
  title: string;
  /** The goal as the issue states it, e.g. "ratio <= 1.5". */
  goal: string;
  /** How the ratio is formed, e.g. "subject / baseline". */
  ratioIs: string;
  subject: Measured;
  baseline: Measured;
  ratio: number;
  met: boolean;
  notes: string[];
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function measured(name: string, samples: number[]): Measured {
  return { name, samples, median: median(samples) };
}

/** Seconds taken by `fn` (wall clock, high resolution). */
export async function seconds(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

export type Log = (message: string) => void;

/** Calls `fn` for 0 … count−1, at most `limit` calls at a time. */
export async function atMost(limit: number, count: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) await fn(next++);
  }));
}
