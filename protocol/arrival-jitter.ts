// Arrival jitter, as hello.jitterMs defines it (so on the protocol floor, shared by both ends):
// how much later than the earliest chunk of a sliding window a chunk reaches the page (or the
// relay). Each chunk's delay is "local now − its prft wall clock": the offset between the two
// clocks is the same for every chunk of the window, so the spread needs no clock sync.
// The player's latency controller keeps this much buffer on top of minBuffer (less a free
// allowance), so a jittery or lossy path holds a deeper buffer and a clean one pays nothing.
// The relay measures the same on the chunks it receives and tells a joining player
// (hello.jitterMs), which has none of its own for the first seconds.
//
// A burst (a chunk landing sooner than half its media spacing after the one before: a join's
// GOP, the release of an outage, everything a TCP retransmission held back) counts once, as
// its first and latest chunk: a single outage is one sample and leaves the quantile alone,
// while a path that holds chunks back again and again (loss on TCP, jitter) shows in it.
// After a silence of SILENCE_MS or more (an outage), every chunk that arrives later than the
// path's usual spread is that outage's backlog, however the page spaces its dispatch (Chromium
// handed a released backlog over ~20–40 ms apart, past half the spacing, and the floor rose by
// 0.35 s).
// The first GRACE_MS after a (re)start are not sampled: the page is busy joining (MSE set-up,
// the first decode), and on clean loopback those late dispatches alone raised the floor by up
// to 0.17 s for the next 10 s.

interface Arrival {
  at: number;
  delay: number;
}

/** Enough for the window at 30 chunks/s with audio and video in separate chunks. */
const MAX_ARRIVALS = 1024;
/** The quantile of the delays above the window's minimum that counts as the jitter. */
export const JITTER_QUANTILE = 0.98;
/** Arrivals this soon (ms) after the first one since a reset are not sampled. */
export const GRACE_MS = 3000;
/** No chunk for this long (ms) is an outage: what follows faster than real time is its backlog. */
export const SILENCE_MS = 500;
/** A backlog chunk this close (ms) to the usual delays ends the catch-up (about a frame). */
const CATCH_UP_SLACK_MS = 40;
/** Recompute the quantile at most this often (ms): the controller asks every tick. */
const RECOMPUTE_MS = 250;

export class ArrivalJitter {
  #arrivals: Arrival[] = [];
  #lastAt = -Infinity;
  #lastWall = NaN;
  #firstAt = NaN;
  /** Since the last silence, every chunk has arrived faster than real time. */
  #catchingUp = false;
  /** The window's least delay (ms) while catching up; NaN once #arrivals changed. */
  #least = NaN;
  #cached = NaN;
  #cachedAt = -Infinity;

  readonly #windowMs: number;

  constructor(
    /** Window (ms). */
    windowMs = 10_000,
  ) {
    this.#windowMs = windowMs;
  }

  /** A chunk written at `wall` (ms, the server's clock) arrived at local time `at` (ms). */
  add(at: number, wall: number): void {
    if (!Number.isFinite(at) || !Number.isFinite(wall)) return;
    if (Number.isNaN(this.#firstAt)) this.#firstAt = at;
    const spacing = wall - this.#lastWall;
    const gap = at - this.#lastAt;
    // The first chunk after a silence is sampled (the outage counts once); its backlog is not,
    // until a chunk comes no later than the path's usual spread. Not "no faster than real time":
    // Chromium handed a backlog over at about real time for stretches, and each was sampled.
    const silence = Number.isFinite(this.#lastAt) && gap >= SILENCE_MS;
    if (!silence && this.#catchingUp && this.#usual(at - wall)) this.#catchingUp = false;
    const burst = (spacing > 0 && gap < spacing / 2) || (!silence && this.#catchingUp);
    if (silence) this.#catchingUp = true;
    this.#lastAt = at;
    this.#lastWall = wall;
    if (burst || at - this.#firstAt < GRACE_MS) return;
    this.#arrivals.push({ at, delay: at - wall });
    this.#least = NaN;
    this.#prune(at);
    if (this.#arrivals.length > MAX_ARRIVALS) this.#arrivals.splice(0, this.#arrivals.length - MAX_ARRIVALS);
  }

  /**
   * The JITTER_QUANTILE of (delay − the window's least delay), in seconds, over the window
   * ending at `now` (ms); NaN with fewer than 10 samples.
   */
  value(now: number): number {
    if (now - this.#cachedAt < RECOMPUTE_MS && now >= this.#cachedAt) return this.#cached;
    this.#prune(now);
    this.#cachedAt = now;
    const n = this.#arrivals.length;
    if (n < 10) return (this.#cached = NaN);
    const d = this.#arrivals.map((a) => a.delay).sort((a, b) => a - b);
    return (this.#cached = (d[Math.min(n - 1, Math.floor(JITTER_QUANTILE * n))]! - d[0]!) / 1000);
  }

  /** A reconnect or a new timeline: delays before it say nothing about the path now. */
  reset(): void {
    this.#arrivals = [];
    this.#lastAt = -Infinity;
    this.#lastWall = NaN;
    this.#firstAt = NaN;
    this.#catchingUp = false;
    this.#least = NaN;
    this.#cached = NaN;
    this.#cachedAt = -Infinity;
  }

  /** A delay (ms) within the window's least plus the last jitter figure and CATCH_UP_SLACK_MS. */
  #usual(delay: number): boolean {
    // A catch-up adds no samples, so the scan runs once per silence, not once per backlog chunk.
    if (Number.isNaN(this.#least)) {
      this.#least = Infinity;
      for (const a of this.#arrivals) this.#least = Math.min(this.#least, a.delay);
    }
    const least = this.#least;
    return delay - least <= (Number.isFinite(this.#cached) ? this.#cached * 1000 : 0) + CATCH_UP_SLACK_MS;
  }

  #prune(now: number): void {
    let i = 0;
    while (i < this.#arrivals.length && now - this.#arrivals[i]!.at > this.#windowMs) i++;
    if (i > 0) {
      this.#arrivals.splice(0, i);
      this.#least = NaN;
    }
  }
}
