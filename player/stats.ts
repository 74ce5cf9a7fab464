// Small measuring helpers the Player folds into its `stats`.

/** Bits per second received over a sliding window. */
export class BitrateMeter {
  #samples: Array<{ t: number; bytes: number }> = [];
  #total = 0;
  #firstAt = NaN;

  readonly #windowMs: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  add(bytes: number, now: number): void {
    if (Number.isNaN(this.#firstAt)) this.#firstAt = now;
    this.#samples.push({ t: now, bytes });
    this.#total += bytes;
    this.#prune(now);
  }

  bitsPerSecond(now: number): number {
    this.#prune(now);
    if (this.#samples.length === 0) return 0;
    // Bytes in (now − window, now] over the window; over less while the window is filling up.
    const spanMs = Math.min(this.#windowMs, Math.max(250, now - this.#firstAt));
    return (this.#total * 8 * 1000) / spanMs;
  }

  #prune(now: number): void {
    let drop = 0;
    while (drop < this.#samples.length && now - this.#samples[drop]!.t >= this.#windowMs) {
      this.#total -= this.#samples[drop]!.bytes;
      drop += 1;
    }
    if (drop > 0) this.#samples.splice(0, drop);
  }
}

/** Counts stalls (playback wanted to advance but could not) and their total duration. */
export class StallTracker {
  count = 0;
  #totalMs = 0;
  #since = NaN;

  get stalled(): boolean {
    return Number.isFinite(this.#since);
  }

  begin(now: number): void {
    if (this.stalled) return;
    this.#since = now;
    this.count += 1;
  }

  end(now: number): void {
    if (!this.stalled) return;
    this.#totalMs += now - this.#since;
    this.#since = NaN;
  }

  /** Total stall time, including a stall still in progress. */
  ms(now: number): number {
    return this.#totalMs + (this.stalled ? now - this.#since : 0);
  }
}
