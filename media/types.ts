// The media vocabulary: what every remux hands the relay, one typed object per init segment or
// chunk, and what the relay and the cluster store and forward.
import type { TrackInfo } from '../protocol/messages.js';

/** ftyp+moov, as one buffer, with what MSE needs to know about it. */
export interface InitSegment {
  kind: 'init';
  bytes: Buffer;
  /** Codec list for `codecs="…"`, video first. */
  codecs: string;
  /** `video/mp4; codecs="…"` (or `audio/mp4` with no video track). */
  mime: string;
  tracks: TrackInfo[];
}

/** One media chunk: [prft] [emsg] [styp] moof mdat, as one buffer. */
export interface Chunk {
  kind: 'chunk';
  bytes: Buffer;
  /** mfhd sequence number. */
  seq: number;
  /** Decode time of the chunk's first sample, in seconds (tfdt / timescale of the first traf). */
  dts: number;
  /** Duration of the chunk in seconds (longest traf). */
  duration: number;
  /** True when the first video sample is a sync sample (or the stream has no video). */
  keyframe: boolean;
  /** Wall clock (ms since epoch) from a prft box preceding the moof, if any. */
  prftMs?: number;
  /** The track that starts earliest, where every traf has a decode time: late audio riding with a
   *  frame starts before it (ingest/srt/restamp.ts stamps by it). Not carried between machines. */
  earliest?: TrackTime;
}

/** A track's decode time in a chunk: in its own timescale (`ticks`) and in seconds. */
export interface TrackTime {
  trackId: number;
  ticks: number;
  seconds: number;
}

export type Fmp4Unit = InitSegment | Chunk;
