// Cheap answers under a flood. A collection (/metrics, a stream list) runs on the relay's event
// loop, even for the operations listener, whose own thread asks the main thread for it; so a
// burst of requests must not turn into a burst of collections.

/** A token bucket: `burst` tokens, refilled at `perSecond`. */
export class TokenBucket {
  #tokens: number;
  #at: number;
  constructor(readonly perSecond: number, readonly burst: number, now = Date.now()) {
    this.#tokens = burst;
    this.#at = now;
  }

  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.perSecond);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}

export interface CoalescedOptions {
  /** Fresh collections allowed per second once the burst is spent. */
  perSecond: number;
  burst: number;
  /** A cached value older than this is never served: collect anyway. */
  maxAgeMs: number;
}

/**
 * Runs `collect` for a request unless one is in flight (then shares it) or the collection budget
 * is spent (then serves the last value while it is younger than maxAgeMs). Occasional readers
 * (a scrape every 10 s, a dashboard every 2 s) always get fresh values; a flood gets at most
 * `perSecond` collections a second.
 */
export class Coalesced<T> {
  #collect: () => T | Promise<T>;
  #budget: TokenBucket;
  #maxAgeMs: number;
  #inflight: Promise<T> | null = null;
  #last: { value: T; at: number } | null = null;
  /** Collections run so far (tests and benchmarks read it). */
  runs = 0;

  constructor(collect: () => T | Promise<T>, o: CoalescedOptions = { perSecond: 5, burst: 10, maxAgeMs: 1_000 }) {
    this.#collect = collect;
    this.#budget = new TokenBucket(o.perSecond, o.burst);
    this.#maxAgeMs = o.maxAgeMs;
  }

  get(now = Date.now()): Promise<T> {
    if (this.#inflight) return this.#inflight;
    const last = this.#last;
    if (last && now - last.at < this.#maxAgeMs && !this.#budget.take(now)) return Promise.resolve(last.value);
    this.runs++;
    const p = Promise.resolve().then(this.#collect).then((value) => {
      this.#last = { value, at: Date.now() };
      return value;
    }).finally(() => { this.#inflight = null; });
    this.#inflight = p;
    return p;
  }
}
