// /proc readers for CPU time, RSS and kernel socket memory. Linux only, cheap enough to poll.
import { readFileSync, readdirSync } from 'node:fs';

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const HZ = 100;

/** CPU seconds (user + system) used so far by a process, all its threads included. */
export function cpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // fields after the comm: state(0) ... utime(11) stime(12)
  return (Number(f[11]) + Number(f[12])) / HZ;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'latin1');
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) * 1024 : 0;
}

export interface CoreTimes { busy: number; total: number; softirq: number }

/** Per-core jiffies from /proc/stat: busy = everything but idle and iowait. */
export function coreTimes(): CoreTimes[] {
  const out: CoreTimes[] = [];
  for (const line of readFileSync('/proc/stat', 'latin1').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    out[Number(m[1])] = { busy: total - idle, total, softirq: v[6] ?? 0 };
  }
  return out;
}

/** Kernel TCP memory in bytes (all sockets on the machine), from /proc/net/sockstat. */
export function tcpKernelBytes(): number {
  const m = /TCP: .* mem (\d+)/.exec(readFileSync('/proc/net/sockstat', 'latin1'));
  return m ? Number(m[1]) * 4096 : 0;
}

/** CPU seconds of every process now, by pid (processes that vanish while being read are skipped). */
export function allCpu(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try { out.set(pid, cpuSeconds(pid)); } catch { /* gone */ }
  }
  return out;
}

/**
 * CPU seconds used between two snapshots by processes not in `exclude`: the background load
 * that competed with the measurement. A process born in between counts with all it used.
 */
export function otherCpuSeconds(a: Map<number, number>, b: Map<number, number>, exclude: Set<number>): number {
  let s = 0;
  for (const [pid, t] of b) {
    if (exclude.has(pid)) continue;
    s += t - (a.get(pid) ?? 0);
  }
  return s;
}
