// Per-viewer delivery state for slow viewers, as a pure function so it can be tested alone.
//
//   live ──(send buffer > slowBytes)──▶ skipping ──(buffer < resumeBytes)──▶ waiting
//     ▲                                                                        │
//     └───────────────────────(next keyframe chunk: resubscribe)───────────────┘
//
// A skipping viewer gets no media; it resumes only at a keyframe, so its decoder never sees
// a chunk whose references were dropped.

export type DeliveryState = 'live' | 'skipping' | 'waiting';

export interface DropLimits {
  slowBytes: number;
  resumeBytes: number;
}

/** State after a sweep reads the socket's buffered byte count. */
export function afterSweep(state: DeliveryState, buffered: number, l: DropLimits): DeliveryState {
  if (state === 'live') return buffered > l.slowBytes ? 'skipping' : 'live';
  if (state === 'skipping') return buffered < l.resumeBytes ? 'waiting' : 'skipping';
  return 'waiting';
}

/** State when a chunk is about to be published. */
export function onChunk(state: DeliveryState, keyframe: boolean): DeliveryState {
  return state === 'waiting' && keyframe ? 'live' : state;
}
