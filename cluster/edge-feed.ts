// One stream on an edge: the NATS plumbing around a Sequencer. sync() subscribes to the live
// subject first, then asks the origin for a snapshot on a private inbox (NATS keeps one
// connection's messages in order, so the subscription is in place before the origin answers);
// if no snapshot comes in time it falls back to the init and state in the KV bucket.
import { createInbox, type Msg, type Subscription } from 'nats';
import type { Logger } from '../util/log.js';
import type { MediaSink } from '../media/sink.js';
import type { NatsLink } from './link.js';
import type { Names } from './subjects.js';
import { Sequencer, type SequencerCounters } from './sequencer.js';
import { decode, type Frame } from './wire.js';

/** An edge's totals over all its streams; gaps and ignored frames are the Sequencer's. */
export interface FeedCounters extends SequencerCounters {
  /** Live frames and bytes received. */
  frames: number;
  bytes: number;
  /** Snapshot syncs started (first viewer, and after every NATS loss). */
  syncs: number;
  /** Frames that did not decode. */
  badFrames: number;
  /** Syncs that fell back to the KV because no snapshot came in time. */
  fallbacks: number;
}

const EMPTY = new Uint8Array(0);
/** Least time between two syncs started because live chunks came without an init. */
export const RESYNC_MS = 1000;

export class EdgeFeed {
  readonly seq: Sequencer;
  #name: string;
  #link: NatsLink;
  #names: Names;
  #timeoutMs: number;
  #counters: FeedCounters;
  #onHop: (sentAt: number) => void;
  #log: Logger;
  #live: Subscription | null = null;
  #snap: Subscription | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastSyncAt = 0;
  #closed = false;

  constructor(name: string, sink: MediaSink, link: NatsLink, names: Names, timeoutMs: number,
    counters: FeedCounters, onHop: (sentAt: number) => void, log: Logger) {
    this.#name = name;
    this.seq = new Sequencer(sink, counters);
    this.#link = link;
    this.#names = names;
    this.#timeoutMs = timeoutMs;
    this.#counters = counters;
    this.#onHop = onHop;
    this.#log = log;
  }

  /** (Re)subscribes and fetches a snapshot. Does nothing while NATS is down: `up` calls it again. */
  sync(): void {
    const nc = this.#link.nc;
    if (this.#closed || !nc) return;
    this.#unsubscribe();
    this.#lastSyncAt = Date.now();
    this.#counters.syncs++;
    this.seq.beginSync();
    this.#live = nc.subscribe(this.#names.stream(this.#name), { callback: (err, msg) => { if (!err) this.#onLive(msg); } });
    const inbox = createInbox();
    this.#snap = nc.subscribe(inbox, { callback: (err, msg) => { if (!err) this.#onSnapshot(msg); } });
    nc.publish(this.#names.snapshot(this.#name), EMPTY, { reply: inbox });
    this.#timer = setTimeout(() => void this.#fallback(), this.#timeoutMs);
  }

  /** NATS went down: viewers are told; sync() runs again when it is back. */
  lost(): void {
    if (this.#closed) return;
    this.#clearTimer();
    this.seq.lost('ORIGIN_UNREACHABLE', 'This edge lost its connection to NATS; it resumes when NATS is back');
  }

  #decode(msg: Msg): Frame | null {
    try {
      return decode(msg.data);
    } catch (err) {
      if (this.#counters.badFrames++ === 0) this.#log.warn({ err: String(err), subject: msg.subject }, 'undecodable frame from NATS');
      return null;
    }
  }

  #onLive(msg: Msg): void {
    const f = this.#decode(msg);
    if (!f) return;
    this.#counters.frames++;
    this.#counters.bytes += msg.data.length;
    this.#onHop(f.sentAt);
    this.seq.live(f);
    // Chunks of a live stream, and no init to play them with: the last sync found nothing (the
    // origin or JetStream was not back yet after an outage, say). Sync again, at most once a second.
    if (f.kind === 'chunk' && this.seq.needsInit && !this.seq.syncing && Date.now() - this.#lastSyncAt >= RESYNC_MS) this.sync();
  }

  #onSnapshot(msg: Msg): void {
    if (!this.seq.syncing) return;
    // NATS answers "no responders" (status 503, no payload) when no ingest node has the stream.
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.#clearTimer();
      void this.#fallback();
      return;
    }
    const f = this.#decode(msg);
    if (!f) return;
    if (f.kind !== 'end') {
      this.seq.snapshot(f);
      return;
    }
    this.#finish(f);
  }

  #finish(end?: Frame): void {
    this.#clearTimer();
    this.#snap?.unsubscribe();
    this.#snap = null;
    this.seq.endSync(end);
  }

  /** No snapshot in time (origin gone, or not the owner yet): init and state from the KV. */
  async #fallback(): Promise<void> {
    this.#timer = null;
    if (this.#closed || !this.seq.syncing) return;
    this.#counters.fallbacks++;
    this.#snap?.unsubscribe();
    this.#snap = null;
    try {
      const kv = await this.#link.kv();
      const [init, state] = kv ? await Promise.all([kv.get(this.#names.initKey(this.#name)), kv.get(this.#names.stateKey(this.#name))]) : [null, null];
      if (this.#closed || !this.seq.syncing) return;
      for (const e of [init, state]) if (e?.operation === 'PUT' && e.value.length) this.seq.snapshot(decode(e.value));
    } catch (err) {
      this.#log.debug({ err: String(err) }, 'KV fallback failed; waiting for live frames');
    }
    if (!this.#closed && this.seq.syncing) this.seq.endSync();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #unsubscribe(): void {
    this.#clearTimer();
    for (const s of [this.#live, this.#snap]) {
      try {
        s?.unsubscribe();
      } catch {
        // A subscription of a connection that has closed.
      }
    }
    this.#live = this.#snap = null;
  }

  /** Stops the feed; the local stream goes offline (it has no viewers left). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
  }
}
