// Builds the parts and wires them: ingest → relay, and metrics reading both. No logic of its own.
import { fileURLToPath } from 'node:url';
import { latencyServiceFor, type Config } from './config.js';
import type { Logger } from './log.js';
import { Relay } from '../relay/relay.js';
import { Guard } from '../relay/guard.js';
import { Metrics } from '../relay/metrics.js';
import { Ingest } from '../ingest/ingest.js';
import { TestSource } from '../ingest/test-source.js';

export const PLAYER_DIR = fileURLToPath(new URL('../dist/player', import.meta.url));

export class Nowcast {
  readonly relay: Relay;
  readonly ingest: Ingest;
  /** Null when metrics.enabled is false. */
  readonly metrics: Metrics | null;
  #demo: TestSource | null = null;
  #cfg: Config;
  #log: Logger;
  #closed = false;
  #draining: Promise<void> | null = null;
  httpPort = 0;
  rtmpPort = 0;

  constructor(cfg: Config, log: Logger) {
    this.#cfg = cfg;
    this.#log = log;
    // Metrics read relay and ingest lazily, at scrape time, so they can be built first.
    this.metrics = cfg.metrics.enabled
      ? new Metrics({
        streams: () => this.relay.allStreams(),
        publishers: () => this.ingest.publishers(),
        ingest: () => this.ingest.counters,
        relay: () => this.relay,
      }, { maxStreamLabels: cfg.metrics.maxStreamLabels, defaultMetrics: cfg.metrics.processMetrics })
      : null;
    const guard = new Guard({ ...cfg.security, ...cfg.limits });
    this.relay = new Relay(cfg.relay, log.child({ component: 'relay' }), PLAYER_DIR, (name) => latencyServiceFor(cfg, name), {
      ...(this.metrics ? { metrics: this.metrics } : {}),
      extras: (name) => this.#extras(name),
    }, { guard, tls: cfg.tls });
    this.ingest = new Ingest(cfg, this.relay, log, (p) => {
      const r = guard.admitPublisher({ ...p, streams: this.relay.streamCount, streamExists: this.relay.stream(p.stream) !== undefined }, Date.now());
      return r && `${r.code}: ${r.message}`;
    });
  }

  async start(): Promise<this> {
    this.httpPort = await this.relay.listen(this.#cfg.host, this.#cfg.http.port);
    this.rtmpPort = await this.ingest.start();
    this.metrics?.start();
    const d = this.#cfg.demo;
    if (d.enabled && this.rtmpPort) {
      this.#demo = new TestSource(this.#cfg.remux.ffmpegPath, {
        url: `rtmp://127.0.0.1:${this.rtmpPort}/${this.#cfg.rtmp.app}/${d.stream}`,
        width: d.width, height: d.height, fps: d.fps, clockStrip: true,
      }, this.#log.child({ component: 'demo' }));
    }
    return this;
  }

  /** Viewers connected now, over all streams. */
  get viewers(): number {
    let n = 0;
    for (const s of this.relay.allStreams()) n += s.viewerCount;
    return n;
  }

  /**
   * Graceful stop: /readyz turns 503 and new viewers are refused at once; connected viewers keep
   * playing until none is left or `deadlineMs` has passed; then close(). Safe to call twice.
   */
  drain(deadlineMs: number = this.#cfg.shutdown.drainMs): Promise<void> {
    if (this.#draining) return this.#draining;
    this.relay.drain();
    const end = Date.now() + deadlineMs;
    this.#log.info({ deadlineMs, viewers: this.viewers }, 'draining: not ready, refusing new viewers');
    this.#draining = (async () => {
      while (!this.#closed && this.viewers > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      this.#log.info({ viewers: this.viewers, timedOut: this.viewers > 0 }, 'drain finished');
      this.close();
    })();
    return this.#draining;
  }

  /** Stops everything. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.metrics?.close();
    this.#demo?.close();
    this.ingest.close();
    this.relay.close();
  }

  #extras(name: string): Record<string, unknown> {
    const p = this.ingest.publishers().find((x) => x.stream === name);
    return {
      bitrate: Math.round(this.metrics?.bitrate(name) ?? 0),
      publisher: p ? p.protocol : null,
      keyframeIntervalS: p?.keyframeIntervalS ?? null,
      timeToFirstChunkS: p?.firstChunkMs != null ? p.firstChunkMs / 1000 : null,
    };
  }
}
