// The buffer's saw-tooth: how far its refilled level sits above its average. The jitter
// allowance of the buffer floor is sized for the refilled level (a chunk `jitter` late must still
// find minBuffer − jitterFree), but the controller holds the buffer's average at the floor. On a
// steady stream the two are half a frame apart, as when the allowance was calibrated. On a stream
// whose frames come in bursts (FFmpeg's MPEG-TS defaults pack 150–230 ms of AAC per PES, and a
// frame plays only once its audio is in) they are half a burst apart, and the bottom of the
// saw-tooth sat that much above where a steady stream's does. Measured per 1 s bucket; the least
// of the last 10 s counts, so a hold now and then (its refill is the usual level) counts for
// nothing. Pure: no clock, no DOM.

/** One bucket (ms): several bursts at 150–250 ms each. */
export const BUCKET_MS = 1000;
/** Buckets kept: 10 s, the arrival jitter's window. */
export const BUCKETS = 10;
/** Buckets needed before the measure counts: a join's first seconds are not a steady state. */
export const MIN_BUCKETS = 3;
/** The steady stream's own peak over average (s): half a 30 fps frame. */
export const STEADY_S = 1 / 60;
/**
 * The relief grows at most this fast (s per s), so the floor comes down by a rate step or two:
 * applied at once (~0.06 s), the catch-up ran at 1.05–1.1× into the saw-tooth's bottom and
 * Chromium stalled there with 0.1 s still buffered.
 */
export const RAMP_S_PER_S = 0.02;

export interface Sawtooth {
  /** Start (ms) of the current bucket; NaN when reset. */
  sawAt: number;
  /** The current bucket's highest buffer (s), sum of samples and their count. */
  sawHi: number;
  sawSum: number;
  sawN: number;
  /** Peak over average (s) of each completed bucket, oldest first, at most BUCKETS. */
  sawPeaks: readonly number[];
  /** The relief (s) applied at the last sample: it ramps up, and falls at once. */
  sawRelief: number;
}

export function emptySawtooth(): Sawtooth {
  return { sawAt: NaN, sawHi: -Infinity, sawSum: 0, sawN: 0, sawPeaks: [], sawRelief: 0 };
}

/**
 * The saw-tooth with one more sample of the buffer ahead (s) at `now` (ms), `dtMs` after the
 * last, and the relief (s) to apply now, at most `cap`.
 */
export function sampleSawtooth(s: Sawtooth, now: number, dtMs: number, bufferAhead: number, cap: number): Sawtooth {
  if (!Number.isFinite(bufferAhead)) return s;
  const fresh = { sawHi: bufferAhead, sawSum: bufferAhead, sawN: 1 };
  let next: Sawtooth;
  if (Number.isNaN(s.sawAt) || now - s.sawAt >= 2 * BUCKET_MS) next = { ...emptySawtooth(), ...fresh, sawAt: now };
  else if (now - s.sawAt >= BUCKET_MS) {
    const peaks = [...s.sawPeaks, s.sawHi - s.sawSum / s.sawN].slice(-BUCKETS);
    next = { ...s, ...fresh, sawAt: s.sawAt + BUCKET_MS, sawPeaks: peaks };
  } else next = { ...s, sawHi: Math.max(s.sawHi, bufferAhead), sawSum: s.sawSum + bufferAhead, sawN: s.sawN + 1 };
  const wanted = Math.min(cap, excess(next.sawPeaks));
  next.sawRelief = Math.min(wanted, s.sawRelief + (RAMP_S_PER_S * Math.max(0, dtMs)) / 1000);
  return next;
}

/** How far (s) the refilled level sat above the average beyond a steady stream's, in every bucket of the last 10 s; 0 until MIN_BUCKETS. */
function excess(peaks: readonly number[]): number {
  if (peaks.length < MIN_BUCKETS) return 0;
  return Math.max(0, Math.min(...peaks) - STEADY_S);
}
