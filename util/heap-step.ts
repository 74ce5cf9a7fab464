// A full collection of this thread's heap each time what it holds has grown by `stepBytes` since
// the last one. For the threads that face attackers (RTMP, operations): left to itself V8 lets an
// old generation grow by a fixed step of several MB past what is live before it collects, in
// every isolate, and under an attack's churn that is garbage, not state (bench/RESULTS.md,
// "Abuse": the RTMP thread held 9.9 MB live while its heap grew to 16+). Not for the relay's
// thread: a full collection there is a pause in the fan-out. Needs node's --expose-gc
// (app/node-flags.ts); without it, nothing is done.
import { getHeapStatistics } from 'node:v8';

/** Bytes of growth between forced collections in the RTMP and operations threads. */
export const THREAD_HEAP_STEP_BYTES = 2 * 1024 * 1024;
/** How often the heap is looked at (ms). */
export const HEAP_STEP_EVERY_MS = 200;

export class HeapStep {
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #base: number;
  /** Collections forced so far. */
  collections = 0;

  constructor(
    stepBytes: number = THREAD_HEAP_STEP_BYTES,
    everyMs: number = HEAP_STEP_EVERY_MS,
    gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
    used: () => number = () => getHeapStatistics().used_heap_size,
  ) {
    this.#base = used();
    if (typeof gc !== 'function') return;
    this.#timer = setInterval(() => {
      if (used() - this.#base < stepBytes) return;
      gc();
      this.collections++;
      this.#base = used();
    }, everyMs);
    this.#timer.unref?.();
  }

  /** True when collections can be forced (--expose-gc). */
  get active(): boolean {
    return this.#timer !== undefined;
  }

  /** Stops; safe to call twice. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}
