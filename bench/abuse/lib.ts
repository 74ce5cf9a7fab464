// Shared by the abuse bench's processes and workers: tallies of how attacker connections ended,
// a bounded attack loop, percentiles, a light fMP4 frame reader, and TypeScript workers.
import { Worker } from 'node:worker_threads';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One attacker kind: connections (or requests) made, and how each ended. */
export interface Tally { made: number; endings: Record<string, number> }
export type Tallies = Record<string, Tally>;

export function tally(t: Tallies, kind: string, ending: string, n = 1): void {
  const k = (t[kind] ??= { made: 0, endings: {} });
  k.made += n;
  k.endings[ending] = (k.endings[ending] ?? 0) + n;
}

export interface LoopOptions {
  /** Stop starting iterations at this time (ms since epoch). */
  endAt: number;
  /** And after this many, whatever the time. */
  maxIterations: number;
  /** Iterations in flight at once. */
  concurrency: number;
  /** Pause after each iteration, per lane. */
  pauseMs: number;
}

/** Runs `body` again and again, bounded in count and time; each result is tallied under `kind`. */
export async function attackLoop(t: Tallies, kind: string, o: LoopOptions, body: (i: number) => Promise<string>): Promise<void> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (Date.now() < o.endAt && started < o.maxIterations) {
      const i = started++;
      let ending: string;
      try { ending = await body(i); } catch (err) { ending = `bench error: ${err instanceof Error ? err.message.slice(0, 60) : String(err)}`; }
      tally(t, kind, ending);
      if (o.pauseMs > 0) await sleep(o.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, lane));
}

/** Nearest-rank percentile of unsorted values; NaN when empty. */
export function pct(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * What one binary WebSocket frame from the relay is: an init segment (ftyp+moov) or a chunk
 * with its mfhd sequence number. Reads box headers only, so 50 viewers cost next to nothing.
 */
export function frameKind(b: Buffer): { kind: 'init' } | { kind: 'chunk'; seq: number } | { kind: 'other' } {
  for (let off = 0; off + 8 <= b.length;) {
    const size = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    if (type === 'ftyp' || type === 'moov') return { kind: 'init' };
    if (type === 'moof') {
      for (let c = off + 8; c + 16 <= off + size && c + 16 <= b.length;) {
        const cs = b.readUInt32BE(c);
        if (b.toString('latin1', c + 4, c + 8) === 'mfhd') return { kind: 'chunk', seq: b.readUInt32BE(c + 12) };
        if (cs < 8) break;
        c += cs;
      }
      return { kind: 'other' };
    }
    if (size < 8) break;
    off += size;
  }
  return { kind: 'other' };
}

/** A worker running a TypeScript file: tsx is registered inside the worker first. */
export function tsWorker(url: URL, workerData: unknown): Worker {
  const src = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(src, { eval: true, workerData });
}

/** The next message from a worker that satisfies `pred`, or a rejection after `ms`. */
export function nextMessage<T>(w: Worker, pred: (m: unknown) => m is T, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { w.off('message', on); reject(new Error('worker did not answer')); }, ms);
    const on = (m: unknown): void => {
      if (!pred(m)) return;
      clearTimeout(timer);
      w.off('message', on);
      resolve(m);
    };
    w.on('message', on);
  });
}
