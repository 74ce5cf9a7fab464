// Builds the parts and wires them: ingest → relay, and metrics reading both. No logic of its own.
import { fileURLToPath } from 'node:url';
import { latencyServiceFor, type Config } from './config.js';
import type { Logger } from '../util/log.js';
import { Relay } from '../relay/relay.js';
import { niceHelperThreads } from '../util/threads.js';
import { Guard } from '../admission/guard.js';
import { checkPublish } from '../admission/publish.js';
import { Metrics } from '../ops/metrics.js';
import { OpsServer } from '../ops/ops.js';
import { mountHttp, publicListFilter } from '../ops/http.js';
import { Ingest } from '../ingest/ingest.js';
import { TestSource } from '../ingest/test-source.js';
import { NatsLink } from '../cluster/link.js';
import { ClusterOrigin } from '../cluster/origin.js';
import { ClusterEdge } from '../cluster/edge.js';
import { names } from '../cluster/subjects.js';
import { registerClusterMetrics } from '../cluster/metrics.js';
import { hostname } from 'node:os';
import { Hls } from '../hls/server.js';
import { viewAccess } from '../hls/access.js';
import { verifyToken } from '../admission/auth.js';
import { ProtocolErrors } from '../util/protocol-errors.js';
import { AbrLadder } from '../abr/ladder.js';
import { abrPolicy } from '../abr/policy.js';

export const PLAYER_DIR = fileURLToPath(new URL('../dist/player', import.meta.url));

export class Nowcast {
  readonly relay: Relay;
  readonly ingest: Ingest;
  /** LL-HLS of every stream at /hls/NAME/index.m3u8 (hls.enabled). */
  readonly hls: Hls;
  /** The ABR ladder's transcoders (abr.enabled); null when off: nothing of it runs. */
  readonly abr: AbrLadder | null;
  /** Null when metrics.enabled is false. */
  readonly metrics: Metrics | null;
  /** The operations listener: /metrics, /api/streams, /dashboard (ops.host:ops.port). */
  readonly ops: OpsServer;
  #demo: TestSource | null = null;
  /** NATS link, origin and edge: set by cluster.role (none for all-in-one). */
  readonly link: NatsLink | null = null;
  readonly origin: ClusterOrigin | null = null;
  readonly edge: ClusterEdge | null = null;
  #cfg: Config;
  #log: Logger;
  #closed = false;
  #draining: Promise<void> | null = null;
  httpPort = 0;
  rtmpPort = 0;
  /** Port the operations listener bound (ops.port 0 picks one). */
  opsPort = 0;

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
        protocolErrors: () => this.ingest.errors.entries(),
      }, { maxStreamLabels: cfg.metrics.maxStreamLabels, defaultMetrics: cfg.metrics.processMetrics })
      : null;
    const guard = new Guard({ ...cfg.security, ...cfg.limits });
    const metrics = this.metrics;
    // One count of refusals by protocol and code: ingest's (RTMP) and LL-HLS's ('http').
    const errors = new ProtocolErrors();
    this.hls = new Hls({ config: cfg.hls, log: log.child({ component: 'hls' }), errors, access: viewAccess(cfg.security, verifyToken) });
    const r = cfg.remux;
    this.abr = cfg.abr.enabled ? new AbrLadder({
      config: cfg.abr, ffmpegPath: r.ffmpegPath, fragmentUs: r.fragmentUs, maxBoxBytes: r.maxBoxBytes, maxInitBytes: r.maxInitBytes,
      restartDelayMs: r.restartDelayMs, maxRestartDelayMs: r.maxRestartDelayMs,
      // Renditions are relay streams under internal names (abr/ladder.ts renditionStream).
      sinks: { sink: (name) => this.relay.sink(name) }, log: log.child({ component: 'abr' }), next: this.hls,
    }) : null;
    this.relay = new Relay({
      // A ladder's viewers ack at abr.ackIntervalMs (relay/config.ts).
      config: cfg.abr.enabled ? { ...cfg.relay, ackIntervalMs: cfg.abr.ackIntervalMs } : cfg.relay,
      log: log.child({ component: 'relay' }),
      service: (name) => latencyServiceFor(cfg, name),
      observers: {
        ...(metrics ? {
          observeQoe: (stream, r, viewer, counted) => metrics.observeQoe(stream, r, viewer, counted),
          forgetViewer: (stream, viewer) => metrics.forgetViewer(stream, viewer),
        } : {}),
        directory: () => this.edge?.directory() ?? [],
      },
      admission: guard,
      tls: cfg.tls,
      tap: this.abr ?? this.hls,
      ...(this.abr ? { abr: abrPolicy(this.abr) } : {}),
      // The public pages on the relay's port: /hls/NAME/*, then /, /watch/NAME, /streams.json, /player/*, health.
      routes: (app) => {
        this.hls.mount(app);
        mountHttp(app, {
          playerDir: PLAYER_DIR,
          log: log.child({ component: 'http' }),
          streams: () => this.relay.listing(),
          ready: () => this.relay.ready,
          listed: publicListFilter(cfg.security),
        });
      },
    });
    this.ops = new OpsServer({
      log: log.child({ component: 'ops' }),
      token: cfg.ops.token,
      streams: () => this.relay.listing(),
      waitingViewers: () => this.relay.waitingViewers,
      ready: () => this.relay.ready,
      nice: cfg.ops.nice,
      ...(this.metrics ? { metrics: this.metrics } : {}),
      extras: (name) => this.#extras(name),
    });
    const role = cfg.cluster.role;
    if (role !== 'all-in-one') {
      const n = names(cfg.cluster.prefix);
      const clog = log.child({ component: 'cluster', role });
      this.link = new NatsLink({ servers: cfg.cluster.natsServers, name: `nowcast ${role} ${hostname()}:${process.pid}`, bucket: n.bucket, retryMs: cfg.cluster.retryMs }, clog);
      if (role === 'ingest-only') this.origin = new ClusterOrigin(this.relay, this.link, n, cfg.relay.maxGopCacheBytes, clog);
      else {
        const edge = new ClusterEdge(this.relay, this.link, n, cfg.cluster, clog);
        this.edge = edge;
        this.relay.onViewers((name, viewers) => edge.viewers(name, viewers));
      }
      if (this.metrics) registerClusterMetrics(this.metrics.registry, role, this.link, this.origin, this.edge);
    }
    this.ingest = new Ingest({
      host: cfg.host, rtmp: cfg.rtmp, srt: cfg.srt, remux: cfg.remux, tls: cfg.tls,
      limitLoopback: cfg.limits.limitLoopback, maxPublishBitrate: cfg.limits.maxPublishBitrate, open: cfg.security.open,
    }, this.origin ?? this.relay, log, (p) => {
      const now = Date.now();
      const auth = checkPublish(cfg.security, p, now);
      if (auth) return { status: 'Unauthorized', ...auth };
      const r = guard.admitPublisher({ stream: p.stream, streams: this.relay.liveStreamCount, streamExists: this.relay.stream(p.stream)?.isLive(now) === true });
      return r && { status: 'Rejected', code: r.code, message: r.message };
    }, errors);
  }

  async start(): Promise<this> {
    // The RTMP and operations threads take a few hundred ms to load (tsx inside them): in
    // parallel, and before the public port, so that once it answers everything is up (a
    // publisher that starts when /livez answers is never refused). An edge takes no
    // publishers: its streams come from NATS.
    [this.rtmpPort, this.opsPort] = await Promise.all([
      this.edge ? Promise.resolve(0) : this.ingest.start(),
      this.ops.listen(this.#cfg.ops.host, this.#cfg.ops.port),
    ]);
    this.httpPort = await this.relay.listen(this.#cfg.host, this.#cfg.http.port);
    this.ops.pushReady(); // the relay is listening now: ready
    this.metrics?.start();
    // Once up: the helper threads that exist by now are the ones that compete with fan-out.
    // The operations thread keeps its own nice (ops.nice); the RTMP thread carries publishers'
    // media, so it keeps the relay's.
    const nice = this.#cfg.relay.helperThreadsNice;
    if (nice > 0) this.#log.debug({ nice, threads: niceHelperThreads(nice, [this.ops.tid, this.ingest.rtmp?.tid ?? 0]) }, 'helper threads reniced');
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
    this.ops.pushReady();
    const end = Date.now() + deadlineMs;
    this.#log.info({ deadlineMs, viewers: this.viewers }, 'draining: not ready, refusing new viewers');
    this.#draining = (async () => {
      while (!this.#closed && this.viewers > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      this.#log.info({ viewers: this.viewers, timedOut: this.viewers > 0 }, 'drain finished');
      await this.close();
    })();
    return this.#draining;
  }

  /**
   * Stops everything. Safe to call twice. Resolves once the operations thread has ended and NATS
   * has been told (an origin marks its streams offline in the KV, bounded to 1 s) and the
   * connection is closed.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.metrics?.close();
    this.#demo?.close();
    this.ingest.close();
    this.edge?.close();
    this.hls.close();
    void this.abr?.close();
    this.relay.close();
    const ops = this.ops.close();
    const origin = this.origin?.close();
    const bounded = origin ? Promise.race([origin, new Promise<void>((r) => setTimeout(r, 1000).unref())]) : Promise.resolve();
    return Promise.all([bounded, ops]).then(() => this.link?.close());
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
