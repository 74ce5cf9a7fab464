// The ingest side of a cluster: a SinkProvider that feeds the local relay first (its viewers
// never depend on NATS) and then publishes every init, chunk and state change on the stream's
// subject, keeps the init and state in the KV bucket for edges that start later, and answers
// an edge's snapshot request with init, state and the cached GOP so its first viewer starts at
// a keyframe at once.
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from '../util/log.js';
import type { MediaSink, SinkProvider } from '../media/sink.js';
import type { Chunk, InitSegment } from '../media/types.js';
import { GopCache } from '../media/gop-cache.js';
import { wallMs, type NatsLink } from './link.js';
import type { Names } from './subjects.js';
import { encodeChunk, encodeEnd, encodeInit, encodeState, type StateBody } from './wire.js';

export interface OriginCounters {
  /** Frames and bytes published on stream subjects. */
  frames: number;
  bytes: number;
  /** Frames not published because NATS was down (local viewers still got them). */
  unpublished: number;
  /** Frames over the server's max_payload, never published. */
  oversize: number;
  /** Snapshot requests answered. */
  snapshots: number;
}

interface OriginStream {
  generation: number;
  seq: number;
  init: Buffer | null;
  codecs: string | undefined;
  state: StateBody;
  gop: GopCache<Buffer>;
  snapSub: Subscription | null;
  /** The connection snapSub belongs to: nats.js carries subscriptions over a reconnect, not over a new connection. */
  snapNc: NatsConnection | null;
}

export class ClusterOrigin implements SinkProvider {
  readonly counters: OriginCounters = { frames: 0, bytes: 0, unpublished: 0, oversize: 0, snapshots: 0 };
  #local: SinkProvider;
  #link: NatsLink;
  #names: Names;
  #log: Logger;
  #maxGopBytes: number;
  #streams = new Map<string, OriginStream>();
  #kvChain = new Map<string, Promise<void>>();
  #offUp: () => void;
  #closed = false;

  constructor(local: SinkProvider, link: NatsLink, names: Names, maxGopBytes: number, log: Logger) {
    this.#local = local;
    this.#link = link;
    this.#names = names;
    this.#maxGopBytes = maxGopBytes;
    this.#log = log;
    // A (re)connected or restarted server: answer snapshots again and rewrite the KV state.
    this.#offUp = link.on('up', () => {
      for (const [name, s] of this.#streams) {
        if (s.init) this.#serveSnapshots(name, s);
        void this.#putKv(name, s);
      }
    });
  }

  sink(name: string): MediaSink {
    const local = this.#local.sink(name);
    return {
      // The local relay takes the origin's numbering, so every node shows a stream's generation alike.
      init: (i) => local.init(i, this.#onInit(name, i)),
      chunk: (c) => {
        local.chunk(c);
        this.#onChunk(name, c);
      },
      failure: (code, message) => {
        local.failure(code, message);
        this.#onState(name, { state: 'error', code, message });
      },
      offline: (reason) => {
        local.offline(reason);
        this.#onState(name, { state: 'offline', code: reason });
      },
    };
  }

  #stream(name: string): OriginStream {
    let s = this.#streams.get(name);
    if (!s) {
      s = { generation: 0, seq: 0, init: null, codecs: undefined, state: { state: 'offline' }, gop: new GopCache(this.#maxGopBytes), snapSub: null, snapNc: null };
      this.#streams.set(name, s);
    }
    return s;
  }

  /** Publishes a new init; returns the stream's new generation. */
  #onInit(name: string, i: InitSegment): number | undefined {
    if (this.#closed) return undefined;
    const s = this.#stream(name);
    s.generation++;
    s.seq = 0;
    s.gop.reset();
    s.init = encodeInit(i, s.generation, 0, wallMs());
    s.codecs = i.codecs;
    s.state = { state: 'live', codecs: i.codecs };
    this.#publish(name, s.init);
    this.#serveSnapshots(name, s);
    void this.#putKv(name, s);
    return s.generation;
  }

  #onChunk(name: string, c: Chunk): void {
    const s = this.#streams.get(name);
    if (this.#closed || !s?.init) return;
    s.seq++;
    const frame = encodeChunk(c, s.generation, s.seq, wallMs());
    s.gop.push(frame, frame.length, c.keyframe);
    this.#publish(name, frame);
  }

  #onState(name: string, state: StateBody): void {
    if (this.#closed) return;
    const s = this.#stream(name);
    s.state = s.codecs && state.state !== 'offline' ? { ...state, codecs: s.codecs } : state;
    s.gop.reset();
    this.#publish(name, encodeState(s.state, s.generation, s.seq, wallMs()));
    void this.#putKv(name, s);
    if (state.state === 'offline') {
      // Nothing to snapshot until the next publisher; edges learn it from the frame and the KV.
      // Forgotten, like the relay forgets an offline stream, so names can't pile up.
      s.init = null;
      s.snapSub?.unsubscribe();
      s.snapSub = null;
      this.#streams.delete(name);
    }
  }

  #publish(name: string, frame: Buffer): void {
    const nc = this.#link.nc;
    if (!nc) {
      this.counters.unpublished++;
      return;
    }
    if (frame.length > this.#link.maxPayload) {
      if (this.counters.oversize++ === 0) {
        this.#log.error({ stream: name, bytes: frame.length, maxPayload: this.#link.maxPayload }, 'chunk larger than the NATS server\'s max_payload; raise max_payload in nats-server.conf');
      }
      return;
    }
    try {
      nc.publish(this.#names.stream(name), frame);
      this.counters.frames++;
      this.counters.bytes += frame.length;
    } catch (err) {
      this.counters.unpublished++;
      this.#log.debug({ err: String(err) }, 'NATS publish failed');
    }
  }

  /** Subscribes to the stream's snapshot subject (once per connection) while it has an init. */
  #serveSnapshots(name: string, s: OriginStream): void {
    const nc = this.#link.nc;
    if (!nc || (s.snapSub && s.snapNc === nc && !s.snapSub.isClosed())) return;
    s.snapNc = nc;
    s.snapSub = nc.subscribe(this.#names.snapshot(name), { callback: (err, msg) => { if (!err) this.#answer(name, msg); } });
  }

  /** Init, state, the cached GOP and an end marker, in order, to the requester's inbox. */
  #answer(name: string, msg: Msg): void {
    const s = this.#streams.get(name);
    const nc = this.#link.nc;
    if (!s?.init || !msg.reply || !nc) return;
    const now = wallMs();
    try {
      nc.publish(msg.reply, s.init);
      nc.publish(msg.reply, encodeState(s.state, s.generation, s.seq, now));
      for (const f of s.gop.items) nc.publish(msg.reply, f);
      nc.publish(msg.reply, encodeEnd(s.generation, s.seq, now));
      this.counters.snapshots++;
    } catch (err) {
      this.#log.debug({ err: String(err) }, 'NATS snapshot reply failed');
    }
  }

  /**
   * Writes the stream's KV entries as they are now. Writes for one stream are chained, so a
   * quick unpublish/republish can't land out of order (a delete after the new put).
   */
  #putKv(name: string, s: OriginStream): Promise<void> {
    const offline = s.state.state === 'offline';
    const state = encodeState(s.state, s.generation, s.seq, wallMs());
    const init = s.init;
    const write = async (): Promise<void> => {
      try {
        const kv = await this.#link.kv();
        if (!kv) return;
        // An offline stream leaves the bucket: a missing key means offline, and names don't pile up.
        if (offline) {
          await kv.delete(this.#names.stateKey(name));
          await kv.delete(this.#names.initKey(name));
          return;
        }
        await kv.put(this.#names.stateKey(name), state);
        if (init) await kv.put(this.#names.initKey(name), init);
      } catch (err) {
        this.#log.debug({ stream: name, err: String(err) }, 'NATS KV write failed; rewritten on reconnect');
      }
    };
    const next = (this.#kvChain.get(name) ?? Promise.resolve()).then(write);
    this.#kvChain.set(name, next);
    void next.then(() => { if (this.#kvChain.get(name) === next) this.#kvChain.delete(name); });
    return next;
  }

  /** Marks every stream offline in the KV (best effort) and stops answering. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#offUp();
    const writes: Array<Promise<void>> = [];
    for (const [name, s] of this.#streams) {
      s.state = { state: 'offline', code: 'SERVER_SHUTDOWN' };
      s.init = null;
      this.#publish(name, encodeState(s.state, s.generation, s.seq, wallMs()));
      writes.push(this.#putKv(name, s));
      s.snapSub?.unsubscribe();
    }
    this.#streams.clear();
    await Promise.all(writes);
  }
}
