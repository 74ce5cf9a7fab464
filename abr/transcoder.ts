// One lower rendition of one stream: an FFmpeg (abr/ffmpeg-args.ts) fed the source's init
// segment and chunks on stdin, supervised by ingest's Remux (restart with backoff, output
// through the fMP4 splitter). A restarted FFmpeg gets the init again and then the source from
// its next keyframe, so its first output is a keyframe at the source's own decode time.
import type { Logger } from '../util/log.js';
import type { Chunk, InitSegment } from '../media/types.js';
import type { MediaOut } from '../media/sink.js';
import { Remux } from '../ingest/remux.js';
import { transcodeArgs } from './ffmpeg-args.js';
import type { Rendition } from './config.js';

export interface TranscoderOptions {
  ffmpegPath: string;
  rendition: Rendition;
  /** The source's init segment (its video timescale is kept). */
  init: InitSegment;
  fragmentUs: number;
  maxBoxBytes: number;
  maxInitBytes: number;
  restartDelayMs: number;
  maxRestartDelayMs: number;
  /** Internal stream name, in FFmpeg's environment as NOWCAST_STREAM (fault-injection tests find it by it). */
  name: string;
}

export interface TranscoderEvents {
  /** FFmpeg died (it is restarted with backoff): the rendition has no media until it is back. */
  failed(message: string): void;
}

export class Transcoder {
  readonly rendition: Rendition;
  readonly #remux: Remux;
  #write: ((b: Buffer) => void) | null = null;
  /** After a (re)start, the source is fed from its next keyframe. */
  #needKeyframe = true;
  #closed = false;
  /** Source chunks written to FFmpeg, and FFmpeg's exits (each restarted). */
  fed = 0;
  failures = 0;
  /** Producing: false from an exit until the restarted FFmpeg's first chunk. */
  up = true;

  constructor(o: TranscoderOptions, out: MediaOut, log: Logger, events: TranscoderEvents) {
    this.rendition = o.rendition;
    const video = o.init.tracks.find((t) => t.kind === 'video');
    const args = transcodeArgs({ rendition: o.rendition, videoTimescale: video?.timescale ?? 90_000, fragmentUs: o.fragmentUs });
    const init = o.init.bytes;
    this.#remux = new Remux({
      ffmpegPath: o.ffmpegPath, args, restart: 'always',
      restartDelayMs: o.restartDelayMs, maxRestartDelayMs: o.maxRestartDelayMs,
      maxBoxBytes: o.maxBoxBytes, maxInitBytes: o.maxInitBytes, stream: o.name,
      stdin: (write) => {
        write(init);
        this.#needKeyframe = true;
        this.#write = write;
        return () => { if (this.#write === write) this.#write = null; };
      },
    }, {
      ...out,
      chunk: (c) => { this.up = true; out.chunk(c); },
    }, log, {
      exit: (clean) => {
        if (this.#closed) return;
        this.up = false;
        this.failures++;
        events.failed(clean ? 'the transcoder ended its output' : 'the transcoder exited');
      },
    });
  }

  get pid(): number | undefined {
    return this.#remux.pid;
  }

  /** A source chunk, as viewers got it. */
  push(c: Chunk): void {
    const write = this.#write;
    if (!write) return;
    if (this.#needKeyframe) {
      if (!c.keyframe) return;
      this.#needKeyframe = false;
    }
    this.fed++;
    write(c.bytes);
  }

  /** Stops FFmpeg; resolves once it exited. Safe to call twice. */
  close(): Promise<void> {
    this.#closed = true;
    this.#write = null;
    return this.#remux.close();
  }
}
