// --server-rt: the server side runs SCHED_RR, standing in for a server on its own machine
// while the viewers' Chromiums share these 2 cores (bench/latency/README.md).
// Only this process's main thread (relay, ingest, proxies) goes real-time, and the FFmpegs it
// spawns inherit that. Its helper threads (V8's GC and compiler workers, libuv's pool) are put
// back to SCHED_OTHER: with --all-tasks, V8's concurrent marking of this big bench heap ran
// at RR on both cores for ~170 ms of a 180 ms window (ftrace), and the encoder, at the same
// priority, waited out RR's 100 ms slice: the very hiccup the flag is there to remove.
import { execFileSync } from 'node:child_process';
import { helperThreadIds } from '../../util/threads.js';

export const MAX_RT = 99;

/** An RR priority --server-rt accepts: 0 (off) to MAX_RT. */
export function isRtPriority(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_RT;
}

function chrt(...args: string[]): void {
  execFileSync('chrt', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Puts the main thread at SCHED_RR `priority` and every other thread at SCHED_OTHER. */
export function serverRealtime(priority: number): void {
  if (!isRtPriority(priority) || priority === 0) throw new RangeError(`RR priority must be an integer from 1 to ${MAX_RT}, got ${priority}`);
  chrt('--rr', '--pid', String(priority), String(process.pid));
  demoteHelpers();
}

/**
 * Threads the main thread starts later (libuv's pool starts on first use) inherit RR: call
 * again once things are running. Returns how many threads it put back to SCHED_OTHER.
 */
export function demoteHelpers(): number {
  let n = 0;
  for (const tid of helperThreadIds()) {
    try {
      chrt('--other', '--pid', '0', String(tid));
      n++;
    } catch { /* exited meanwhile */ }
  }
  return n;
}
