// The relay's receipt log: for every chunk, the key viewers will identify it by (mfhd sequence
// number, or FLV tag timestamp for NMS), the shared-clock time the relay received it, its size
// whether it starts with a keyframe, and how late the replay handed it over (pacing lag: a
// sender too busy to take chunks on time), and how long the hand-over (the fan-out loop) took.
// Text, one chunk per line: "key t_ms bytes keyframe lag_ms [dur_ms]".
import { readFileSync, writeFileSync } from 'node:fs';

export class ReceiptLog {
  #key: Float64Array;
  #t: Float64Array;
  #size: Float64Array;
  #kf: Uint8Array;
  #lag: Float64Array;
  #dur: Float64Array;
  #n = 0;

  constructor(capacity: number) {
    this.#key = new Float64Array(capacity);
    this.#t = new Float64Array(capacity);
    this.#size = new Float64Array(capacity);
    this.#kf = new Uint8Array(capacity);
    this.#lag = new Float64Array(capacity);
    this.#dur = new Float64Array(capacity);
  }

  get length(): number { return this.#n; }

  add(key: number, t: number, size: number, keyframe: boolean, lag = 0, dur = 0): void {
    const i = this.#n;
    if (i >= this.#key.length) return;
    this.#key[i] = key;
    this.#t[i] = t;
    this.#size[i] = size;
    this.#kf[i] = keyframe ? 1 : 0;
    this.#lag[i] = lag;
    this.#dur[i] = dur;
    this.#n = i + 1;
  }

  /** Makes lags relative to the smallest one, for senders whose schedule is only known up to an offset (NMS). */
  normalizeLag(): void {
    let min = Infinity;
    for (let i = 0; i < this.#n; i++) min = Math.min(min, this.#lag[i]!);
    if (Number.isFinite(min)) for (let i = 0; i < this.#n; i++) this.#lag[i]! -= min;
  }

  write(file: string): void {
    const lines: string[] = [];
    for (let i = 0; i < this.#n; i++) lines.push(`${this.#key[i]} ${this.#t[i]!.toFixed(4)} ${this.#size[i]} ${this.#kf[i]} ${this.#lag[i]!.toFixed(3)} ${this.#dur[i]!.toFixed(3)}`);
    writeFileSync(file, lines.join('\n') + '\n');
  }
}

/** dur: how long the sender's hand-over call (its fan-out loop) took, ms (0 where not recorded). */
export interface Receipt { key: number; t: number; size: number; keyframe: boolean; lag: number; dur?: number }

export function readReceipts(file: string): Receipt[] {
  const out: Receipt[] = [];
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    if (!line) continue;
    const [k, t, s, kf, lag, dur] = line.split(' ');
    out.push({ key: Number(k), t: Number(t), size: Number(s), keyframe: kf === '1', lag: Number(lag ?? 0), dur: Number(dur ?? 0) });
  }
  return out;
}
