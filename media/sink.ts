// What ingest needs from the relay: somewhere to put each stream's media. Declared here, on
// the consumer's side, so ingest never imports relay internals.
import type { Chunk, Fmp4Unit, InitSegment } from './types.js';

export interface MediaSink {
  /**
   * A new init segment starts a new generation. `generation` is given when the media comes from
   * another node (a cluster edge mirrors its origin's numbering, so a player failing over from
   * one edge to another sees the same generation and keeps its timeline).
   */
  init(init: InitSegment, generation?: number): void;
  chunk(chunk: Chunk): void;
  /** Media for this stream failed (bad fMP4, FFmpeg error); viewers are told, the stream is kept. */
  failure(code: string, message: string): void;
  /** The publisher is gone. */
  offline(reason: string): void;
}

export interface SinkProvider {
  /** The sink for stream `name`, creating the stream if needed. */
  sink(name: string): MediaSink;
}

/** What a remux writes into (RTMP in process, FFmpeg for SRT or remux.muxer ffmpeg): the media half of a MediaSink. */
export type MediaOut = Pick<MediaSink, 'init' | 'chunk' | 'failure'>;

/** Hands one unit from the splitter to the sink's init or chunk. */
export function deliver(out: MediaOut, u: Fmp4Unit): void {
  if (u.kind === 'init') out.init(u);
  else out.chunk(u);
}
