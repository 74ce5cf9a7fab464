// One typed config: a commented defaults object, validated merging, errors that name the key.
// Precedence: flags (overrides) > env (NOWCAST_…) > config file (--config / NOWCAST_CONFIG, JSON) > defaults.
import { readFileSync } from 'node:fs';
import type { ServiceDescription } from '../protocol/messages.js';
import { ConfigError, validate } from './config-validate.js';

export { ConfigError, ROLES } from './config-validate.js';

export interface SrtListener {
  /** UDP port FFmpeg's libsrt listens on. */
  port: number;
  /** Stream name the publisher on this port becomes. */
  stream: string;
  /** SRT passphrase (10–79 chars) callers must know; overrides srt.passphrase for this port. */
  passphrase?: string;
}

/** What players of a stream are told to hold: the protocol's ServiceDescription. */
export type LatencyService = ServiceDescription;

export interface Config {
  /** Address every listener binds to. */
  host: string;
  http: {
    /** HTTP + WebSocket port (pages, /live/NAME). */
    port: number;
  };
  rtmp: {
    /** RTMP ingest port; 0 disables RTMP. */
    port: number;
    /** RTMP application name publishers use: rtmp://HOST/APP with stream key NAME. */
    app: string;
    /** RTMPS port, served when tls.cert and tls.key are set; 0 disables it. */
    tlsPort: number;
    /** Handshake, connect and publish must be done within this many ms of the TCP accept, or the
     *  connection is closed (ingest/rtmp/server.ts). */
    handshakeTimeoutMs: number;
    /** An admitted publisher that sends nothing for this long is closed. */
    idleTimeoutMs: number;
    /** RTMP connections at once, over all addresses (RTMPS included). */
    maxConnections: number;
    /** RTMP connections at once from one address (loopback exempt unless limits.limitLoopback). */
    maxConnectionsPerIp: number;
    /** Memory a connection may hold before its publish is admitted: handshake and command bytes. */
    preAdmitBytes: number;
    /** Largest chunk size a peer may set (Set Chunk Size); OBS and FFmpeg use 4096. */
    maxChunkSize: number;
    /** Largest command or data message (AMF0), before and after admission. */
    maxCommandBytes: number;
    /** Largest media message (one FLV tag) from an admitted publisher; at most remux.maxBoxBytes. */
    maxMessageBytes: number;
    /** After a publisher leaves, its name is held this long for a publisher with the same
     *  credentials (a reconnect resumes the stream); others are refused. 0 frees it at once. */
    reconnectGraceMs: number;
    /** Sequence-header changes (new init segments) allowed per publisher in 10 s; past it the
     *  publisher is closed (RTMP_HEADER_STORM). Identical headers are ignored and not counted. */
    maxHeaderChangesPer10s: number;
  };
  ops: {
    /** Address of the operations listener (/metrics, /api/streams, /dashboard, /livez, /readyz). */
    host: string;
    /** Its port; 0 picks a free port. */
    port: number;
    /** Bearer token the operations listener requires (Authorization: Bearer …); '' requires none.
     *  Required when ops.host is not a loopback address. */
    token: string;
  };
  srt: {
    /** One FFmpeg libsrt listener per entry: FFmpeg accepts one publisher per port. */
    listeners: SrtListener[];
    /** SRT receive latency in ms (libsrt `latency`), the jitter buffer SRT adds. */
    latencyMs: number;
    /** MPEG-TS packs AAC into PES packets of ~0.25 s, so probing needs longer than for RTMP. */
    analyzeDurationUs: number;
    probeSizeBytes: number;
    /** Passphrase (10–79 chars) every SRT listener requires; '' accepts any caller. Also encrypts. */
    passphrase: string;
  };
  remux: {
    /** FFmpeg binary. */
    ffmpegPath: string;
    /** FFmpeg's fragment duration in µs (SRT, muxer 'ffmpeg'): just under one frame interval at 30 fps,
     *  so each chunk is one video frame with its audio. 33333 put two frames in 28% of chunks (RTMP
     *  timestamps are whole ms). */
    fragmentUs: number;
    /** FFmpeg pull's probe bound in µs (muxer 'ffmpeg'), so the first chunk leaves FFmpeg fast (unbounded takes seconds). */
    analyzeDurationUs: number;
    /** Probe bound in bytes. */
    probeSizeBytes: number;
    /** First restart delay after FFmpeg dies unexpectedly or the in-process remux meets unusable media; doubles up to maxRestartDelayMs. */
    restartDelayMs: number;
    maxRestartDelayMs: number;
    /** Upper bound on any box from FFmpeg and on a whole chunk (prefix boxes + moof + mdat). */
    maxBoxBytes: number;
    /** Upper bound on the init segment (ftyp+moov). */
    maxInitBytes: number;
    /**
     * Who writes the fMP4 of RTMP publishers: 'nowcast' (ingest/flv, in process, from the RTMP
     * server's FLV tags: each frame's chunk as soon as its audio is in) or 'ffmpeg' (FFmpeg reading
     * the publish as FLV on stdin; its mp4 muxer holds every frame one frame interval for the
     * packet after it, bench:ingest). SRT always uses FFmpeg.
     */
    muxer: string;
    /**
     * Muxer 'nowcast': the longest a frame waits for the audio that covers it, so a frame and its
     * audio leave as one chunk (about one chunk per frame) instead of one chunk per packet. 0 writes
     * every packet as it arrives.
     */
    chunkWaitMs: number;
  };
  relay: {
    /** uWS hard cap per socket; past it uWS would drop silently, so we close instead. */
    maxBackpressureBytes: number;
    /** A viewer whose send buffer exceeds this skips to the next keyframe. */
    slowViewerBytes: number;
    /** A skipping viewer resumes (at a keyframe) once its buffer drains below this. */
    resumeBytes: number;
    /** Cap on the cached chunks since the last keyframe (what a new viewer starts from). */
    maxGopCacheBytes: number;
    /** How often the slow-viewer sweep runs, in ms. */
    sweepIntervalMs: number;
    /** Largest message a viewer may send. */
    maxViewerMessageBytes: number;
    /** Close viewers idle this long (uWS idleTimeout, seconds; pings keep players alive). */
    idleTimeoutS: number;
    /**
     * Nice value (0–19) for the process's threads other than the event loop (V8's GC and
     * compiler workers, libuv's pool): 19 keeps them from preempting fan-out on a relay
     * confined to one CPU (util/threads.ts). 0 leaves them alone.
     */
    helperThreadsNice: number;
  };
  latency: {
    /** Announced to every player in `hello`; the page or player options may override it. */
    default: LatencyService;
    /** Per-stream overrides, e.g. [{"stream":"auction","targetMs":300,"pinned":true}]. */
    streams: Array<Partial<LatencyService> & { stream: string }>;
  };
  demo: {
    /** Publish a synthetic test source as stream `demo` over RTMP. */
    enabled: boolean;
    stream: string;
    width: number;
    height: number;
    fps: number;
  };
  log: {
    /** pino level (util/log.ts): fatal, error, warn, info, debug, trace or silent. */
    level: string;
    /** json (one JSON object a line), pretty (pino-pretty), or auto: pretty only when stdout is a TTY. */
    format: string;
  };
  metrics: {
    /** Serve /metrics (Prometheus) and /dashboard (ops/metrics.ts, ops/dashboard.ts). */
    enabled: boolean;
    /** The first N streams that publish get their own `stream` label; later ones share `_other`. */
    maxStreamLabels: number;
    /** Also export prom-client's process_* and nodejs_* metrics (CPU, memory, event loop lag, GC). */
    processMetrics: boolean;
  };
  security: {
    /** HMAC secret for signed publish/view tokens (admission/auth.ts); '' disables tokens. */
    secret: string;
    /** Fixed publish keys: [{"stream":"cam1","key":"…"}]; RTMP stream key `cam1?token=…`. */
    publishKeys: Array<{ stream: string; key: string }>;
    /** Every RTMP publisher needs a fixed key or a signed publish token (else only listed streams). */
    requirePublishAuth: boolean;
    /** Viewers need a signed view token for the stream: /live/NAME?token=… */
    requireViewerToken: boolean;
    /** Allowed WebSocket Origin headers, e.g. ["https://shop.example"]; [] allows any. */
    allowedOrigins: string[];
    /** Let anyone publish from any address without a key (logged loudly). Off: a publisher from
     *  outside loopback needs a publish key or token (PUBLISH_AUTH_REQUIRED), and SRT listeners
     *  without a passphrase bind to loopback only. */
    open: boolean;
    /** Reverse proxies whose X-Forwarded-For / Forwarded headers name the real client address
     *  (exact addresses, e.g. ["127.0.0.1"]); [] believes none. */
    trustedProxies: string[];
  };
  limits: {
    /** Most streams at once (publishing, or with viewers waiting). */
    maxStreams: number;
    maxViewersPerStream: number;
    maxViewersPerIp: number;
    /** WebSocket upgrades per second from one address (burst: twice this). */
    upgradesPerSecondPerIp: number;
    /** Apply per-address limits to loopback too; off so local benchmarks aren't refused. */
    limitLoopback: boolean;
    /** Viewers waiting for a name that is not live, over all names; they do not count in maxStreams. */
    maxWaitingViewers: number;
    /** Waiting viewers from one address (behind carrier NAT many real viewers share one). */
    maxWaitingViewersPerIp: number;
    /** A viewer still waiting for a name that never went live after this long is closed (STREAM_NOT_LIVE). */
    maxWaitMs: number;
  };
  tls: {
    /** PEM certificate and key files: HTTPS/WSS on http.port, and RTMPS on rtmp.tlsPort. */
    cert: string;
    key: string;
  };
  cluster: {
    /** 'all-in-one': one node, no NATS. 'ingest-only': takes publishers, serves its own viewers
     *  and publishes every stream to NATS. 'edge-only': no RTMP/SRT; serves viewers with streams
     *  fetched from NATS while it has viewers for them. See docs/scaling.md. */
    role: string;
    /** NATS server URLs (ingest-only and edge-only). */
    natsServers: string[];
    /** Subject prefix and KV bucket name (`PREFIX_streams`): clusters can share one NATS. */
    prefix: string;
    /** An edge keeps a stream subscribed this long after its last viewer leaves, so a viewer
     *  who reloads the page finds it warm. */
    lingerMs: number;
    /** An edge waits this long for the origin's snapshot (init + cached GOP) before falling back
     *  to the KV and the next keyframe. */
    snapshotTimeoutMs: number;
    /** Delay between NATS connection attempts. */
    retryMs: number;
  };
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
  ops: { host: '127.0.0.1', port: 9997, token: '' },
  srt: { listeners: [{ port: 9000, stream: 'srt' }], latencyMs: 120, analyzeDurationUs: 500_000, probeSizeBytes: 512 * 1024, passphrase: '' },
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
    maxGopCacheBytes: 2 * 1024 * 1024,
    sweepIntervalMs: 50,
    maxViewerMessageBytes: 16 * 1024,
    idleTimeoutS: 60,
    // Off: by default the relay is not confined to one CPU, and then the helpers have another.
    helperThreadsNice: 0,
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
  },
  tls: { cert: '', key: '' },
  cluster: { role: 'all-in-one', natsServers: ['nats://127.0.0.1:4222'], prefix: 'nowcast', lingerMs: 5_000, snapshotTimeoutMs: 1_000, retryMs: 250 },
  // Under Kubernetes' default 30 s grace period, with time left for the load balancer to notice /readyz.
  shutdown: { drainMs: 10_000 },
};

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep-merges `patch` onto `base`, rejecting unknown keys and values of the wrong type. */
function mergeInto(base: Plain, patch: Plain, path: string, source?: string): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const key = path ? `${path}.${k}` : k;
    if (!Object.hasOwn(base, k)) throw new ConfigError(key, 'unknown key', source);
    const cur = base[k];
    if (isPlain(cur)) {
      if (!isPlain(v)) throw new ConfigError(key, 'expected an object', source);
      out[k] = mergeInto(cur, v, key, source);
    } else if (Array.isArray(cur)) {
      if (!Array.isArray(v)) throw new ConfigError(key, 'expected an array', source);
      out[k] = v;
    } else {
      if (typeof v !== typeof cur) throw new ConfigError(key, `expected a ${typeof cur}, got ${JSON.stringify(v)}`, source);
      out[k] = v;
    }
  }
  return out;
}

/** The env var for a key path: `relay.slowViewerBytes` → `NOWCAST_RELAY_SLOW_VIEWER_BYTES`. */
export function envName(key: string): string {
  return 'NOWCAST_' + key.split('.').map((p) => p.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()).join('_');
}

/** Every leaf key with its default, in declaration order (for --help and the README). */
export function leafKeys(node: Plain = defaults as unknown as Plain, path: string[] = []): Array<[key: string, value: unknown]> {
  return Object.entries(node).flatMap(([k, v]) => (isPlain(v) ? leafKeys(v, [...path, k]) : [[[...path, k].join('.'), v] as [string, unknown]]));
}

/** Parses a text value (env var, `--set`) by the type of the key's default. `what` names its origin. */
function parseText(key: string, sample: unknown, raw: string, what: string): unknown {
  if (typeof sample === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(key, `${what} is not a number`);
    return n;
  }
  if (typeof sample === 'boolean') {
    if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(key, `${what} is not a boolean`);
    return raw === 'true' || raw === '1';
  }
  if (Array.isArray(sample)) {
    try { return JSON.parse(raw) as unknown; } catch { throw new ConfigError(key, `${what} is not valid JSON`); }
  }
  return raw;
}

/** Builds the nested patch `{a: {b: value}}` for key `a.b`. */
function patchFor(key: string, value: unknown): Plain {
  return key.split('.').reduceRight<unknown>((acc, k) => ({ [k]: acc }), value) as Plain;
}

/** Deep-merges plain patches (later wins); arrays and scalars replace. */
export function combine(...patches: Plain[]): Plain {
  const out: Plain = {};
  for (const p of patches) {
    for (const [k, v] of Object.entries(p)) {
      const cur = out[k];
      out[k] = isPlain(cur) && isPlain(v) ? combine(cur, v) : v;
    }
  }
  return out;
}

/** Reads NOWCAST_HTTP_PORT-style env vars for scalar keys (JSON for arrays). */
export function envOverrides(env: NodeJS.ProcessEnv, base: Config = defaults): Plain {
  const patches: Plain[] = [];
  for (const [key, sample] of leafKeys(base as unknown as Plain)) {
    const name = envName(key);
    const raw = env[name];
    if (raw !== undefined) patches.push(patchFor(key, parseText(key, sample, raw, `${name}=${raw}`)));
  }
  return combine(...patches);
}

/** `--set KEY=VALUE` pairs into a patch; VALUE is read like the key's env var. */
export function setOverrides(pairs: string[]): Plain {
  const known = new Map(leafKeys());
  return combine(...pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(pair, 'expected --set KEY=VALUE');
    const key = pair.slice(0, eq);
    if (!known.has(key)) throw new ConfigError(key, 'unknown key (--set)');
    return patchFor(key, parseText(key, known.get(key), pair.slice(eq + 1), `--set ${pair}`));
  }));
}

/** Reads a JSON config file: an object shaped like the defaults, any subset of keys. */
export function readConfigFile(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('file', `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('file', `${path} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isPlain(parsed)) throw new ConfigError('file', `${path} must hold a JSON object`);
  const { $schema: _schema, ...rest } = parsed;
  return rest;
}

/** The service description for one stream: the default with that stream's override on top. */
export function latencyServiceFor(c: Config, stream: string): LatencyService {
  const o = c.latency.streams.find((s) => s.stream === stream);
  if (!o) return c.latency.default;
  const { stream: _name, ...rest } = o;
  return { ...c.latency.default, ...rest };
}

/**
 * Defaults < file < env < overrides (flags), validated. The file is `file`, else
 * NOWCAST_CONFIG from `env`, else none. A bad value in the file names its key and the file.
 */
export function loadConfig(overrides: Plain = {}, env: NodeJS.ProcessEnv = process.env, file?: string): Config {
  const path = file ?? (env.NOWCAST_CONFIG || undefined);
  let c = defaults as unknown as Plain;
  if (path) {
    c = mergeInto(c, readConfigFile(path), '', path);
    // Validate what the file alone gives, so a bad value there is blamed on the file.
    try { validate(c as unknown as Config); } catch (err) {
      if (err instanceof ConfigError && !err.source) throw new ConfigError(err.key, err.message.replace(/^config [^:]+: /, ''), path);
      throw err;
    }
  }
  c = mergeInto(c, envOverrides(env), '');
  return validate(mergeInto(c, overrides, '') as unknown as Config);
}
