// The edge side of a cluster: a stream is fetched from NATS while this edge has viewers for it.
// On the first viewer the edge subscribes to the stream's subject, asks the origin for a
// snapshot (init, state, cached GOP) and feeds the local relay from it, so that viewer starts
// at a keyframe at once; live frames that arrived meanwhile follow, without repeats. After
// the last viewer leaves (plus a linger) it unsubscribes. NATS lost: viewers are told, and
// every stream re-syncs when NATS is back.
import type { Logger } from '../util/log.js';
import type { SinkProvider } from '../media/sink.js';
import type { StreamSummary } from '../protocol/api.js';
import { wallMs, type NatsLink } from './link.js';
import { streamOfStateKey, type Names } from './subjects.js';
import { EdgeFeed, type FeedCounters } from './edge-feed.js';
import { decode } from './wire.js';

export interface EdgeOptions {
  /** Keep a stream subscribed this long after its last viewer leaves (ms). */
  lingerMs: number;
  /** Wait this long for the origin's snapshot before falling back to the KV (ms). */
  snapshotTimeoutMs: number;
  /** Every live frame's NATS hop (ms, origin publish → here); the benchmark records them all. */
  onHop?: (ms: number) => void;
}

export class ClusterEdge {
  readonly counters: FeedCounters = { frames: 0, bytes: 0, gaps: 0, ignored: 0, syncs: 0, badFrames: 0, fallbacks: 0 };
  /** NATS hop latency samples (ms, origin publish → edge receipt), a ring for the benchmark and /metrics. */
  readonly hop: Float64Array = new Float64Array(4096);
  hopCount = 0;
  #sinks: SinkProvider;
  #link: NatsLink;
  #names: Names;
  #opts: EdgeOptions;
  #log: Logger;
  #feeds = new Map<string, EdgeFeed>();
  #linger = new Map<string, NodeJS.Timeout>();
  /** Streams the KV says exist, for `/` and /api/streams on an edge. */
  #directory = new Map<string, StreamSummary>();
  #offs: Array<() => void>;
  #watcher: { stop(): void } | null = null;
  #closed = false;

  constructor(sinks: SinkProvider, link: NatsLink, names: Names, opts: EdgeOptions, log: Logger) {
    this.#sinks = sinks;
    this.#link = link;
    this.#names = names;
    this.#opts = opts;
    this.#log = log;
    this.#offs = [
      link.on('down', () => {
        for (const f of this.#feeds.values()) f.lost();
      }),
      link.on('up', () => {
        for (const f of this.#feeds.values()) f.sync();
        void this.#watchDirectory();
      }),
    ];
  }

  /** The relay's viewer count for a stream changed. */
  viewers(name: string, count: number): void {
    if (this.#closed) return;
    const t = this.#linger.get(name);
    if (count > 0) {
      if (t) clearTimeout(t);
      this.#linger.delete(name);
      if (!this.#feeds.has(name)) this.#want(name);
    } else if (this.#feeds.has(name) && !t) {
      this.#linger.set(name, setTimeout(() => {
        this.#linger.delete(name);
        this.#unwant(name);
      }, this.#opts.lingerMs));
    }
  }

  /** Streams subscribed now. */
  get subscribed(): string[] {
    return [...this.#feeds.keys()];
  }

  /** Streams listed by the KV that this edge has no viewers for (it lists its own itself). */
  directory(): StreamSummary[] {
    return [...this.#directory.values()];
  }

  #want(name: string): void {
    const feed = new EdgeFeed(name, this.#sinks.sink(name), this.#link, this.#names, this.#opts.snapshotTimeoutMs, this.counters,
      (sentAt) => this.#noteHop(sentAt), this.#log.child({ stream: name }));
    this.#feeds.set(name, feed);
    feed.sync();
  }

  #unwant(name: string): void {
    const feed = this.#feeds.get(name);
    if (!feed) return;
    this.#feeds.delete(name);
    feed.close();
    // No viewers here any more: the relay forgets the stream.
    this.#sinks.sink(name).offline('EDGE_IDLE');
  }

  #noteHop(sentAt: number): void {
    const ms = wallMs() - sentAt;
    this.hop[this.hopCount++ % this.hop.length] = ms;
    this.#opts.onHop?.(ms);
  }

  /** Follows every stream's state key; started anew on each (re)connection, replacing the last. */
  async #watchDirectory(): Promise<void> {
    this.#watcher?.stop();
    this.#watcher = null;
    const kv = await this.#link.kv();
    if (!kv || this.#closed) return;
    try {
      const w = await kv.watch({ key: this.#names.allStates });
      this.#watcher = w;
      // The watch replays every current key first: start from an empty list.
      this.#directory.clear();
      for await (const e of w) {
        if (this.#closed || this.#watcher !== w) break;
        const name = streamOfStateKey(e.key);
        if (!name) continue;
        if (e.operation !== 'PUT') {
          this.#directory.delete(name);
          continue;
        }
        try {
          const f = decode(e.value);
          if (f.kind !== 'state') continue;
          this.#directory.set(name, { name, state: f.state.state, generation: f.generation, codecs: f.state.codecs ?? null, tracks: [], viewers: 0, chunks: f.seq, bytes: 0, skips: 0 });
        } catch {
          this.counters.badFrames++;
        }
      }
    } catch (err) {
      this.#log.debug({ err: String(err) }, 'KV directory watch ended');
    }
  }

  /** Unsubscribes every stream and tells their viewers the edge is going. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    for (const t of this.#linger.values()) clearTimeout(t);
    this.#linger.clear();
    for (const f of this.#feeds.values()) f.close();
    this.#feeds.clear();
    this.#watcher?.stop();
    this.#watcher = null;
    this.#directory.clear();
  }
}
