// The JSON shapes of the HTTP API: a stream's summary, as /api/streams lists it (ops/) and as a
// cluster edge learns it from the KV (cluster/).
import type { StreamState, TrackInfo } from './messages.js';

/** One stream as the relay holds it. */
export interface StreamSummary {
  name: string;
  state: StreamState;
  generation: number;
  codecs: string | null;
  tracks: TrackInfo[];
  viewers: number;
  chunks: number;
  bytes: number;
  skips: number;
}
