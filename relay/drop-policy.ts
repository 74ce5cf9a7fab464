// Per-viewer delivery state for slow viewers, as a pure function so it can be tested alone.
//
//   live ──(in flight > maxInFlightMs, or send buffer > slowBytes)──▶ skipping
//   skipping ──(in flight ≤ resumeInFlightMs and buffer < resumeBytes)──▶ waiting
//   waiting ──(next keyframe chunk: resubscribe)──▶ live
//
// In flight is media time sent and not acknowledged (relay/flow.ts); a viewer that never
// acknowledges (inFlightMs < 0) is judged by its send buffer alone, which misses what the
// kernel holds. A skipping viewer gets no media and resumes only at a keyframe, so its decoder
// never sees a chunk whose references were dropped.

export type DeliveryState = 'live' | 'skipping' | 'waiting';

/** Which rule stopped a viewer: acknowledged media in flight, or the send buffer's bytes. */
export type SkipRule = 'ack' | 'bytes';

export interface DropLimits {
  slowBytes: number;
  resumeBytes: number;
  /** Media in flight (ms) past which an acknowledging viewer skips. */
  maxInFlightMs: number;
}

/** A skipping acknowledging viewer resumes once this share of the bound is left in flight. */
export const RESUME_IN_FLIGHT_SHARE = 0.25;

export interface SweepVerdict {
  state: DeliveryState;
  /** Set when this sweep started a skip. */
  rule: SkipRule | null;
}

/**
 * State after a sweep reads the socket's buffered byte count and the media in flight
 * (ms; negative: the viewer does not acknowledge).
 */
export function afterSweep(state: DeliveryState, buffered: number, inFlightMs: number, l: DropLimits): SweepVerdict {
  if (state === 'live') {
    if (inFlightMs > l.maxInFlightMs) return { state: 'skipping', rule: 'ack' };
    if (buffered > l.slowBytes) return { state: 'skipping', rule: 'bytes' };
    return { state, rule: null };
  }
  if (state === 'skipping') {
    const drained = buffered < l.resumeBytes && inFlightMs <= l.maxInFlightMs * RESUME_IN_FLIGHT_SHARE;
    return { state: drained ? 'waiting' : 'skipping', rule: null };
  }
  return { state: 'waiting', rule: null };
}

/** State when a chunk is about to be published. */
export function onChunk(state: DeliveryState, keyframe: boolean): DeliveryState {
  return state === 'waiting' && keyframe ? 'live' : state;
}
