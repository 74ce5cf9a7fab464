// One live stream in the relay: its current init segment, the chunks since the last keyframe
// (so a new viewer starts at once), and fan-out of each chunk's one shared Buffer to the
// stream's live viewers.
//
// Fan-out is an uncorked loop of ws.send() over a Set, not a uWS topic: a topic subscriber (and a
// corked socket) copies every message into its own send buffer, ~23 KiB RSS per viewer at 4000
// viewers (bench:fanout; docs/architecture.md#design-choices). The loop also sees a send the
// socket dropped (maxBackpressure) at the chunk it happened.
//
// A new init segment waits (pending) until the keyframe chunk that starts its media: a burst of
// sequence-header changes costs each viewer one init, and an init byte-identical to the current
// one, with the same session's media continuing after it, is dropped (no new generation).
import type { Logger } from '../util/log.js';
import type { Chunk, InitSegment } from '../media/types.js';
import type { InfoMessage, ServerMessage, ServiceDescription, StreamState } from '../protocol/messages.js';
import { helloMessage, stateMessage } from './stream-messages.js';
import { ACK_RTT_MS, ChunkLog, ViewerFlow, type FlowEstimate } from './flow.js';
import { Delivery } from './delivery.js';
import { RECENT_MEDIA_MS, type StreamCounters, type StreamLimits } from './stream-types.js';
import { endWait, giveUp, type SkipTotals, type Viewer } from './viewer.js';
import { QoeAggregator, type QoeListener, type QoeTotals } from './qoe.js';
import { GopCache } from '../media/gop-cache.js';
import { ArrivalJitter } from '../protocol/arrival-jitter.js';
import type { MediaTap } from './tap.js';

export { CLOSE_STREAM_NOT_LIVE, type SkipTotals, type Viewer, type ViewerData } from './viewer.js';
export { RECENT_MEDIA_MS, type StreamCounters, type StreamLimits } from './stream-types.js';

export class Stream {
  readonly name: string;
  state: StreamState = 'offline';
  generation = 0;
  readonly counters: StreamCounters = { chunks: 0, bytes: 0, keyframes: 0, skips: 0, skippedChunks: 0, sentChunks: 0, sentBytes: 0, initsIgnored: 0, initsCoalesced: 0 };
  lastChunkAt = 0;
  #log: Logger;
  #info: InfoMessage | null = null;
  #init: Buffer | null = null;
  #gop: GopCache<Buffer>;
  #viewers = new Set<Viewer>();
  /** Who of them gets media now, and when a stopped one gets it again (relay/delivery.ts). */
  readonly #delivery: Delivery;
  #stateCode: string | undefined;
  #stateMessage: string | undefined;
  #closed = false;
  /** The newest init segment, not yet sent: it goes out at the keyframe chunk that starts its media. */
  #pending: { init: InitSegment; generation: number | undefined } | null = null;
  /** mfhd sequence number and decode time of the last chunk under the current init (-1: none yet). */
  #lastSeq = -1;
  #lastDts = -Infinity;
  /** Decode time and bytes of recent chunks by sequence number: what an ack refers to. */
  readonly #sent: ChunkLog;
  /** What its viewers are asked to ack at (hello.ackMs). */
  readonly #ackMs: number;
  /** How unevenly chunks reach the relay (an SRT caller's audio holds, a NATS hop): hello.jitterMs. */
  readonly #jitter = new ArrivalJitter();
  /** When the stream last left live/error for offline (ms); 0: never. */
  #leftAt = 0;
  /** Sees every generation and chunk after the viewers (LL-HLS); null: none. */
  readonly #tap: MediaTap | null;
  /** Viewers switching to another rendition at this stream's next keyframe (relay/abr-switch.ts). */
  readonly #leaving = new Map<Viewer, (dts: number) => void>();
  /** Decode time (s) of the keyframe the cached GOP starts with. */
  #gopDts = NaN;

  readonly service: ServiceDescription;
  /** Viewers' QoE reports for this stream (relay/qoe.ts). */
  readonly qoe: QoeAggregator;

  constructor(name: string, limits: StreamLimits, service: ServiceDescription, log: Logger, onQoe?: QoeListener, qoeTotals?: QoeTotals, tap?: MediaTap, skipTotals?: SkipTotals) {
    this.name = name;
    this.#tap = tap ?? null;
    this.service = service;
    this.qoe = new QoeAggregator(name, {}, onQoe, {}, qoeTotals);
    this.#gop = new GopCache(limits.maxGopCacheBytes);
    this.#log = log;
    this.#ackMs = limits.ackIntervalMs;
    this.#sent = new ChunkLog(limits.ackIntervalMs + ACK_RTT_MS);
    this.#delivery = new Delivery(this.counters, this.#gop, this.#sent, skipTotals ?? { ack: 0, bytes: 0 }, limits, log);
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  /** Every viewer this stream feeds now (relay/abr-switch.ts reads it). */
  get viewerSet(): ReadonlySet<Viewer> { return this.#viewers; }

  get info(): InfoMessage | null {
    return this.#info;
  }

  /**
   * A new init segment, held until the keyframe chunk that starts its media (#takePending):
   * then a new generation (the next one, or the origin's on a cluster edge), which everyone
   * gets before waiting for that keyframe. A newer init before then replaces it.
   */
  onInit(init: InitSegment, generation?: number): void {
    if (this.#closed) return;
    if (this.#pending) this.counters.initsCoalesced++;
    this.#pending = { init, generation };
    // A publisher is here: its viewers no longer wait for a name that is not live.
    for (const v of this.#viewers) endWait(v.getUserData());
  }

  /** The hot path: the chunk's one Buffer to every live viewer; no allocation per viewer. */
  onChunk(chunk: Chunk): void {
    if (this.#closed) return;
    const c = this.counters;
    if (this.#pending && !this.#takePending(chunk)) {
      c.chunks++;
      c.bytes += chunk.bytes.length;
      return;
    }
    if (!this.#init) return;
    if (chunk.keyframe) {
      c.keyframes++;
      if (this.#leaving.size) this.#leave(chunk.dts);
      if (this.#delivery.waiting.size) this.#delivery.resumeAtKeyframe(chunk.dts);
      this.#gopDts = chunk.dts;
    }
    this.#gop.push(chunk.bytes, chunk.bytes.length, chunk.keyframe);
    c.chunks++;
    c.bytes += chunk.bytes.length;
    this.lastChunkAt = Date.now();
    this.#lastSeq = chunk.seq;
    this.#lastDts = chunk.dts;
    this.#sent.record(chunk.seq, chunk.dts, c.bytes, this.lastChunkAt);
    if (chunk.prftMs !== undefined) this.#jitter.add(this.lastChunkAt, chunk.prftMs);
    this.#delivery.fanOut(chunk.bytes);
    this.#tap?.chunk(this.name, chunk);
  }

  /**
   * A chunk arrived with an init pending: drops the init if it repeats the current one in the
   * same session, or sends it if this chunk can start its media. Returns whether the chunk
   * goes on to viewers (a delta chunk of an unsent init can't be decoded by anyone).
   */
  #takePending(chunk: Chunk): boolean {
    const p = this.#pending!;
    // Same bytes, no cluster numbering, still live, and the chunk numbering and media time go
    // on: the same session's media under the same init. A new session (a republish, a remux
    // restart) starts its numbering and media time over, and must be a new generation.
    const continues = this.#lastSeq < 0 || (chunk.seq > this.#lastSeq && chunk.dts >= this.#lastDts);
    if (p.generation === undefined && this.#init && this.state === 'live' && continues && p.init.bytes.equals(this.#init)) {
      this.#pending = null;
      this.counters.initsIgnored++;
      return true;
    }
    if (!chunk.keyframe) return false;
    this.#pending = null;
    this.#sendInit(p.init, p.generation);
    return true;
  }

  /** A new generation: everyone gets its info and init, then waits for its first keyframe. */
  #sendInit(init: InitSegment, generation: number | undefined): void {
    this.generation = generation ?? this.generation + 1;
    this.#info = { type: 'info', stream: this.name, generation: this.generation, mime: init.mime, codecs: init.codecs, tracks: init.tracks };
    this.#init = init.bytes;
    this.#gop.reset();
    this.#lastSeq = -1;
    this.#lastDts = -Infinity;
    this.#sent.reset();
    this.#jitter.reset();
    this.#log.info({ generation: this.generation, mime: init.mime }, 'init segment');
    this.#tap?.init(this.name, this.generation, init);
    const infoText = JSON.stringify(this.#info);
    for (const v of this.#viewers) {
      v.cork(() => {
        this.#delivery.toWaiting(v);
        v.send(infoText, false);
        v.send(init.bytes, true);
      });
    }
    this.setState('live');
  }

  /**
   * Whether the stream counts against limits.maxStreams: a publisher (an init, live, failing),
   * or one that left less than RECENT_MEDIA_MS ago. Names viewers merely wait on do not.
   */
  isLive(now: number): boolean {
    return this.state !== 'offline' || this.#pending !== null || (this.#leftAt > 0 && now - this.#leftAt < RECENT_MEDIA_MS);
  }

  /** Publisher gone, back, or failed. Viewers stay connected and are told. */
  setState(state: StreamState, code?: string, message?: string): void {
    if (this.#closed) return;
    if (state === this.state && code === this.#stateCode) return;
    if (state === 'offline') {
      if (this.state !== 'offline') this.#leftAt = Date.now();
      this.#pending = null;
    }
    this.state = state;
    this.#stateCode = code;
    this.#stateMessage = message;
    if (state !== 'live') this.#gop.reset();
    this.#log.info({ state, code }, 'stream state');
    this.#tap?.state(this.name, state);
    const text = JSON.stringify(stateMessage(this.name, this.state, this.#stateCode, this.#stateMessage));
    for (const v of this.#viewers) v.cork(() => v.send(text, false));
  }

  /** Called inside uWS's open handler (already corked): control messages and init now, media just after. */
  addViewer(v: Viewer): void {
    const d = v.getUserData();
    this.#viewers.add(v);
    // Admitted as waiting, but a publisher came between the upgrade and now.
    if (d.releaseWait && this.isLive(Date.now())) endWait(d);
    const now = Date.now();
    this.#send(v, helloMessage(this.name, this.service, this.#jitter.value(now), now, this.#ackMs));
    if (this.#info && this.#init) {
      this.#send(v, this.#info);
      v.send(this.#init, true);
    }
    this.#send(v, stateMessage(this.name, this.state, this.#stateCode, this.#stateMessage));
    if (this.#gop.items.length) {
      d.state = 'live';
      // The cached GOP goes out after the open handler returns: inside it the socket is
      // corked, and corked big messages take uWS's copy path (see the top of this file).
      setImmediate(() => this.#sendJoinBurst(v));
    } else {
      d.state = 'waiting';
      this.#delivery.waiting.add(v);
    }
  }

  #sendJoinBurst(v: Viewer): void {
    const d = v.getUserData();
    if (d.closed || this.#closed || d.state !== 'live' || this.#delivery.live.has(v)) return;
    // A keyframe may have come since open, or the cache overflowed: send what is cached now.
    // The burst is its due: acks are measured from the live edge it joined at.
    if (this.#gop.items.length) return void this.#delivery.sendGop(v, this.#lastDts);
    d.state = 'waiting';
    this.#delivery.waiting.add(v);
  }

  /** An ack from a viewer (relay.ts validated its fields); false when it refers to nothing held. */
  onAck(v: Viewer, generation: number, seq: number, now: number): boolean {
    const d = v.getUserData();
    if (d.closed || this.#closed) return false;
    return d.flow.onAck(generation, seq, this.generation, this.#sent, now);
  }

  /** The viewer's path as its acks tell it (the ABR rule reads this; relay/flow.ts). */
  flow(v: Viewer): FlowEstimate {
    const d = v.getUserData();
    d.flow.update(this.#sent, this.generation);
    return d.flow;
  }

  removeViewer(v: Viewer): void {
    this.#viewers.delete(v);
    this.#delivery.remove(v);
    this.#leaving.delete(v);
  }

  /** The viewer leaves this stream at its next keyframe, before that is sent; `then` gets the keyframe's decode time (s). */
  leaveAtKeyframe(v: Viewer, then: (dts: number) => void): void { this.#leaving.set(v, then); }

  #leave(dts: number): void {
    const leaving = [...this.#leaving];
    for (const [v, then] of leaving) { this.removeViewer(v); then(dts); }
  }

  /**
   * A viewer switched here from another rendition of its stream (same generation, same decode
   * times), whose media it got up to the keyframe at `dts` (s): this rendition's info and init,
   * then its media from that keyframe (the cached GOP, if it starts there or later) or its next.
   */
  switchIn(v: Viewer, dts: number): void {
    const d = v.getUserData();
    if (d.closed || this.#closed) return;
    this.#viewers.add(v);
    d.feed = this.name;
    d.skipFromChunk = -1;
    // Acks now name this stream's chunks: the old numbering says nothing here.
    d.flow = new ViewerFlow();
    if (this.#info && this.#init) v.cork(() => { this.#send(v, this.#info!); v.send(this.#init!, true); });
    if (this.#gop.items.length && this.#gopDts >= dts - 0.001) return void this.#delivery.sendGop(v, this.#lastDts);
    d.state = 'waiting';
    this.#delivery.waiting.add(v);
  }

  /**
   * Reads each viewer's send buffer and applies the drop policy, and gives up on viewers that
   * waited past their waitUntil for a name that never went live. Runs on a timer.
   */
  sweep(now: number = Date.now()): void {
    let expired: Viewer[] | null = null;
    for (const v of this.#viewers) {
      const d = v.getUserData();
      if (d.releaseWait && d.waitUntil > 0 && now >= d.waitUntil) (expired ??= []).push(v);
      this.#delivery.sweep(v, this.generation, now, this.#lastDts);
    }
    // After the loop: ending a socket runs the relay's close handler, which removes the viewer.
    if (expired) for (const v of expired) giveUp(v, this.name);
  }


  #send(v: Viewer, m: ServerMessage): void {
    v.send(JSON.stringify(m), false);
  }

  /** Forgets media and closes every viewer's socket (1001: going away). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tap?.closed(this.name);
    this.#gop.reset();
    this.#init = null;
    this.#pending = null;
    const viewers = [...this.#viewers];
    this.#viewers.clear();
    for (const v of viewers) if (!v.getUserData().closed) v.end(1001, 'stream closed');
    this.#delivery.clear();
    this.#leaving.clear();
  }
}
