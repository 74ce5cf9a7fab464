// run-one.ts --diag: samples, every `everyMs`, the per-core jiffies of /proc/stat (user, nice,
// system, idle, iowait, irq, softirq, steal) and the sender's threads' scheduler stats
// (/proc/PID/task/TID/schedstat: ns on CPU, ns runnable but waiting for a CPU), and every
// second the CPU of every other process (by name), so a late chunk can be matched with
// what else ran on the machine at that moment. Linux only.
import { readFileSync, readdirSync } from 'node:fs';
import { monoMs } from './clock.js';

export interface Samples {
  /** [t ms mono, cpu0 8 fields..., cpu1 8 fields..., main thread run ns, main wait ns, other threads run ns, other wait ns] */
  fast: number[][];
  /** Every second: t ms mono and the other processes that used CPU since the last one (comm: seconds). */
  slow: Array<{ t: number; others: Record<string, number> }>;
  /** Sender threads other than the main one that ran >= 1 ms within one sample: [t ms mono, tid, name, ms]. */
  threads: Array<[number, number, string, number]>;
}

function cores(): number[] {
  const out: number[] = [];
  for (const line of readFileSync('/proc/stat', 'latin1').split('\n')) {
    const m = /^cpu[01] (.*)$/.exec(line);
    if (m) out.push(...m[1]!.trim().split(/\s+/).slice(0, 8).map(Number));
  }
  return out;
}

function procTimes(exclude: Set<number>): Map<number, [string, number]> {
  const out = new Map<number, [string, number]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || exclude.has(pid)) continue;
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(pid, [comm, (Number(f[11]) + Number(f[12])) / 100]);
    } catch { /* gone */ }
  }
  return out;
}

export function startSampler(pid: number, exclude: Set<number>, everyMs = 10): { stop(): Samples } {
  const s: Samples = { fast: [], slow: [], threads: [] };
  const lastRun = new Map<number, number>();
  const comm = (tid: number): string => { try { return readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim(); } catch { return '?'; } };
  let tids: number[] = [];
  const refreshTids = (): void => {
    try { tids = readdirSync(`/proc/${pid}/task`).map(Number); } catch { tids = []; }
  };
  refreshTids();
  const sched = (tid: number): [number, number] => {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ');
      return [Number(f[0]), Number(f[1])];
    } catch { return [0, 0]; }
  };
  const fast = setInterval(() => {
    const t = monoMs();
    const c = cores();
    const [mr, mw] = sched(pid);
    let or = 0;
    let ow = 0;
    for (const tid of tids) {
      if (tid === pid) continue;
      const [r, w] = sched(tid);
      or += r;
      ow += w;
      const prevRun = lastRun.get(tid);
      if (prevRun !== undefined && r - prevRun >= 1e6) s.threads.push([t, tid, comm(tid), (r - prevRun) / 1e6]);
      lastRun.set(tid, r);
    }
    s.fast.push([t, ...c, mr, mw, or, ow]);
  }, everyMs);
  let prev = procTimes(exclude);
  const slow = setInterval(() => {
    refreshTids();
    const now = procTimes(exclude);
    const others: Record<string, number> = {};
    for (const [p, [comm, sec]] of now) {
      const d = sec - (prev.get(p)?.[1] ?? 0);
      if (d > 0) others[comm] = (others[comm] ?? 0) + d;
    }
    prev = now;
    s.slow.push({ t: monoMs(), others });
  }, 1000);
  return { stop: () => { clearInterval(fast); clearInterval(slow); return s; } };
}
