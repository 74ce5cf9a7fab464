// The baseline policies, for comparison with 'nowcast' (player/latency.ts): what the peers do,
// from their code. 'none' never touches the rate; 'seek' is Flussonic's MSE player (jmuxer does
// the same with other numbers); 'mpegts' is mpegts.js's liveBufferLatencyChasing in rate mode.
// Pure functions of their inputs, like the controller, and steered by the buffer alone: none of
// them knows the wall-clock latency. Their target is the base target, never raised.
import { SEEK_COOLDOWN_MS } from './control.js';
import type { ControlInput, ControlParams, ControlState, Decision } from './control.js';

/** Baselines, from the peers' code: Flussonic jumps to end − 0.2 s past 2 s behind... */
export const SEEK_BASELINE = { behind: 2, keep: 0.2 } as const;
/** ...mpegts.js plays 1.2× above 1.2 s of buffer and returns to 1× below 0.8 s. */
export const MPEGTS_BASELINE = { on: 1.2, off: 0.8, rate: 1.2 } as const;

/** A fixed rate and no seek: 'none' at 1×, and the decision the other two build on. */
export function baseline(input: ControlInput, prev: ControlState, p: ControlParams, rate: number): Decision {
  const state = { ...prev, lastNow: input.now, rate };
  if (rate !== prev.rate) state.lastRateChange = input.now;
  return { rate, reason: rate === 1 ? 'hold' : 'catch-up', target: p.targetLatency, state };
}

/** Flussonic's MSE player (and jmuxer, with other numbers): seek only, never a rate. */
export function seekBaseline(input: ControlInput, prev: ControlState, p: ControlParams): Decision {
  const { now, bufferAhead, bufferEnd } = input;
  if (bufferAhead > SEEK_BASELINE.behind && now - prev.lastSeek >= SEEK_COOLDOWN_MS) {
    const d = baseline(input, prev, p, 1);
    return { ...d, seekTo: bufferEnd - SEEK_BASELINE.keep, reason: 'seek', state: { ...d.state, lastSeek: now } };
  }
  return baseline(input, prev, p, 1);
}

/** mpegts.js liveBufferLatencyChasing in rate mode: 1.2× above 1.2 s of buffer, 1× below 0.8 s. */
export function mpegtsBaseline(input: ControlInput, prev: ControlState, p: ControlParams): Decision {
  const b = input.bufferAhead;
  let rate = prev.rate;
  if (!Number.isFinite(b)) rate = 1;
  else if (b > MPEGTS_BASELINE.on) rate = MPEGTS_BASELINE.rate;
  else if (b < MPEGTS_BASELINE.off) rate = 1;
  return baseline(input, prev, p, rate);
}
