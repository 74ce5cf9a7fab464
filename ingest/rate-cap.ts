// A publisher's byte rate, bounded (limits.maxPublishBitrate). The in-process remux runs on the
// relay's thread at ~3.3 Gbit/s of MPEG-TS and ~6.7 of FLV per core (bench:ingest), so a publisher that
// sends far above any real encoder's rate would take the relay's CPU from every viewer. A token
// bucket: the average may not pass the cap, and bursts of up to BURST_SECONDS of it pass (a TCP
// backlog after a network hiccup, a keyframe, SRT's retransmissions).

/** Seconds of the cap a publisher may send at once before the average is enforced. */
export const BURST_SECONDS = 2;

export class PublishRateCap {
  readonly #bytesPerMs: number;
  readonly #capacity: number;
  #tokens: number;
  #at: number;

  /** `bitsPerSecond` > 0; the bucket starts full at `now` (ms). */
  constructor(bitsPerSecond: number, now: number) {
    this.#bytesPerMs = bitsPerSecond / 8 / 1000;
    this.#capacity = this.#bytesPerMs * BURST_SECONDS * 1000;
    this.#tokens = this.#capacity;
    this.#at = now;
  }

  /** `bytes` arrived at `now` (ms). False once the publisher is over its cap (and from then on). */
  take(bytes: number, now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#bytesPerMs);
      this.#at = now;
    }
    this.#tokens -= bytes;
    return this.#tokens >= 0;
  }
}

/** A cap for one publisher, or none when `bitsPerSecond` is 0. */
export function publishRateCap(bitsPerSecond: number, now: number): PublishRateCap | null {
  return bitsPerSecond > 0 ? new PublishRateCap(bitsPerSecond, now) : null;
}
