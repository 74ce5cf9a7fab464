// What /metrics reads about one publisher session (ingest.publishers()), fed by the remux's
// output on its way to the relay.
import type { Fmp4Unit } from '../media/types.js';
import type { MediaOut } from '../media/sink.js';

/**
 * What /metrics reads about one publisher session at scrape time. Updated per unit with two
 * comparisons and no allocation, so the hot path stays as it was.
 */
export class PublishStats {
  /** When the session began (RTMP: publish accepted), or null when not knowable (SRT listener). */
  readonly since: number | null;
  /** From `since` to the first chunk out of FFmpeg, in ms. */
  firstChunkMs: number | null = null;
  /** Media time between the last two keyframes, in seconds. */
  keyframeIntervalS: number | null = null;
  #lastKeyDts = NaN;

  constructor(readonly stream: string, readonly protocol: 'rtmp' | 'srt', since: number | null) {
    this.since = since;
  }

  unit(u: Fmp4Unit): void {
    if (u.kind === 'init') { this.#lastKeyDts = NaN; return; }
    if (this.firstChunkMs === null && this.since !== null) this.firstChunkMs = Date.now() - this.since;
    if (!u.keyframe) return;
    if (u.dts > this.#lastKeyDts) this.keyframeIntervalS = u.dts - this.#lastKeyDts;
    this.#lastKeyDts = u.dts;
  }
}

/** `out`, with every unit seen by `stats` first. */
export function observed(stats: PublishStats, out: MediaOut): MediaOut {
  return {
    init: (i, generation) => { stats.unit(i); out.init(i, generation); },
    chunk: (c) => { stats.unit(c); out.chunk(c); },
    failure: (code, message) => out.failure(code, message),
  };
}
