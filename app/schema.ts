// Every configuration key, in one place: the Config type (each component owns its slice and
// documents its keys there) and the one commented defaults object. app/config.ts loads and
// merges; app/config-validate.ts checks what spans keys; docs/configuration.md is generated
// from both (npm run docs:config, checked by test/app/configuration-doc.test.ts).
import type { ServiceDescription } from '../protocol/messages.js';
import type { RtmpConfig, SrtConfig, RemuxConfig } from '../ingest/config.js';
import type { RelayConfig } from '../relay/config.js';
import type { OpsConfig, MetricsConfig } from '../ops/config.js';
import type { SecurityConfig, LimitsConfig } from '../admission/config.js';
import type { ClusterConfig } from '../cluster/config.js';
import type { LogConfig } from '../util/log.js';
import type { HlsConfig } from '../hls/config.js';
import type { AbrConfig } from '../abr/config.js';

export type { RtmpConfig, SrtConfig, RemuxConfig, RelayConfig, OpsConfig, MetricsConfig, SecurityConfig, LimitsConfig, ClusterConfig, LogConfig, HlsConfig, AbrConfig };
export type { SrtListener } from '../ingest/config.js';

/** What players of a stream are told to hold: the protocol's ServiceDescription. */
export type LatencyService = ServiceDescription;

export interface Config {
  /** Address the public listeners bind to (HTTP + WebSocket, RTMP, SRT); the operations listener has
   *  ops.host. */
  host: string;
  http: {
    /** HTTP + WebSocket port (pages, /live/NAME). */
    port: number;
  };
  rtmp: RtmpConfig;
  ops: OpsConfig;
  srt: SrtConfig;
  remux: RemuxConfig;
  relay: RelayConfig;
  hls: HlsConfig;
  abr: AbrConfig;
  latency: {
    /** Announced to every player in `hello`; the page or player options may override it. */
    default: LatencyService;
    /** Per-stream overrides, e.g. [{"stream":"auction","targetMs":300,"pinned":true}]. */
    streams: Array<Partial<LatencyService> & { stream: string }>;
  };
  demo: {
    /** Publish a synthetic test source (FFmpeg test pattern, tone, burned-in clock) over RTMP (--demo). */
    enabled: boolean;
    /** Its stream name. */
    stream: string;
    /** Its width, px. */
    width: number;
    /** Its height, px. */
    height: number;
    /** Its frame rate; it sends a keyframe every `fps` frames (one a second). */
    fps: number;
  };
  log: LogConfig;
  metrics: MetricsConfig;
  security: SecurityConfig;
  limits: LimitsConfig;
  tls: {
    /** PEM certificate file: with tls.key, HTTPS/WSS on http.port (uWS SSLApp), and RTMPS on rtmp.tlsPort. */
    cert: string;
    /** PEM private key file for tls.cert. */
    key: string;
  };
  cluster: ClusterConfig;
  shutdown: {
    /** On SIGTERM (app/main.ts): /readyz turns 503 and new viewers are refused; connected viewers
     *  keep playing until none is left or this many ms have passed, then everything stops. */
    drainMs: number;
  };
}

export const defaults: Config = {
  host: '0.0.0.0',
  http: { port: 8080 },
  rtmp: {
    port: 1935,
    app: 'live',
    tlsPort: 0,
    // OBS and FFmpeg are through handshake, connect and publish in well under 100 ms on a LAN.
    handshakeTimeoutMs: 5_000,
    idleTimeoutMs: 10_000,
    maxConnections: 256,
    maxConnectionsPerIp: 8,
    // The handshake is 3 KiB and OBS's connect command 0.3 KiB: 64 KiB leaves room for long keys.
    preAdmitBytes: 64 * 1024,
    maxChunkSize: 64 * 1024,
    maxCommandBytes: 8 * 1024,
    // A 4K keyframe at 20 Mbit/s is about 1 MiB.
    maxMessageBytes: 2 * 1024 * 1024,
    reconnectGraceMs: 30_000,
    maxHeaderChangesPer10s: 10,
  },
  // Operations stay on loopback unless moved: they list every stream, token-protected ones too.
  // nice 10: the operations thread gets about a tenth of a CPU the relay's thread wants (CFS
  // weights 110 against 1,024), plenty for /metrics and the 429s of a flood.
  ops: { host: '127.0.0.1', port: 9997, token: '', nice: 10 },
  srt: { listeners: [{ port: 9000, stream: 'srt' }], latencyMs: 120, analyzeDurationUs: 500_000, probeSizeBytes: 512 * 1024, passphrase: '', idleTimeoutMs: 3000, maxCallers: 64, maxCallersPerIp: 8 },
  remux: {
    ffmpegPath: 'ffmpeg',
    fragmentUs: 30_000,
    analyzeDurationUs: 100_000,
    probeSizeBytes: 32_768,
    restartDelayMs: 250,
    maxRestartDelayMs: 5_000,
    // Must fit a viewer's send cap (relay.maxBackpressureBytes - relay.slowViewerBytes), config-validate.ts.
    maxBoxBytes: 2 * 1024 * 1024,
    maxInitBytes: 1024 * 1024,
    muxer: 'nowcast',
    chunkWaitMs: 25,
  },
  relay: {
    maxBackpressureBytes: 4 * 1024 * 1024,
    slowViewerBytes: 512 * 1024,
    resumeBytes: 64 * 1024,
    // About 1 s: a viewer that far behind already stalls; an ack every 200 ms and a sweep every
    // 50 ms put it past the bound within ~0.3 s of falling behind.
    maxInFlightMs: 1000,
    // By what acks cost the relay at 2,000 viewers (bench:network's acks part).
    ackIntervalMs: 500,
    maxGopCacheBytes: 2 * 1024 * 1024,
    sweepIntervalMs: 50,
    maxViewerMessageBytes: 16 * 1024,
    idleTimeoutS: 60,
    // Off: by default the relay is not confined to one CPU, and then the helpers have another.
    helperThreadsNice: 0,
  },
  // Parts of ~200 ms (6 frames at 30 fps), as MediaMTX: hls.js holds PART-HOLD-BACK, 3 parts
  // (~0.6 s), behind the newest, and every part costs a viewer two requests. 6 segments of a 1 s
  // GOP are ~2 MB at 2.5 Mbit/s. Waiters: about two per viewer (a blocked reload, a hinted part).
  hls: { enabled: true, partTargetMs: 200, windowSegments: 6, maxStreamBytes: 32 * 1024 * 1024, maxWaiters: 10_000 },
  // Off: each lower rendition is an x264 process per live stream (CPU per rendition: bench/RESULTS.md).
  // Renditions at or above a source's height are not made, so a 360p source gets 180p only.
  abr: {
    enabled: false,
    ladder: [{ name: '360p', height: 360, videoBitrate: 800_000 }, { name: '180p', height: 180, videoBitrate: 250_000 }],
    // Switching decides on acks: a ladder's viewers ack faster than relay.ackIntervalMs.
    ackIntervalMs: 200,
    streams: [],
  },
  latency: {
    // 130 ms of wall-clock latency at the player (≈ 200 ms glass-to-glass, 0 stalls, bench:glass);
    // 100 ms stalled within seconds. 1.25× drains a 2 s backlog in < 9 s; 1.15× took ~13 s.
    // maxMs: a 2 s outage puts the player at about 2.15 s; at 2000 it jumped, at 3000 the rate
    // drains it in 8.0–8.4 s at ≤ 1.24× (bench:latency).
    default: { targetMs: 130, minMs: 100, maxMs: 3000, minRate: 0.95, maxRate: 1.25, pinned: false },
    streams: [],
  },
  demo: { enabled: false, stream: 'demo', width: 640, height: 360, fps: 30 },
  log: { level: 'info', format: 'auto' },
  // 100 stream labels × ~15 per-stream series stays well inside what one Prometheus scrape likes.
  metrics: { enabled: true, maxStreamLabels: 100, processMetrics: true },
  // Open by default, like `npm start` promises; docs/security.md says what to turn on.
  security: { secret: '', publishKeys: [], requirePublishAuth: false, requireViewerToken: false, allowedOrigins: [], open: false, trustedProxies: [] },
  // Generous: thousands of viewers from 127.0.0.1 in the benchmarks must pass.
  limits: {
    maxStreams: 1_000,
    maxViewersPerStream: 100_000,
    maxViewersPerIp: 200,
    upgradesPerSecondPerIp: 50,
    limitLoopback: false,
    maxWaitingViewers: 2_000,
    maxWaitingViewersPerIp: 50,
    maxWaitMs: 300_000,
    // 4K HEVC contribution is ~50 Mbit/s; the in-process remux reads 3.3 Gbit/s of MPEG-TS a core, so at the
    // cap one publisher costs the relay's thread a few % (bench:ingest's throughput rows).
    maxPublishBitrate: 100_000_000,
  },
  tls: { cert: '', key: '' },
  cluster: { role: 'all-in-one', natsServers: ['nats://127.0.0.1:4222'], prefix: 'nowcast', lingerMs: 5_000, snapshotTimeoutMs: 1_000, retryMs: 250 },
  // Under Kubernetes' default 30 s grace period, with time left for the load balancer to notice /readyz.
  shutdown: { drainMs: 10_000 },
};
