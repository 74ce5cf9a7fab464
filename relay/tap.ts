// What the relay shows of each stream's media to a component that repackages it (hls/): the
// generations and chunks exactly as WebSocket viewers get them, after the relay's own
// decisions (an init held until its keyframe, a repeated init dropped). Declared here, by the
// caller; app/ wires the implementation, so the relay imports nothing of it.
import type { Chunk, InitSegment } from '../media/types.js';
import type { StreamState } from '../protocol/messages.js';

export interface MediaTap {
  /** A new generation, sent to viewers just before its first keyframe chunk. */
  init(stream: string, generation: number, init: InitSegment): void;
  /** A chunk, after it went to the live viewers. */
  chunk(stream: string, chunk: Chunk): void;
  /** The stream's state changed (offline: the publisher left; error: its remux failed). */
  state(stream: string, state: StreamState): void;
  /** The relay forgot the stream (no publisher, no viewers) or is closing. */
  closed(stream: string): void;
}
