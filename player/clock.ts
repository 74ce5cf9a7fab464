// Maps media time (the SourceBuffer timeline, seconds) to the wall clock at which the
// encoder wrote that media, from the prft boxes chunks carry. Latency is then simply
// "now − wall clock of the frame on screen".
//
// Anchors are kept per chunk (not just the latest) because the frame on screen is
// ~buffer-ahead older than the newest chunk, and across a generation change or a jump
// the newest anchor describes a different stretch of the timeline.

interface Anchor {
  media: number;
  wall: number;
}

/** Enough anchors to cover the back buffer plus a backlog at 30 chunks/s. */
const MAX_ANCHORS = 600;

export class MediaClock {
  #anchors: Anchor[] = [];
  /**
   * Server clock minus local clock (ms), from ClockSync: the prft wall clock is the
   * server's, the local clock is ours. 0 until estimated (assumes NTP-synced clocks).
   */
  offsetMs = 0;

  /** Records that media time `media` (s) was written at Unix time `wallMs`. */
  add(media: number, wallMs: number): void {
    if (!Number.isFinite(media) || !Number.isFinite(wallMs)) return;
    // Overlapping appends (reconnect) or a realigned generation: newer data wins.
    while (this.#anchors.length > 0 && this.#anchors[this.#anchors.length - 1]!.media >= media) this.#anchors.pop();
    this.#anchors.push({ media, wall: wallMs });
    if (this.#anchors.length > MAX_ANCHORS) this.#anchors.splice(0, this.#anchors.length - MAX_ANCHORS);
  }

  /** Unix ms at which media time `t` was written; NaN before any prft was seen. */
  wallAt(t: number): number {
    const a = this.#anchorFor(t);
    return a ? a.wall + (t - a.media) * 1000 : NaN;
  }

  /** Latency (s) of media time `t` at local time `nowMs`; NaN when unknown. */
  latencyAt(t: number, nowMs = Date.now()): number {
    const wall = this.wallAt(t);
    return Number.isFinite(wall) ? (nowMs + this.offsetMs - wall) / 1000 : NaN;
  }

  reset(): void {
    this.#anchors = [];
  }

  /** The last anchor at or before `t` (binary search), else the first one. */
  #anchorFor(t: number): Anchor | undefined {
    const list = this.#anchors;
    if (list.length === 0) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    if (list[0]!.media > t) return list[0];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid]!.media <= t) lo = mid;
      else hi = mid - 1;
    }
    return list[lo];
  }
}

/** Local wall clock (ms since the epoch) with sub-ms resolution, monotonic within a page. */
export function localNow(): number {
  return typeof performance !== 'undefined' && performance.timeOrigin > 0 ? performance.timeOrigin + performance.now() : Date.now();
}

export interface ClockSample {
  /** Round-trip time (ms). */
  rtt: number;
  /** Server minus local clock (ms), assuming a symmetric path. */
  offset: number;
  /** Local time (ms) the pong arrived. */
  at: number;
}

/**
 * Server clock offset, NTP-style: each ping/pong gives offset = serverTime − (t0 + rtt/2),
 * wrong by at most ±rtt/2 (asymmetric queueing). The sample with the smallest RTT over a
 * sliding window is the one least delayed by queueing, so it wins, for the RTT too.
 *
 * Why a browser saw 40–70 ms RTT on loopback where a Node client sees < 1 ms: the old player
 * pinged on `open`, so the first pong queued behind the joiner's GOP burst on the same TCP
 * stream and behind the appends on the main thread (~30 ms), and an EMA let that sample (and
 * every later one delayed by a busy main thread) dominate for tens of seconds; Date.now()
 * also only has 1 ms resolution. Now: pings after the burst, performance.now() timing, min-RTT.
 */
export class ClockSync {
  readonly #windowMs: number;
  readonly #maxSamples: number;
  #samples: ClockSample[] = [];

  constructor(
    /** Keep samples this long (ms)... */
    windowMs = 30_000,
    /** ...and at most this many. */
    maxSamples = 16,
  ) {
    this.#windowMs = windowMs;
    this.#maxSamples = maxSamples;
  }

  /** A pong: t0 (local ms when the ping left), t1 (local ms when the pong arrived), serverTime. */
  add(t0: number, t1: number, serverTime: number): ClockSample | undefined {
    const rtt = t1 - t0;
    if (!(rtt >= 0 && rtt < 60_000) || !Number.isFinite(serverTime)) return undefined;
    const s: ClockSample = { rtt, offset: serverTime - (t0 + rtt / 2), at: t1 };
    this.#samples.push(s);
    this.#samples = this.#samples.filter((x) => t1 - x.at <= this.#windowMs).slice(-this.#maxSamples);
    return s;
  }

  /** The min-RTT sample of the window, undefined before any. */
  get best(): ClockSample | undefined {
    let best: ClockSample | undefined;
    for (const s of this.#samples) if (!best || s.rtt < best.rtt) best = s;
    return best;
  }

  get offsetMs(): number {
    return this.best?.offset ?? NaN;
  }

  get rttMs(): number {
    return this.best?.rtt ?? NaN;
  }

  get count(): number {
    return this.#samples.length;
  }

  reset(): void {
    this.#samples = [];
  }
}
