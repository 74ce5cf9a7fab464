// The latency controller: a pure function of its inputs (no DOM, no clock of its own),
// so it can be driven by a simulated clock in tests and replaced or tuned in isolation.
//
// It holds the buffer ahead of currentTime near `target` by nudging playbackRate with
// a bounded proportional term, quantised to `rateStep` and gated by a hysteresis band so
// the rate does not dither with the ~33 ms saw-tooth of chunk arrivals. It plays slower
// than 1× when the buffer is about to run dry, and seeks to the live edge only when the
// backlog is past `seekCeiling`, where catching up by rate would take too long.

export interface ControlParams {
  /** Slowest playback rate the controller uses (to refill a thin buffer). */
  minRate: number;
  /** Fastest playback rate the controller uses (to drain a backlog). */
  maxRate: number;
  /** Rate changes are quantised to this step, so tiny errors never touch the rate. */
  rateStep: number;
  /** Playback speed-up per second of buffer above target (proportional gain, 1/s). */
  rateGain: number;
  /** Buffer error (s) beyond which the controller starts correcting... */
  deadbandEnter: number;
  /** ...and within which it returns to 1×: the gap between the two is the hysteresis. */
  deadbandExit: number;
  /** Below this many seconds of buffer ahead, play slower than 1× to avoid a stall. */
  lowBuffer: number;
  /** Seek to the live edge only once this many seconds further behind than target. */
  seekCeiling: number;
}

export interface ControlInput {
  /** Monotonic time (ms), e.g. performance.now() or a simulated clock. */
  now: number;
  /** Seconds buffered ahead of currentTime; NaN when nothing is buffered. */
  bufferAhead: number;
  /** End (s) of the last buffered range: where a seek to live aims from. */
  bufferEnd: number;
  /** Desired seconds of buffer ahead. */
  target: number;
  /**
   * Wall-clock latency (s) of the frame on screen, NaN when unknown. Not steered on yet:
   * the pipeline's fixed delay cannot be removed by rate; kept for a later controller.
   */
  latency: number;
}

export interface ControlState {
  rate: number;
  /** True while outside the hysteresis band (actively correcting). */
  correcting: boolean;
  /** True from a dip under lowBuffer until the buffer is back near target. */
  refilling: boolean;
  /** Exponentially smoothed buffer ahead (s); NaN until the first sample. */
  smoothed: number;
  lastNow: number;
  lastRateChange: number;
  lastSeek: number;
}

export type ControlReason = 'idle' | 'hold' | 'catch-up' | 'slow-down' | 'low-buffer' | 'seek';

export interface Decision {
  rate: number;
  /** Set when the controller wants a seek to this media time. */
  seekTo?: number;
  reason: ControlReason;
  state: ControlState;
}

/** Time constant (ms) of the buffer smoothing: a few chunk intervals. */
export const SMOOTHING_MS = 300;
/** A jump of the raw buffer by more than this (s) is a discontinuity (seek, burst): snap to it. */
export const SNAP_SECONDS = 0.5;
/** Do not change the rate more often than this (ms), except to avoid a stall. */
export const RATE_HOLD_MS = 250;
/** After a seek, give the buffer this long (ms) to settle before seeking again. */
export const SEEK_COOLDOWN_MS = 2000;

export function initialControlState(): ControlState {
  return {
    rate: 1,
    correcting: false,
    refilling: false,
    smoothed: NaN,
    lastNow: NaN,
    lastRateChange: -Infinity,
    lastSeek: -Infinity,
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Rounds to the rate grid (1 ± k·step) so small errors never produce tiny rate changes. */
function quantise(rate: number, step: number): number {
  return Math.round(1e6 * (1 + Math.round((rate - 1) / step) * step)) / 1e6;
}

export function decide(input: ControlInput, prev: ControlState, p: ControlParams): Decision {
  const { now, bufferAhead, bufferEnd, target } = input;
  if (!Number.isFinite(bufferAhead)) {
    // Nothing to steer on: play at 1× and forget the smoothed history.
    const state = { ...prev, rate: 1, correcting: false, refilling: false, smoothed: NaN, lastNow: now };
    return { rate: 1, reason: 'idle', state };
  }

  let smoothed: number;
  if (!Number.isFinite(prev.smoothed) || Math.abs(bufferAhead - prev.smoothed) > SNAP_SECONDS) {
    smoothed = bufferAhead;
  } else {
    const dt = Math.max(0, now - prev.lastNow);
    smoothed = prev.smoothed + (1 - Math.exp(-dt / SMOOTHING_MS)) * (bufferAhead - prev.smoothed);
  }
  const state: ControlState = { ...prev, smoothed, lastNow: now };
  const error = smoothed - target;

  if (error > p.seekCeiling && now - prev.lastSeek >= SEEK_COOLDOWN_MS && bufferEnd - target > 0) {
    const after: ControlState = {
      ...state, rate: 1, correcting: false, refilling: false, smoothed: target, lastSeek: now, lastRateChange: now,
    };
    return { rate: 1, seekTo: bufferEnd - target, reason: 'seek', state: after };
  }

  // Enter on the raw value (a stall is imminent now, not on average); leave only once the
  // smoothed buffer is back near target, so one dip costs one slow-down, not a dither.
  const refilling = bufferAhead < p.lowBuffer || (prev.refilling && smoothed < target - p.deadbandExit);
  if (refilling) {
    const proportional = quantise(1 + p.rateGain * (Math.min(bufferAhead, smoothed) - target), p.rateStep);
    const rate = clamp(Math.min(proportional, 1 - p.rateStep), p.minRate, 1);
    if (rate !== prev.rate) state.lastRateChange = now;
    return { rate, reason: 'low-buffer', state: { ...state, rate, correcting: false, refilling: true } };
  }

  // Coming out of a refill, the band starts afresh (correcting is false).
  const correcting = prev.correcting ? Math.abs(error) > p.deadbandExit : Math.abs(error) > p.deadbandEnter;
  let rate = 1;
  if (correcting) {
    rate = quantise(1 + p.rateGain * error, p.rateStep);
    // Never sit at 1× while still outside the exit band: take at least one step.
    if (rate === 1) rate = error > 0 ? 1 + p.rateStep : 1 - p.rateStep;
    rate = clamp(rate, p.minRate, p.maxRate);
  }

  const reason: ControlReason = !correcting ? 'hold' : error > 0 ? 'catch-up' : 'slow-down';
  const returningToOne = rate === 1 && !correcting;
  if (rate !== prev.rate && !returningToOne && now - prev.lastRateChange < RATE_HOLD_MS) {
    // Too soon after the last change: keep the old rate, but do record the band state.
    return { rate: prev.rate, reason, state: { ...state, correcting, refilling: false } };
  }
  if (rate !== prev.rate) state.lastRateChange = now;
  return { rate, reason, state: { ...state, rate, correcting, refilling: false } };
}
