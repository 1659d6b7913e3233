/**
 * CPU seconds spent by processes, read from /proc (Linux): what a component of the cluster cost, whichever core it
 * ran on. Wall time on a shared 2-core machine says little about where a bigger cluster would stop scaling; the CPU
 * each component spends per lane does (bench C1, README "Where one cluster stops scaling").
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

interface Stat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, and cutime + cstime (children already reaped), in seconds. */
  own: number;
  reaped: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' ');
    // Fields after ")": state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    return { pid, comm, ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) / TICKS, reaped: (Number(f[13]) + Number(f[14])) / TICKS };
  } catch {
    return undefined;
  }
}

function all(): Stat[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => stat(Number(d)))
    .filter((s): s is Stat => s !== undefined);
}

/** CPU seconds of `pid` and every descendant, living or already reaped by it. */
export function treeCpuSeconds(pid: number): number {
  const procs = all();
  const children = new Map<number, Stat[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const root = procs.find((p) => p.pid === pid);
  if (!root) return 0;
  let total = 0;
  const walk = (p: Stat) => {
    total += p.own + p.reaped;
    for (const c of children.get(p.pid) ?? []) walk(c);
  };
  walk(root);
  return total;
}

/** CPU seconds of every PostgreSQL server on this machine (its postmasters and their backends). */
export function postgresCpuSeconds(): number {
  const procs = all();
  const pg = new Set(procs.filter((p) => p.comm === 'postgres').map((p) => p.pid));
  return procs.filter((p) => pg.has(p.pid) && !pg.has(p.ppid)).reduce((sum, p) => sum + treeCpuSeconds(p.pid), 0);
}
