// A publish → fMP4 in process: the RTMP server's FLV tags (FlvRemuxer) or an SRT caller's
// MPEG-TS (ingest/ts's TsRemuxer, into the same FlvRemuxer) go through the same splitter that
// checks FFmpeg's output, into the stream's sink. No FFmpeg, no loopback hop, no interleaver.
// Input is taken at the end of each event-loop turn (one socket read); a chunk is written once
// the remuxer says it is ready (a frame and the audio reaching its end), or chunkWaitMs after a
// frame whose audio is late.
import type { Logger } from '../util/log.js';
import { Fmp4Splitter } from './fmp4/splitter.js';
import { type Fmp4Unit } from '../media/types.js';
import { Fmp4Error } from './fmp4/errors.js';
import { deliver, type MediaOut } from '../media/sink.js';
import { restartDelay } from './backoff.js';
import { FlvError } from './flv/reader.js';
import { FlvRemuxer } from './flv/remuxer.js';
import { TsError } from './ts/errors.js';

/** What the tap drives: bytes in, fMP4 out, a chunk when ready() (FlvRemuxer, ingest/ts's TsRemuxer). */
export interface ChunkRemuxer {
  push(data: Buffer, emit: (fmp4: Buffer) => void): void;
  ready(): boolean;
  readonly pending: boolean;
  flush(emit: (fmp4: Buffer) => void, force?: boolean): void;
}

export interface RemuxTapEvents {
  /** A restart is scheduled after unusable media (the tap reports it to the sink itself). */
  restart?(clean: boolean): void;
  /**
   * Unusable media, when the owner decides what follows (an SRT caller is dropped): the tap
   * stops for good instead of restarting, and does not report to the sink.
   */
  failed?(code: string, message: string): void;
}

/** A run that lasted this long counts as healthy and resets the restart backoff (as for FFmpeg). */
const HEALTHY_RUN_MS = 10_000;

export interface RemuxTapOptions {
  maxBoxBytes: number;
  maxInitBytes: number;
  restartDelayMs: number;
  maxRestartDelayMs: number;
  /** Longest a frame waits for the audio that covers it before it is written without it, in ms. */
  chunkWaitMs: number;
}

/**
 * Subscribes to a publish's bytes (FLV, or MPEG-TS); returns the unsubscribe. `cached`: start
 * from the feed's cached sequence headers and tags since the last keyframe (a restart), not only
 * from now (a new publish).
 */
export type TapSubscribe = (onData: (bytes: Buffer) => void, cached: boolean) => () => void;

export class RemuxTap {
  readonly #subscribe: TapSubscribe;
  readonly #opts: RemuxTapOptions;
  readonly #sink: MediaOut;
  readonly #events: RemuxTapEvents;
  readonly #make: (warn: (message: string) => void) => ChunkRemuxer;
  readonly #log: Logger;
  #unsubscribe: (() => void) | null = null;
  #pending: Buffer[] = [];
  #scheduled: NodeJS.Immediate | null = null;
  #remuxer!: ChunkRemuxer;
  #splitter!: Fmp4Splitter;
  #timer: NodeJS.Timeout | null = null;
  /** Writes a frame whose audio is late (chunkWaitMs). */
  #wait: NodeJS.Timeout | null = null;
  #attempt = 0;
  #startedAt = 0;
  #closed = false;
  #detached = false;
  /** Subscriptions made, including the first (a failure resubscribes from the cache: a new generation). */
  #starts = 0;

  constructor(subscribe: TapSubscribe, opts: RemuxTapOptions, sink: MediaOut, log: Logger, events: RemuxTapEvents = {},
    make?: (warn: (message: string) => void) => ChunkRemuxer) {
    this.#events = events;
    this.#make = make ?? ((warn) => new FlvRemuxer({ maxTagBytes: opts.maxBoxBytes, warn }));
    this.#subscribe = subscribe;
    this.#opts = opts;
    this.#sink = sink;
    this.#log = log;
    this.#start();
  }

  #start(): void {
    this.#timer = null;
    if (this.#closed) return;
    this.#starts++;
    this.#startedAt = Date.now();
    this.#remuxer = this.#make((m) => this.#log.warn(m));
    this.#splitter = new Fmp4Splitter({ maxBoxBytes: this.#opts.maxBoxBytes, maxInitBytes: this.#opts.maxInitBytes });
    try {
      this.#unsubscribe = this.#subscribe((b) => {
        this.#pending.push(b);
        this.#scheduled ??= setImmediate(this.#drain);
      }, this.#starts > 1);
    } catch (err) {
      // The publish is gone (its broadcast with it): nothing left to read.
      this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'publish gone before the remux could start over');
      void this.close();
    }
  }

  readonly #drain = (): void => {
    this.#scheduled = null;
    const pending = this.#pending;
    this.#pending = [];
    if (this.#closed || !pending.length) return;
    try {
      this.#remuxer.push(pending.length === 1 ? pending[0]! : Buffer.concat(pending), this.#write);
      if (this.#opts.chunkWaitMs === 0 || this.#remuxer.ready()) this.#flush();
      else if (this.#remuxer.pending) this.#wait ??= setTimeout(this.#flushLate, this.#opts.chunkWaitMs);
    } catch (err) {
      this.#fail(err);
    }
  };

  readonly #write = (b: Buffer): void => this.#splitter.push(b, this.#emit);
  readonly #emit = (u: Fmp4Unit): void => deliver(this.#sink, u);

  #flush(force = false): void {
    if (this.#wait) clearTimeout(this.#wait);
    this.#wait = null;
    this.#remuxer.flush(this.#write, force);
  }

  readonly #flushLate = (): void => {
    this.#wait = null;
    try {
      this.#flush();
    } catch (err) {
      this.#fail(err);
    }
  };

  /** Reports bad media and starts over with a fresh subscription (a new init segment), after a backoff. */
  #fail(err: unknown): void {
    const code = err instanceof FlvError || err instanceof Fmp4Error || err instanceof TsError ? err.code : 'REMUX_FAILED';
    const message = err instanceof Error ? err.message : String(err);
    this.#stop();
    if (this.#events.failed) {
      this.#log.warn({ code, err: message }, 'unusable media from the publisher');
      this.#closed = true;
      this.#events.failed(code, message);
      return;
    }
    this.#log.error({ code, err: message }, 'unusable media from the publisher; starting over');
    this.#sink.failure(code, message);
    if (Date.now() - this.#startedAt >= HEALTHY_RUN_MS) this.#attempt = 0;
    const delay = restartDelay(this.#attempt++, this.#opts.restartDelayMs, this.#opts.maxRestartDelayMs);
    this.#events.restart?.(false);
    this.#timer = setTimeout(() => this.#start(), delay);
  }

  #stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    if (this.#wait) clearTimeout(this.#wait);
    this.#wait = null;
    this.#pending = [];
  }

  /** Unsubscribes; what already arrived is written first (nothing published is lost). Safe to call twice. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#scheduled) {
      clearImmediate(this.#scheduled);
      this.#drain();
    }
    if (!this.#timer && !this.#detached) {
      try {
        this.#flush(true);
      } catch {
        // Bad last bytes: the viewers keep what they have; the publisher is gone anyway.
      }
    }
    this.#closed = true;
    this.#stop();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    return Promise.resolve();
  }

  /** Stops forwarding at once (a new publisher owns the stream now) and closes. */
  detach(): void {
    this.#detached = true;
    this.#pending = [];
    void this.close();
  }
}
