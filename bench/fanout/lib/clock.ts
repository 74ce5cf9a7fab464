// One clock for every process of the benchmark: CLOCK_MONOTONIC in milliseconds.
// Node's performance.now() is uv_hrtime() (CLOCK_MONOTONIC) minus the process's time origin,
// so adding back that origin, read once from process.hrtime, gives the same machine clock
// the C programs read with clock_gettime(CLOCK_MONOTONIC), without a BigInt per call.
import { performance } from 'node:perf_hooks';

function calibrate(): number {
  let best = Infinity;
  let base = 0;
  for (let i = 0; i < 50; i++) {
    const a = process.hrtime.bigint();
    const p = performance.now();
    const b = process.hrtime.bigint();
    const gap = Number(b - a);
    if (gap < best) {
      best = gap;
      base = (Number(a) + gap / 2) / 1e6 - p;
    }
  }
  return base;
}

const BASE = calibrate();

/** CLOCK_MONOTONIC, ms, µs resolution; comparable across processes on this machine. */
export function monoMs(): number {
  return performance.now() + BASE;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
