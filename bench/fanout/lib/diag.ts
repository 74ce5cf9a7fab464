// Optional diagnostics for a sender process (run-one.ts --diag): V8 GC pauses from the
// perf_hooks GC observer, and the start and duration of chosen functions (e.g. the relay's
// sweep), on the shared CLOCK_MONOTONIC ms clock. Written as JSON when the process exits.
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance, constants } from 'node:perf_hooks';
import { monoMs } from './clock.js';

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export interface SenderDiag {
  /** [start ms (mono), duration ms, kind] */
  gc: Array<[number, number, string]>;
  /** name → [start ms (mono), duration ms] */
  calls: Record<string, Array<[number, number]>>;
}

export function startSenderDiag(file: string): { time<T extends (...a: never[]) => unknown>(name: string, fn: T): T } {
  const d: SenderDiag = { gc: [], calls: {} };
  const off = monoMs() - performance.now();
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
      d.gc.push([e.startTime + off, e.duration, GC_KINDS[kind] ?? String(kind)]);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  process.on('exit', () => { try { writeFileSync(file, JSON.stringify(d)); } catch { /* best effort */ } });
  return {
    time<T extends (...a: never[]) => unknown>(name: string, fn: T): T {
      const rec = (d.calls[name] ??= []);
      return function (this: unknown, ...a: never[]) {
        const t = monoMs();
        try { return fn.apply(this, a); } finally { rec.push([t, monoMs() - t]); }
      } as T;
    },
  };
}
