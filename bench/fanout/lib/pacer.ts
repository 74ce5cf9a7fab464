// Replays the recorded chunks in real time, looping, as FFmpeg's stdout would deliver them.
// Each emitted chunk is a fresh copy whose mfhd sequence number is rewritten to a global,
// ever-increasing value (so loops don't repeat keys); the copy is made before the receipt
// time is taken, and the receipt is taken right before the relay's sink is called.
import type { Chunk } from '../../../media/types.js';
import { monoMs } from './clock.js';
import { ReceiptLog } from './receipts.js';
import { CHUNK_MS, type Source } from './source.js';
import { emitEvent, onStop } from './control.js';

export class Pacer {
  readonly receipts: ReceiptLog;
  #src: Source;
  #emit: (c: Chunk) => void;
  #k = 0;
  #t0 = 0;
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #stopped = false;

  constructor(src: Source, maxSeconds: number, emit: (c: Chunk) => void) {
    this.#src = src;
    this.#emit = emit;
    this.receipts = new ReceiptLog(Math.ceil(maxSeconds * 1000 / CHUNK_MS) + 64);
  }

  /** Chunks emitted so far. */
  get count(): number { return this.#k; }

  start(): void {
    this.#t0 = monoMs();
    this.#tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
  }

  #tick = (): void => {
    if (this.#stopped) return;
    // One chunk per turn of the event loop, as one read from FFmpeg's pipe would be: a sender
    // that falls behind still gets its I/O (and our "stop") between chunks, and its lag is logged.
    if (this.#t0 + this.#k * CHUNK_MS <= monoMs()) this.#send();
    const wait = this.#t0 + this.#k * CHUNK_MS - monoMs();
    if (wait <= 0) this.#immediate = setImmediate(this.#tick);
    else this.#timer = setTimeout(this.#tick, wait);
  };

  #send(): void {
    const src = this.#src.chunks[this.#k % this.#src.chunks.length]!;
    const seq = this.#k + 1;
    const bytes = Buffer.from(src.bytes);
    bytes.writeUInt32BE(seq, this.#src.seqOffset);
    const chunk: Chunk = { kind: 'chunk', bytes, seq, dts: this.#k / 30, duration: src.duration, keyframe: src.keyframe };
    const due = this.#t0 + this.#k * CHUNK_MS;
    this.#k++;
    const t = monoMs();
    this.#emit(chunk);
    this.receipts.add(seq, t, bytes.length, src.keyframe, t - due, monoMs() - t);
  }
}

/**
 * What every paced sender does around its own fan-out: replay `src` into `emit`, announce
 * `listening` and `live`, and on stop write the receipts, report `stopped` (with `report()`'s
 * fields), run `close()` and exit.
 */
export function runPacedSender(o: {
  src: Source; maxS: number; receipts: string; emit: (c: Chunk) => void;
  listening: Record<string, unknown>; report: () => Record<string, unknown>; close: () => void;
}): void {
  const pacer = new Pacer(o.src, o.maxS, o.emit);
  pacer.start();
  emitEvent('listening', { ...o.listening, pid: process.pid });
  emitEvent('live');
  onStop(o.maxS, (why) => {
    pacer.stop();
    pacer.receipts.write(o.receipts);
    emitEvent('stopped', { why, chunks: pacer.count, ...o.report() });
    o.close();
    setTimeout(() => process.exit(0), 50);
  });
}
