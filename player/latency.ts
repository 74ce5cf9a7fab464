// The latency controller: a pure function of its inputs (no DOM, no clock of its own), so it
// can be driven by a simulated clock and buffer in tests and tuned in isolation.
//
// Policy 'nowcast' steers the WALL-CLOCK latency of the frame on screen (server now − prft
// time of that frame, clock offset applied) to a target:
// - playback rate from a bounded smooth curve of the error, rate = 1 ± span·tanh(e / rateScale),
//   on a grid of `rateStep` (the minimum step), gated by a hysteresis band, changed at most
//   every RATE_HOLD_MS;
// - only the part of the error that sits in the buffer is drained: e = min(latency − target,
//   buffer − minBuffer), so catch-up never empties the buffer, and a thin buffer slows
//   playback below 1× (below `lowBuffer`: minRate at once);
// - a jump to live only past the hard ceiling `maxLatency`, to the latest keyframe or to
//   buffered end − target buffer;
// - each stall raises the target by `stallTargetStep` when it ends (not in pinned mode, not
//   while joining, not for a stall longer than the largest raise); after `stableMs` without a
//   stall the raise halves, and so on back to the base target; a stall soon after a halving
//   doubles that period (up to 8×), a period that holds halves it again; the raise never halves
//   below the level it last stalled at plus `stallMemoryStep` (the stall memory), which itself
//   halves after `stallMemoryMs` without a stall: on a browser or path that needs a little more
//   than the base target the raise used to come back down to where it had stalled and stall again
//   every 20–40 s; now each stall teaches it a level that holds;
// - a stall that outlasts its cause is broken by a seek in place: Chromium doubles the audio it
//   wants queued before resuming after each underflow (measured stalls of 0.25, 0.68, 1.46,
//   2.9 s in a row with data arriving throughout; a seek resets it), so once the target buffer
//   is there and playback still waits, a flush resumes it at once;
// - hidden tab: hands off (1×); when visible again, jump to live if well behind;
// - Safari safe mode: 'coarse' uses only 1× and one catch-up rate, never below 1×, changed
//   rarely; 'seek' never touches the rate and only jumps.
// - the buffer floor is minBuffer plus the measured arrival jitter past `jitterFree` (at most
//   `maxJitterBuffer`): where chunks come late again and again (jitter, TCP loss) the player
//   holds what covers them instead of stalling and waiting for a stall raise, and a clean
//   path pays nothing; latency then sits above the target by what the floor holds;
// - that allowance is for the buffer's refilled level, and the controller holds its average: on
//   a stream that comes in bursts (FFmpeg's MPEG-TS defaults over SRT) the two are half a burst
//   apart, so the floor there is lowered by that much (player/sawtooth.ts), and the saw-tooth's
//   bottom sits where a steady stream's does; only by the jitter the relay measured on its way in
//   (the source's), and in full control only (WebKit's modes keep the floor);
// Pinned mode: the target is the stream's, exactly, for every viewer (no stall raise), so all
// viewers show the same moment; the clock offset makes latencies comparable across clients.
// As no viewer may raise its own target, pinned mode holds at least `pinnedMinLatency`. A pinned
// viewer more than `pinnedSeek` late whose buffer holds the target moment seeks straight to it:
// rates drain from wherever each viewer resumed, so after a 2 s backlog three viewers drained
// ~170 ms apart for seconds, while a seek to the same wall-clock moment lines them all up.
// Baselines for comparison: 'none', 'seek' (Flussonic/jmuxer-like), 'mpegts' (mpegts.js), in
// player/baselines.ts; the types all policies share are in player/control.ts.
import { baseline, mpegtsBaseline, seekBaseline } from './baselines.js';
import { SEEK_COOLDOWN_MS } from './control.js';
import type { ControlInput, ControlParams, ControlReason, ControlState, Decision } from './control.js';
import { emptySawtooth, sampleSawtooth } from './sawtooth.js';

/** Time constant (ms) of the error smoothing: a few chunk intervals. */
export const SMOOTHING_MS = 200;
/** A jump of the raw error by more than this (s) is a discontinuity (seek, burst): snap to it. */
export const SNAP_SECONDS = 0.5;
/** Do not change the rate more often than this (ms), except to avoid a stall or return to 1×. */
export const RATE_HOLD_MS = 250;
/** WebKit's coarse mode changes the rate at most this often (ms). */
export const COARSE_HOLD_MS = 2000;
/**
 * WebKit's coarse mode: start catching up past this error (s). At 0.25 s a WebKitGTK join that
 * landed 0.24 s late stayed there for a whole run; at 0.1 s joins stayed 30–40 ms late (p50
 * +36 and +46 ms against Chromium's in 2 of 3 runs, bench:browsers on 2 × Intel Xeon). At 0.03 s
 * a join is brought into the exit band early on, at one catch-up (+27 to +32 ms in 3 of 3, 0
 * stalls). Each rate change is a flush in WebKitGTK and an audio-renderer flush in Safari, so
 * the band stays wider than the full controller's, and a catch-up starts at most once per hold.
 */
export const COARSE_ENTER_S = 0.03;
/** ... and never slower than this: measured in WebKitGTK, 1.1× for 1 s netted −38 ms, 1.05× −27 ms, 1.25× +172 ms. */
export const COARSE_MIN_RATE = 1.1;
/** ... and stop within this (s): a catch-up sized for a hold lands there, one for a smaller error would overshoot. */
export const COARSE_EXIT_S = 0.025;
/** WebKit's coarse mode never goes faster than this. */
export const COARSE_MAX_RATE = 1.25;
/** Safari's seek mode jumps once this far (s) behind target. */
export const SAFARI_SEEK_S = 0.5;
/**
 * Stalls that begin this soon (ms) after the start do not raise the target: in the benchmark
 * 4 of 6 viewers stalled once 0.4–1.7 s after joining (0.12–0.19 s long, while the others
 * joined too), and a raise then sat in the measured window for 20 s. On the slower AMD machine
 * (3 Chromiums joining on 2 cores) clean and backlog joins also stalled at 3.2, 4.8 and 4.9 s:
 * each raise held a viewer 0.05–0.1 s above target for 20–40 s (a backlog viewer's recovery
 * read 20.6 s instead of ~9 s, as the raise halved mid-window) and its stall memory for 5 min.
 */
export const JOIN_GRACE_MS = 6000;
/**
 * Pinned mode corrects past this error (s) instead of deadbandEnter: inside a 40 ms band one of
 * three pinned viewers sat 31 ms above the other two for a whole 30 s run, and ±50 ms between
 * viewers leaves each about ±20 ms.
 */
export const PINNED_ENTER_S = 0.02;
/**
 * Up to stableMs · 2^this between halvings. Under 50 ± 20 ms jitter the target came down from
 * +0.1 to +0.05 after 20 s and the viewer stalled again 0.6 s later.
 */
export const MAX_BACKOFF = 3;
/** At most one stall-breaking seek per this long (ms): the seek itself needs time to land. */
export const STALL_BREAK_COOLDOWN_MS = 1000;
/** Assumed pipeline delay (s) before one is measured. */
export const DEFAULT_PIPELINE_S = 0.03;
/** A keyframe up to this much (s) further back than the target buffer is a good seek point. */
export const KEYFRAME_SLACK_S = 0.5;

/** The controller's parameters, plus what the player measured about the engine. */
export type DecideParams = ControlParams & {
  /** Seek mode jumps past this error (s); unset: SAFARI_SEEK_S. Set where the rate does not take (player/rate-check.ts). */
  seekAbove?: number;
};

/**
 * The coarse mode's catch-up rate: about what clears `error` (s) in one hold, on the rate grid,
 * at least COARSE_MIN_RATE and at most min(maxRate, COARSE_MAX_RATE). A fixed fast rate would
 * overshoot a small error into a thin buffer.
 */
export function coarseRate(error: number, p: Pick<ControlParams, 'maxRate' | 'rateStep'>): number {
  // Rounded down to the grid: what is left after a hold is caught by the next, or within the exit band.
  const steps = Math.floor(1e-9 + error / (COARSE_HOLD_MS / 1000) / p.rateStep);
  const wanted = Math.round(1e6 * (1 + steps * p.rateStep)) / 1e6;
  return clamp(wanted, Math.min(COARSE_MIN_RATE, p.maxRate), Math.min(p.maxRate, COARSE_MAX_RATE));
}

/** Half of x (s), or 0 once that is under 10 ms. */
function halve(x: number): number {
  return x / 2 < 0.01 ? 0 : x / 2;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Rounds to the rate grid (1 ± k·step). */
export function quantise(rate: number, step: number): number {
  return Math.round(1e6 * (1 + Math.round((rate - 1) / step) * step)) / 1e6;
}

/** The bounded smooth curve: 1 at e = 0, towards maxRate (e > 0) or minRate (e < 0). */
export function rateCurve(e: number, p: Pick<ControlParams, 'minRate' | 'maxRate' | 'rateScale'>): number {
  return e >= 0 ? 1 + (p.maxRate - 1) * Math.tanh(e / p.rateScale) : 1 - (1 - p.minRate) * Math.tanh(-e / p.rateScale);
}

/**
 * The effective target (s): base + stall raise, or in pinned mode max(base, pinnedMinLatency),
 * within [minLatency, maxLatency].
 */
export function effectiveTarget(p: ControlParams, raise: number): number {
  if (p.policy !== 'nowcast') return p.targetLatency;
  const t = p.pinned ? Math.max(p.targetLatency, p.pinnedMinLatency) : p.targetLatency + raise;
  return Math.round(1e6 * clamp(t, p.minLatency, Math.max(p.minLatency, p.maxLatency))) / 1e6;
}

/** minBuffer plus the arrival jitter past jitterFree, up to maxJitterBuffer; none when pinned. */
export function bufferFloor(p: ControlParams, jitter: number): number {
  if (p.pinned || !(jitter > p.jitterFree)) return p.minBuffer;
  return p.minBuffer + Math.min(p.maxJitterBuffer, jitter - p.jitterFree);
}

export function decide(input: ControlInput, prev: ControlState, p: DecideParams): Decision {
  switch (p.policy) {
    case 'none': return baseline(input, prev, p, 1);
    case 'seek': return seekBaseline(input, prev, p);
    case 'mpegts': return mpegtsBaseline(input, prev, p);
    default: return nowcast(input, prev, p);
  }
}

function nowcast(input: ControlInput, prev: ControlState, p: DecideParams): Decision {
  const { now, latency, bufferAhead, bufferEnd, keyframe } = input;
  const state: ControlState = { ...prev, lastNow: now };

  // Stall-adaptive target: a stall raises the target when it ends, unless it began while the
  // viewer was joining or outlasted the largest raise (no raise could have absorbed it); the
  // raise halves per stable period.
  if (!Number.isFinite(state.startedAt)) state.startedAt = now;
  const counts = (since: number): boolean => since - state.startedAt >= JOIN_GRACE_MS;
  const fresh = input.stalls - prev.stallsSeen;
  state.stallsSeen = input.stalls;
  let raises = 0;
  if (Number.isFinite(prev.stallSince) && !input.stalled) {
    if (now - prev.stallSince <= p.maxStallRaise * 1000 && counts(prev.stallSince)) raises = 1;
  } else if (fresh > 0 && !input.stalled && !Number.isFinite(prev.stallSince) && counts(now)) {
    raises = fresh; // began and ended between two ticks
  }
  state.stallSince = input.stalled ? (Number.isFinite(prev.stallSince) ? prev.stallSince : now) : NaN;
  if (!input.stalled) state.heldSince = NaN;
  const period = p.stableMs * 2 ** prev.backoff;
  if (raises > 0 && !p.pinned) {
    state.raise = Math.min(p.maxStallRaise, prev.raise + p.stallTargetStep * raises);
    // It stalled at prev.raise: that level is not enough here, so do not come back down to it.
    if (p.stallMemoryStep > 0) state.memory = Math.min(state.raise, Math.max(prev.memory, prev.raise + p.stallMemoryStep));
    // The last halving went too far: come down more slowly from now on.
    if (now - prev.halvedAt < period) state.backoff = Math.min(MAX_BACKOFF, prev.backoff + 1);
  }
  if (fresh > 0 || input.stalled || Number.isFinite(prev.stallSince)) {
    state.raiseAt = now; // "stable" counts from a stall's end
    state.memoryAt = now;
  } else {
    if (state.memory > 0 && now - prev.memoryAt >= p.stallMemoryMs) {
      state.memory = halve(state.memory);
      state.memoryAt = now;
    }
    if (state.raise > state.memory && now - prev.raiseAt >= period) {
      state.raise = Math.max(state.memory, halve(state.raise));
      // A whole period held since the last halving: come down faster again.
      if (prev.raiseAt === prev.halvedAt) state.backoff = Math.max(0, prev.backoff - 1);
      state.raiseAt = now;
      state.halvedAt = now;
    }
  }
  const floor = bufferFloor(p, input.jitter);
  state.floor = floor;
  const pipelineNow = Number.isFinite(prev.pipeline) ? prev.pipeline : DEFAULT_PIPELINE_S;
  // Not raised by the floor: the error's buffer term already holds the floor, and the pipeline
  // estimate swings for a moment after an outage (a raised target read 0.46 s for 0.4 s).
  const target = effectiveTarget(p, state.raise);
  const done = (rate: number, reason: ControlReason, extra: Partial<ControlState> = {}, seekTo?: number): Decision => {
    // A seek moves the buffer: its saw-tooth is measured afresh.
    const s = { ...state, ...extra, rate, ...(seekTo === undefined ? {} : emptySawtooth()) };
    if (rate !== prev.rate) s.lastRateChange = now;
    return seekTo === undefined ? { rate, reason, target, state: s } : { rate, reason, target, seekTo, state: s };
  };

  if (input.hidden) return done(1, 'hidden', { wasHidden: true, correcting: false, refilling: false, ...emptySawtooth() });
  if (!Number.isFinite(bufferAhead)) return done(1, 'idle', { correcting: false, refilling: false, error: NaN });
  const known = Number.isFinite(latency);
  // Pinned and late with the target moment in the buffer: go to that moment, not to "live", so
  // every pinned viewer lands on the same frame whatever state it resumed in. Also while still
  // stalled (the backlog after an outage is in, Chromium has not resumed yet): otherwise it
  // resumes where it stopped and shows the stale frames for as long as the next tick takes.
  const late = latency - target;
  const pinSeek = p.pinned && known && p.pinnedSeek > 0 && late > p.pinnedSeek && now - prev.lastSeek >= SEEK_COOLDOWN_MS && bufferAhead - late >= p.minBuffer;
  const pin = (): Decision => done(1, 'pin', { correcting: false, refilling: false, error: NaN, lastSeek: now, lastRateChange: now, heldSince: NaN }, bufferEnd - bufferAhead + late);
  if (input.stalled) {
    if (pinSeek) return pin();
    // The data for the target is here and playback still waits: flush in place (no media
    // skipped; the rate then drains what the stall added).
    // Counted from when the buffer got there, not from the stall's start: after an outage the
    // backlog arrives at once and Chromium resumes by itself, and a seek then only costs time.
    const buffer = Math.max(floor, target - pipelineNow);
    const heldSince = bufferAhead >= buffer ? (Number.isFinite(prev.heldSince) ? prev.heldSince : now) : NaN;
    if (p.stallBreakMs > 0 && now - heldSince >= p.stallBreakMs && now - prev.lastSeek >= STALL_BREAK_COOLDOWN_MS) {
      // The rate was already 1 while stalled, so the catch-up may start on the next tick.
      return done(1, 'unstall', { correcting: false, refilling: false, error: NaN, lastSeek: now, heldSince: now }, bufferEnd - bufferAhead);
    }
    return done(1, 'stalled', { correcting: false, error: NaN, heldSince, ...emptySawtooth() });
  }

  if (known) {
    const d = latency - bufferAhead;
    const dt = Math.max(0, now - prev.lastNow);
    state.pipeline = !Number.isFinite(prev.pipeline) ? d : prev.pipeline + (1 - Math.exp(-dt / 1000)) * (d - prev.pipeline);
  }
  const pipeline = Number.isFinite(state.pipeline) ? state.pipeline : DEFAULT_PIPELINE_S;
  const targetBuffer = Math.max(floor, target - pipeline);
  const latencyNow = known ? latency : pipeline + bufferAhead;

  // Where a jump to live lands: the latest keyframe if it leaves about the target buffer
  // (decoding starts right there), else buffered end − target buffer.
  const seekPoint = (): number => {
    const k = bufferEnd - keyframe;
    const to = Number.isFinite(keyframe) && k >= targetBuffer && k <= targetBuffer + KEYFRAME_SLACK_S ? keyframe : bufferEnd - targetBuffer;
    return to;
  };
  const jump = (reason: ControlReason): Decision =>
    done(1, reason, { correcting: false, refilling: false, error: NaN, lastSeek: now, lastRateChange: now }, seekPoint());
  const canSeek = now - prev.lastSeek >= SEEK_COOLDOWN_MS && bufferAhead > targetBuffer;

  if (prev.wasHidden) {
    state.wasHidden = false;
    if (latencyNow - target > p.visibleJump && bufferAhead > targetBuffer) return jump('visible');
  }
  if (latencyNow > p.maxLatency && canSeek) return jump('seek');

  if (pinSeek) return pin();

  // Only what sits in the buffer can be drained; a thin buffer pulls the error negative. The
  // floor is held by the average buffer: on a saw-tooth, less the half of it above the average.
  // Only the source's own bursts: a lossy or jittery path to the viewer keeps its whole
  // allowance (bench:latency, 1% loss: 10 stalls when its holds counted too, 4–7 without).
  const cap = p.safeMode === 'off' ? Math.max(0, Math.min(floor - p.minBuffer, input.sourceJitter - p.jitterFree)) || 0 : 0;
  Object.assign(state, sampleSawtooth(state, now, Number.isFinite(prev.lastNow) ? now - prev.lastNow : 0, bufferAhead, cap));
  const held = floor - state.sawRelief;
  const raw = Math.min(known ? latency - target : bufferAhead - targetBuffer, bufferAhead - held);
  let error: number;
  if (!Number.isFinite(prev.error) || Math.abs(raw - prev.error) > SNAP_SECONDS) error = raw;
  else error = prev.error + (1 - Math.exp(-Math.max(0, now - prev.lastNow) / SMOOTHING_MS)) * (raw - prev.error);
  state.error = error;

  if (p.safeMode === 'seek') {
    if (error > (p.seekAbove ?? SAFARI_SEEK_S) && canSeek) return jump('seek');
    return done(1, 'hold', { correcting: false, refilling: false });
  }

  // Enter on the raw buffer (a stall is imminent now, not on average); leave once refilled.
  const refilling = bufferAhead < p.lowBuffer || (prev.refilling && bufferAhead < p.minBuffer);
  if (refilling) {
    const rate = p.safeMode === 'coarse' ? 1 : p.minRate;
    return done(rate, 'low-buffer', { correcting: false, refilling: true });
  }

  if (p.safeMode === 'coarse') {
    const correcting = prev.correcting ? error > COARSE_EXIT_S : error > COARSE_ENTER_S;
    const rate = correcting ? coarseRate(error, p) : 1;
    // Back to 1× as soon as the error is gone: a catch-up held for its whole hold overshot into a
    // buffer under lowBuffer (simulated; 2 short stalls in 8 WebKitGTK runs). A catch-up starts or
    // changes at most once per hold: each change is a flush in WebKitGTK.
    if (rate !== prev.rate && rate !== 1 && now - prev.lastRateChange < COARSE_HOLD_MS) {
      return { rate: prev.rate, reason: prev.rate > 1 ? 'catch-up' : 'hold', target, state: { ...state, correcting: prev.correcting, refilling: false } };
    }
    return done(rate, correcting ? 'catch-up' : 'hold', { correcting, refilling: false });
  }

  const enter = p.pinned ? Math.min(p.deadbandEnter, PINNED_ENTER_S) : p.deadbandEnter;
  const correcting = prev.correcting ? Math.abs(error) > p.deadbandExit : Math.abs(error) > enter;
  let rate = 1;
  if (correcting) {
    rate = quantise(rateCurve(error, p), p.rateStep);
    // Never sit at 1× while still outside the exit band: take at least one step.
    if (rate === 1) rate = error > 0 ? 1 + p.rateStep : 1 - p.rateStep;
    rate = clamp(rate, p.minRate, p.maxRate);
  }
  const reason: ControlReason = !correcting ? 'hold' : error > 0 ? 'catch-up' : 'slow-down';
  const returningToOne = rate === 1;
  if (rate !== prev.rate && !returningToOne && now - prev.lastRateChange < RATE_HOLD_MS) {
    return { rate: prev.rate, reason, target, state: { ...state, correcting, refilling: false } };
  }
  return done(rate, reason, { correcting, refilling: false });
}
