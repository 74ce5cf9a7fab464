// One live stream in the relay: its current init segment, the chunks since the last keyframe
// (so a new viewer starts at once), and fan-out of each chunk's one shared Buffer to the
// stream's live viewers.
//
// Fan-out is a loop of ws.send() over a Set, not a uWS topic, and is not corked: measured by
// `npm run bench:fanout` at 4000 viewers (bench/RESULTS.md), a topic subscriber (and a corked
// socket) copies every message into its own send buffer, which keeps its capacity, so 16+ KiB
// keyframes cost ~23 KiB RSS per viewer; an uncorked send of one message writes straight to
// the kernel (writev, no copy) and only the part the kernel refuses is buffered. The loop also
// lets the relay see a send the socket dropped (maxBackpressure) at the chunk it happened.
import type { WebSocket } from 'uWebSockets.js';
import type { Logger } from '../app/log.js';
import type { Chunk, InitSegment } from '../ingest/fmp4/types.js';
import { PROTOCOL_VERSION, type InfoMessage, type ServerMessage, type ServiceDescription, type StreamState } from './protocol.js';
import { afterSweep, onChunk, type DeliveryState, type DropLimits } from './drop-policy.js';
import { QoeAggregator, type QoeListener } from './qoe.js';
import { GopCache } from './gop-cache.js';

export interface ViewerData {
  id: number;
  stream: string;
  ip: string;
  state: DeliveryState;
  /** Stream chunk/byte counters when this viewer started skipping (-1: not skipping). */
  skipFromChunk: number;
  skipFromBytes: number;
  /** Set once the viewer has been removed, so late callbacks don't touch it. */
  closed: boolean;
}

export type Viewer = WebSocket<ViewerData>;

export interface StreamLimits extends DropLimits {
  /** Stop caching the current GOP past this size; new viewers then wait for the next keyframe. */
  maxGopCacheBytes: number;
}

export interface StreamCounters {
  chunks: number;
  bytes: number;
  keyframes: number;
  skips: number;
  skippedChunks: number;
  /** Media chunks and bytes handed to viewers' sockets (live chunks and joiners' cached GOP). */
  sentChunks: number;
  sentBytes: number;
}

/** uWS ws.send() result: the socket was over maxBackpressure and the message was dropped. */
const SEND_DROPPED = 2;

export class Stream {
  readonly name: string;
  state: StreamState = 'offline';
  generation = 0;
  readonly counters: StreamCounters = { chunks: 0, bytes: 0, keyframes: 0, skips: 0, skippedChunks: 0, sentChunks: 0, sentBytes: 0 };
  lastChunkAt = 0;
  #log: Logger;
  #limits: StreamLimits;
  #info: InfoMessage | null = null;
  #init: Buffer | null = null;
  #gop: GopCache<Buffer>;
  #viewers = new Set<Viewer>();
  #waiting = new Set<Viewer>();
  /** Viewers that get every chunk: state 'live' and their join burst sent. */
  #live = new Set<Viewer>();
  #stateCode: string | undefined;
  #stateMessage: string | undefined;
  #closed = false;

  readonly service: ServiceDescription;
  /** Viewers' QoE reports for this stream (relay/qoe.ts). */
  readonly qoe: QoeAggregator;

  constructor(name: string, limits: StreamLimits, service: ServiceDescription, log: Logger, onQoe?: QoeListener) {
    this.name = name;
    this.service = service;
    this.qoe = new QoeAggregator(name, {}, onQoe);
    this.#limits = limits;
    this.#gop = new GopCache(limits.maxGopCacheBytes);
    this.#log = log;
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  get info(): InfoMessage | null {
    return this.#info;
  }

  /**
   * A new init segment: a new generation (the next one, or the origin's on a cluster edge).
   * Everyone gets it, then waits for its first keyframe.
   */
  onInit(init: InitSegment, generation?: number): void {
    if (this.#closed) return;
    this.generation = generation ?? this.generation + 1;
    this.#info = { type: 'info', stream: this.name, generation: this.generation, mime: init.mime, codecs: init.codecs, tracks: init.tracks };
    this.#init = init.bytes;
    this.#gop.reset();
    this.#log.info({ generation: this.generation, mime: init.mime }, 'init segment');
    const infoText = JSON.stringify(this.#info);
    for (const v of this.#viewers) {
      v.cork(() => {
        this.#toWaiting(v);
        v.send(infoText, false);
        v.send(init.bytes, true);
      });
    }
    this.setState('live');
  }

  /** The hot path: the chunk's one Buffer to every live viewer; no allocation per viewer. */
  onChunk(chunk: Chunk): void {
    if (this.#closed || !this.#init) return;
    const c = this.counters;
    if (chunk.keyframe) {
      c.keyframes++;
      if (this.#waiting.size) this.#resume();
    }
    this.#gop.push(chunk.bytes, chunk.bytes.length, chunk.keyframe);
    c.chunks++;
    c.bytes += chunk.bytes.length;
    this.lastChunkAt = Date.now();
    const b = chunk.bytes;
    for (const v of this.#live) {
      if (v.send(b, true) === SEND_DROPPED) this.#startSkipping(v);
    }
    c.sentChunks += this.#live.size;
    c.sentBytes += this.#live.size * b.length;
  }

  /** Publisher gone, back, or failed. Viewers stay connected and are told. */
  setState(state: StreamState, code?: string, message?: string): void {
    if (this.#closed) return;
    if (state === this.state && code === this.#stateCode) return;
    this.state = state;
    this.#stateCode = code;
    this.#stateMessage = message;
    if (state !== 'live') this.#gop.reset();
    this.#log.info({ state, code }, 'stream state');
    const text = JSON.stringify(this.#stateMsg());
    for (const v of this.#viewers) v.cork(() => v.send(text, false));
  }

  /** Called inside uWS's open handler (already corked): control messages and init now, media just after. */
  addViewer(v: Viewer): void {
    const d = v.getUserData();
    this.#viewers.add(v);
    this.#send(v, { type: 'hello', version: PROTOCOL_VERSION, stream: this.name, serverTime: Date.now(), service: this.service });
    if (this.#info && this.#init) {
      this.#send(v, this.#info);
      v.send(this.#init, true);
    }
    this.#send(v, this.#stateMsg());
    if (this.#gop.items.length) {
      d.state = 'live';
      // The cached GOP goes out after the open handler returns: inside it the socket is
      // corked, and corked big messages take uWS's copy path (see the top of this file).
      setImmediate(() => this.#sendJoinBurst(v));
    } else {
      d.state = 'waiting';
      this.#waiting.add(v);
    }
  }

  #sendJoinBurst(v: Viewer): void {
    const d = v.getUserData();
    if (d.closed || this.#closed || d.state !== 'live' || this.#live.has(v)) return;
    // A keyframe may have come since open, or the cache overflowed: send what is cached now.
    if (!this.#gop.items.length) {
      d.state = 'waiting';
      this.#waiting.add(v);
      return;
    }
    for (const b of this.#gop.items) {
      if (v.send(b, true) === SEND_DROPPED) {
        this.#startSkipping(v);
        return;
      }
      this.counters.sentChunks++;
      this.counters.sentBytes += b.length;
    }
    this.#live.add(v);
  }

  removeViewer(v: Viewer): void {
    this.#viewers.delete(v);
    this.#waiting.delete(v);
    this.#live.delete(v);
  }

  /** Reads each viewer's send buffer and applies the drop policy. Runs on a timer. */
  sweep(): void {
    for (const v of this.#viewers) {
      const d = v.getUserData();
      if (d.state === 'waiting') continue;
      const next = afterSweep(d.state, v.getBufferedAmount(), this.#limits);
      if (next === d.state) continue;
      if (next === 'skipping') this.#startSkipping(v);
      else {
        if (next === 'waiting') this.#waiting.add(v);
        d.state = next;
      }
    }
  }

  /** Stops sending media to a viewer until the next keyframe after its buffer drains. */
  #startSkipping(v: Viewer): void {
    const d = v.getUserData();
    if (d.state === 'skipping') return;
    this.#live.delete(v);
    this.#waiting.delete(v);
    d.state = 'skipping';
    d.skipFromChunk = this.counters.chunks;
    d.skipFromBytes = this.counters.bytes;
    this.counters.skips++;
    this.#log.debug({ viewer: d.id }, 'viewer too slow; skipping to the next keyframe');
  }

  #toWaiting(v: Viewer): void {
    const d = v.getUserData();
    // A new generation is a restart, not a skip: nothing is reported as missed.
    this.#live.delete(v);
    d.skipFromChunk = -1;
    d.state = 'waiting';
    this.#waiting.add(v);
  }

  /** At a keyframe (before it is sent): every waiting viewer is told what it missed and goes live again. */
  #resume(): void {
    for (const v of this.#waiting) {
      const d = v.getUserData();
      d.state = onChunk(d.state, true);
      const chunks = this.counters.chunks - d.skipFromChunk;
      v.cork(() => {
        if (d.skipFromChunk >= 0 && chunks > 0) {
          this.counters.skippedChunks += chunks;
          this.#send(v, { type: 'skip', chunks, bytes: this.counters.bytes - d.skipFromBytes });
        }
      });
      this.#live.add(v);
      d.skipFromChunk = -1;
    }
    this.#waiting.clear();
  }

  #stateMsg(): ServerMessage {
    const m: ServerMessage = { type: 'state', stream: this.name, state: this.state };
    if (this.#stateCode) m.code = this.#stateCode;
    if (this.#stateMessage) m.message = this.#stateMessage;
    return m;
  }

  #send(v: Viewer, m: ServerMessage): void {
    v.send(JSON.stringify(m), false);
  }

  /** Forgets media and closes every viewer's socket (1001: going away). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#gop.reset();
    this.#init = null;
    const viewers = [...this.#viewers];
    this.#viewers.clear();
    for (const v of viewers) if (!v.getUserData().closed) v.end(1001, 'stream closed');
    this.#waiting.clear();
    this.#live.clear();
  }
}
