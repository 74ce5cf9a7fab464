// Helper threads at low priority. A Node process is more than its event loop: V8's platform
// workers (concurrent GC marking and sweeping, compilation), libuv's pool and, under tsx, the
// loader-hooks worker with a V8 heap of its own. Confined to one CPU (taskset, a 1-CPU
// container) they preempt the fan-out loop: at 4,000 viewers a GC of the idle loader isolate
// 8–9.5 s after start stretched single send loops from ~20 to 52–60 ms (bench/RESULTS.md,
// Fan-out). At nice 19 they run in the CPU's idle time instead; V8's GC policy is unchanged.
// Linux only: elsewhere, or for a thread that is gone, it does nothing.
import { readdirSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Highest nice value: the kernel's lowest priority. */
export const MAX_NICE = 19;

/** A nice value this module accepts: an integer from 0 to MAX_NICE. */
export function isNice(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_NICE;
}

/** Thread ids of this process but the main one (whose thread id is the pid); [] without procfs. */
export function helperThreadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== process.pid);
  } catch {
    return []; // no procfs: not Linux
  }
}

/** The kernel's id of the calling thread (Linux: /proc/thread-self is …/task/TID); 0 without procfs. */
export function ownThreadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop()) || 0;
  } catch {
    return 0;
  }
}

/** Sets the calling thread's own nice value (a worker thread lowering its priority). False where it cannot. */
export function niceThisThread(nice: number): boolean {
  if (!isNice(nice)) throw new RangeError(`nice must be an integer from 0 to ${MAX_NICE}, got ${nice}`);
  const tid = ownThreadId();
  if (!tid) return false;
  try {
    setPriority(tid, nice);
    return true;
  } catch {
    return false; // lowering a nice value needs CAP_SYS_NICE
  }
}

/**
 * Sets the nice value of every thread of this process but the main one and `except` (threads
 * with a nice of their own, such as the operations thread). Threads started later inherit the
 * nice of the thread that starts them, mostly the main thread's (0), so call it once the process
 * is up. Returns how many threads it changed.
 */
export function niceHelperThreads(nice: number, except: readonly number[] = []): number {
  if (!isNice(nice)) throw new RangeError(`nice must be an integer from 0 to ${MAX_NICE}, got ${nice}`);
  let n = 0;
  for (const tid of helperThreadIds()) {
    if (except.includes(tid)) continue;
    try {
      setPriority(tid, nice);
      n++;
    } catch { /* exited meanwhile */ }
  }
  return n;
}
