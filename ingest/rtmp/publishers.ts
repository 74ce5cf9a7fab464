// The relay's side of RTMP publishing: each admitted publish becomes an RtmpPublisher, an FLV
// feed (feed.ts) that remuxes subscribe to. The sessions themselves run elsewhere (the RTMP
// thread, thread.ts) and reach this only through ids: admission, tag bodies, departure.
import { PublishFeed } from './feed.js';
import { RtmpError, type RtmpErrorCode } from './errors.js';
import type { Admission, PublishRequest } from './session.js';

export interface RtmpPublisher extends PublishRequest {
  /** Disconnects the publisher. */
  close(): void;
  /** The publish as FLV (feed.ts). Returns the unsubscribe. */
  subscribe(onData: (flv: Buffer) => void, cached: boolean): () => void;
}

/** What ingest decides and hears about RTMP publishers. */
export interface RtmpPublisherEvents {
  /** Admission on the publish command: null admits. */
  publish(p: RtmpPublisher): Admission;
  /** An admitted publisher's connection ended: its name is free at once. */
  unpublish(p: RtmpPublisher): void;
}

/** How this side ends a session it holds by id. */
export interface SessionControl {
  close(id: number): void;
  fail(id: number, code: RtmpErrorCode): void;
}

export interface FeedLimits {
  maxMessageBytes: number;
  maxHeaderChangesPer10s: number;
}

export class RtmpPublishers {
  readonly #events: RtmpPublisherEvents;
  readonly #control: SessionControl;
  readonly #limits: FeedLimits;
  readonly #live = new Map<number, { p: RtmpPublisher; feed: PublishFeed }>();

  constructor(events: RtmpPublisherEvents, control: SessionControl, limits: FeedLimits) {
    this.#events = events;
    this.#control = control;
    this.#limits = limits;
  }

  /** Publishers admitted and not gone. */
  get size(): number {
    return this.#live.size;
  }

  publish(id: number, req: PublishRequest): Admission {
    // Built when first needed: a refused publish (an attacker's loop) costs no feed and no cache.
    let feed: PublishFeed | undefined;
    const theFeed = (): PublishFeed => (feed ??= new PublishFeed({
      maxCacheBytes: 4 * this.#limits.maxMessageBytes, maxHeaderChangesPer10s: this.#limits.maxHeaderChangesPer10s,
    }));
    const p: RtmpPublisher = {
      name: req.name, ip: req.ip, key: req.key,
      close: () => this.#control.close(id),
      subscribe: (onData, cached) => theFeed().subscribe(onData, cached),
    };
    const refusal = this.#events.publish(p);
    if (!refusal) this.#live.set(id, { p, feed: theFeed() });
    else feed?.end();
    return refusal;
  }

  /** A tag body of publish `id`; a header storm fails that session alone. */
  media(id: number, type: number, timestamp: number, body: Buffer): void {
    const e = this.#live.get(id);
    if (!e) return; // already failed here; its session's end is on its way
    try {
      e.feed.push(type, timestamp, body);
    } catch (err) {
      this.#end(id);
      this.#control.fail(id, err instanceof RtmpError ? err.code : 'RTMP_BAD_MESSAGE');
    }
  }

  unpublish(id: number): void {
    this.#end(id);
  }

  #end(id: number): void {
    const e = this.#live.get(id);
    if (!e) return;
    this.#live.delete(id);
    e.feed.end();
    this.#events.unpublish(e.p);
  }

  /** Ends every feed (their sessions are closed by whoever holds them). Safe to call twice. */
  close(): void {
    for (const id of [...this.#live.keys()]) this.#end(id);
  }
}
