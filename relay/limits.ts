// Admission limits as small pure classes with an injected clock, so they can be tested
// alone: a token bucket per key (upgrades per second per IP) and counters per key
// (viewers per IP, per stream). Loopback is exempt from per-IP limits unless configured,
// so benchmarks with thousands of local viewers aren't refused.

export class TokenBuckets {
  #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly ratePerS: number, readonly burst: number, readonly maxKeys = 100_000) {}

  /** Takes one token for `key` at time `nowMs`; false when the key is over its rate. */
  take(key: string, nowMs: number): boolean {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.maxKeys) this.#sweep(nowMs);
      b = { tokens: this.burst, at: nowMs };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.ratePerS);
    b.at = nowMs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Forgets full buckets (they behave like new ones), bounding memory under address churn. */
  #sweep(nowMs: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((nowMs - b.at) / 1000) * this.ratePerS >= this.burst) this.#buckets.delete(k);
    }
  }
}

export class Counters {
  #n = new Map<string, number>();

  get(key: string): number {
    return this.#n.get(key) ?? 0;
  }

  /** Increments unless that would pass `max`; returns whether it did. */
  tryAdd(key: string, max: number): boolean {
    const n = this.get(key);
    if (n >= max) return false;
    this.#n.set(key, n + 1);
    return true;
  }

  remove(key: string): void {
    const n = this.get(key) - 1;
    if (n > 0) this.#n.set(key, n);
    else this.#n.delete(key);
  }

  get keys(): number {
    return this.#n.size;
  }
}

const LOOPBACK = /^(127\.|::1$|0{0,4}(:0{0,4}){6}:0{0,3}1$|::ffff:127\.)/i;

export function isLoopback(ip: string): boolean {
  return LOOPBACK.test(ip);
}
