// One NATS connection for a node, kept up in the background. The node must work without it
// (an ingest node's local viewers keep playing while NATS is down), so nothing here blocks
// start-up: connecting retries forever until close(), and `up`/`down` say when it changes.
import { connect, Events, type KV, type NatsConnection } from 'nats';
import type { Logger } from '../util/log.js';

export interface LinkOptions {
  /** NATS server URLs, e.g. `nats://127.0.0.1:4222`. */
  servers: string[];
  /** Connection name shown by the NATS server (monitoring, `nats server report connections`). */
  name: string;
  /** KV bucket that holds each stream's init segment and state. */
  bucket: string;
  /** Delay between connection attempts (ms). */
  retryMs: number;
}

type Listener = () => void;

/**
 * Wall clock in ms with sub-ms resolution: stamps frames so the NATS hop can be measured.
 * Not Date.now(): V8's is whole ms and, measured here, its ticks wander by up to 0.85 ms
 * against the monotonic clock. performance.timeOrigin is taken from gettimeofday (µs) at
 * start: processes on one machine agree to ~5 µs (measured against CLOCK_MONOTONIC).
 */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export class NatsLink {
  #opts: LinkOptions;
  #log: Logger;
  #nc: NatsConnection | null = null;
  #connected = false;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;
  #kv: Promise<KV | null> | null = null;
  #up = new Set<Listener>();
  #down = new Set<Listener>();
  /** Times the link went down after being up. */
  losses = 0;

  constructor(opts: LinkOptions, log: Logger) {
    this.#opts = opts;
    this.#log = log;
    void this.#dial();
  }

  /** The connection while it is up; null while connecting or reconnecting. */
  get nc(): NatsConnection | null {
    return this.#connected ? this.#nc : null;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Largest message the server takes (bytes); 1 MiB until connected (the server default). */
  get maxPayload(): number {
    return this.#nc?.info?.max_payload ?? 1024 * 1024;
  }

  /** `up` fires on every (re)connection, `down` on every loss; returns an unsubscribe. */
  on(event: 'up' | 'down', fn: Listener): () => void {
    const set = event === 'up' ? this.#up : this.#down;
    set.add(fn);
    if (event === 'up' && this.#connected) queueMicrotask(() => set.has(fn) && fn());
    return () => set.delete(fn);
  }

  /**
   * The stream-state KV bucket, created if missing; null when the server has no JetStream (the
   * cluster then works without it: edges get init and state from the origin's snapshot only).
   */
  kv(): Promise<KV | null> {
    const nc = this.nc;
    if (!nc) return Promise.resolve(null);
    this.#kv ??= nc.jetstream().views.kv(this.#opts.bucket, { history: 1 }).catch((err: unknown) => {
      this.#log.warn({ err: String(err) }, 'NATS KV unavailable (is JetStream enabled, nats-server -js?); continuing without it');
      this.#kv = null;
      return null;
    });
    return this.#kv;
  }

  async #dial(): Promise<void> {
    while (!this.#closed) {
      try {
        const nc = await connect({
          servers: this.#opts.servers,
          name: this.#opts.name,
          // After the first connection nats.js reconnects by itself, forever.
          maxReconnectAttempts: -1,
          reconnectTimeWait: this.#opts.retryMs,
          reconnectJitter: 50,
          // A dead server (no RST, e.g. a network partition) is noticed within ~4 s.
          pingInterval: 2000,
          maxPingOut: 2,
        });
        if (this.#closed) {
          void nc.close();
          return;
        }
        this.#nc = nc;
        this.#setUp(true);
        void this.#watch(nc);
        void nc.closed().then(() => {
          if (this.#nc === nc) this.#setUp(false);
          if (this.#nc === nc) this.#nc = null;
          if (!this.#closed) this.#schedule();
        });
        return;
      } catch (err) {
        this.#log.debug({ err: String(err) }, 'NATS not reachable yet; retrying');
        await new Promise<void>((r) => { this.#retry = setTimeout(r, this.#opts.retryMs); });
        this.#retry = null;
      }
    }
  }

  #schedule(): void {
    this.#retry = setTimeout(() => { this.#retry = null; void this.#dial(); }, this.#opts.retryMs);
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) this.#setUp(false);
      else if (s.type === Events.Reconnect) this.#setUp(true);
    }
  }

  #setUp(up: boolean): void {
    if (up === this.#connected) return;
    this.#connected = up;
    // A restarted server may have lost the bucket: look it up again.
    this.#kv = null;
    if (up) this.#log.info({ servers: this.#opts.servers }, 'NATS connected');
    else {
      this.losses++;
      this.#log.warn({ servers: this.#opts.servers }, 'NATS connection lost; reconnecting');
    }
    for (const fn of [...(up ? this.#up : this.#down)]) {
      try {
        fn();
      } catch (err) {
        this.#log.error({ err: String(err) }, 'NATS link listener failed');
      }
    }
  }

  /** Closes the connection and stops retrying. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#up.clear();
    this.#down.clear();
    const nc = this.#nc;
    this.#nc = null;
    this.#connected = false;
    if (nc) await nc.close().catch(() => undefined);
  }
}
