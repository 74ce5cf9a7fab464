// One typed config: a commented defaults object, validated merging, errors that name the key.
// Precedence: overrides (CLI) > env (NOWCAST_…) > defaults.

export interface SrtListener {
  /** UDP port FFmpeg's libsrt listens on. */
  port: number;
  /** Stream name the publisher on this port becomes. */
  stream: string;
}

/** What players of a stream are told to hold (see ServiceDescription in relay/protocol.ts). */
export interface LatencyService {
  targetMs: number;
  minMs: number;
  maxMs: number;
  minRate: number;
  maxRate: number;
  pinned: boolean;
}

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
  };
  srt: {
    /** One FFmpeg libsrt listener per entry: FFmpeg accepts one publisher per port. */
    listeners: SrtListener[];
    /** SRT receive latency in ms (libsrt `latency`), the jitter buffer SRT adds. */
    latencyMs: number;
    /** MPEG-TS packs AAC into PES packets of ~0.25 s, so probing needs longer than for RTMP. */
    analyzeDurationUs: number;
    probeSizeBytes: number;
  };
  remux: {
    /** FFmpeg binary. */
    ffmpegPath: string;
    /** Fragment duration in µs: just under one frame interval at 30 fps, so each chunk is one video
     *  frame with its audio. 33333 put two frames in 28% of chunks (RTMP timestamps are whole ms). */
    fragmentUs: number;
    /** Probe bound in µs so the first chunk leaves FFmpeg fast (unbounded takes seconds). */
    analyzeDurationUs: number;
    /** Probe bound in bytes. */
    probeSizeBytes: number;
    /** First restart delay after FFmpeg dies unexpectedly; doubles up to maxRestartDelayMs. */
    restartDelayMs: number;
    maxRestartDelayMs: number;
    /** Upper bound on any box from FFmpeg and on a whole chunk (prefix boxes + moof + mdat). */
    maxBoxBytes: number;
    /** Upper bound on the init segment (ftyp+moov). */
    maxInitBytes: number;
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
}

export const defaults: Config = {
  host: '0.0.0.0',
  http: { port: 8080 },
  rtmp: { port: 1935, app: 'live' },
  srt: { listeners: [{ port: 9000, stream: 'srt' }], latencyMs: 120, analyzeDurationUs: 500_000, probeSizeBytes: 512 * 1024 },
  remux: {
    ffmpegPath: 'ffmpeg',
    fragmentUs: 30_000,
    analyzeDurationUs: 100_000,
    probeSizeBytes: 32_768,
    restartDelayMs: 250,
    maxRestartDelayMs: 5_000,
    maxBoxBytes: 16 * 1024 * 1024,
    maxInitBytes: 1024 * 1024,
  },
  relay: {
    maxBackpressureBytes: 4 * 1024 * 1024,
    slowViewerBytes: 512 * 1024,
    resumeBytes: 64 * 1024,
    maxGopCacheBytes: 2 * 1024 * 1024,
    sweepIntervalMs: 50,
    maxViewerMessageBytes: 16 * 1024,
    idleTimeoutS: 60,
  },
  latency: {
    // Glass-to-glass on a clean network is ~0.2 s (bench:glass); 0.5 s suits poor networks.
    default: { targetMs: 200, minMs: 100, maxMs: 2000, minRate: 0.95, maxRate: 1.15, pinned: false },
    streams: [],
  },
  demo: { enabled: false, stream: 'demo', width: 640, height: 360, fps: 30 },
};

export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`config ${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep-merges `patch` onto `base`, rejecting unknown keys and values of the wrong type. */
function mergeInto(base: Plain, patch: Plain, path: string): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const key = path ? `${path}.${k}` : k;
    if (!(k in base)) throw new ConfigError(key, 'unknown key');
    const cur = base[k];
    if (isPlain(cur)) {
      if (!isPlain(v)) throw new ConfigError(key, 'expected an object');
      out[k] = mergeInto(cur, v, key);
    } else if (Array.isArray(cur)) {
      if (!Array.isArray(v)) throw new ConfigError(key, 'expected an array');
      out[k] = v;
    } else {
      if (typeof v !== typeof cur) throw new ConfigError(key, `expected a ${typeof cur}, got ${JSON.stringify(v)}`);
      out[k] = v;
    }
  }
  return out;
}

const port = (key: string, v: number, allowZero = false): void => {
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) throw new ConfigError(key, `expected a port, got ${v}`);
};
const positive = (key: string, v: number): void => {
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(key, `expected a positive number, got ${v}`);
};

function validate(c: Config): Config {
  port('http.port', c.http.port, true);
  port('rtmp.port', c.rtmp.port, true);
  c.srt.listeners.forEach((l, i) => {
    port(`srt.listeners[${i}].port`, l.port);
    if (typeof l.stream !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(l.stream)) {
      throw new ConfigError(`srt.listeners[${i}].stream`, `invalid stream name ${JSON.stringify(l.stream)}`);
    }
  });
  for (const k of ['fragmentUs', 'analyzeDurationUs', 'probeSizeBytes', 'restartDelayMs', 'maxRestartDelayMs', 'maxBoxBytes', 'maxInitBytes'] as const) {
    positive(`remux.${k}`, c.remux[k]);
  }
  for (const k of ['maxBackpressureBytes', 'slowViewerBytes', 'resumeBytes', 'maxGopCacheBytes', 'sweepIntervalMs', 'maxViewerMessageBytes', 'idleTimeoutS'] as const) {
    positive(`relay.${k}`, c.relay[k]);
  }
  if (c.relay.slowViewerBytes >= c.relay.maxBackpressureBytes) {
    throw new ConfigError('relay.slowViewerBytes', 'must be below relay.maxBackpressureBytes');
  }
  const services: Array<[string, Partial<LatencyService>]> = [['latency.default', c.latency.default],
    ...c.latency.streams.map((o, i): [string, Partial<LatencyService>] => [`latency.streams[${i}]`, o])];
  for (const [key, l] of services) {
    for (const k of ['targetMs', 'minMs', 'maxMs', 'minRate', 'maxRate'] as const) {
      if (l[k] !== undefined) positive(`${key}.${k}`, l[k]);
    }
    if (l.pinned !== undefined && typeof l.pinned !== 'boolean') throw new ConfigError(`${key}.pinned`, 'expected a boolean');
  }
  for (const [i, o] of c.latency.streams.entries()) {
    if (typeof o.stream !== 'string') throw new ConfigError(`latency.streams[${i}].stream`, 'expected a stream name');
  }
  if (c.relay.maxGopCacheBytes >= c.relay.maxBackpressureBytes) {
    // A joiner is sent the whole cached GOP at once; past the hard cap it would be disconnected.
    throw new ConfigError('relay.maxGopCacheBytes', 'must be below relay.maxBackpressureBytes');
  }
  if (c.relay.resumeBytes >= c.relay.slowViewerBytes) {
    throw new ConfigError('relay.resumeBytes', 'must be below relay.slowViewerBytes');
  }
  return c;
}

/** Reads NOWCAST_HTTP_PORT-style env vars for scalar keys (JSON for arrays). */
export function envOverrides(env: NodeJS.ProcessEnv, base: Config = defaults): Plain {
  const out: Plain = {};
  const walk = (node: Plain, path: string[], target: Plain): void => {
    for (const [k, v] of Object.entries(node)) {
      const name = 'NOWCAST_' + [...path, k].map((p) => p.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()).join('_');
      if (isPlain(v)) {
        const sub: Plain = {};
        walk(v, [...path, k], sub);
        if (Object.keys(sub).length) target[k] = sub;
        continue;
      }
      const raw = env[name];
      if (raw === undefined) continue;
      const key = [...path, k].join('.');
      if (typeof v === 'number') {
        const n = Number(raw);
        if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(key, `${name}=${raw} is not a number`);
        target[k] = n;
      } else if (typeof v === 'boolean') {
        if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(key, `${name}=${raw} is not a boolean`);
        target[k] = raw === 'true' || raw === '1';
      } else if (Array.isArray(v)) {
        try { target[k] = JSON.parse(raw); } catch { throw new ConfigError(key, `${name} is not valid JSON`); }
      } else {
        target[k] = raw;
      }
    }
  };
  walk(base as unknown as Plain, [], out);
  return out;
}

/** The service description for one stream: the default with that stream's override on top. */
export function latencyServiceFor(c: Config, stream: string): LatencyService {
  const o = c.latency.streams.find((s) => s.stream === stream);
  if (!o) return c.latency.default;
  const { stream: _name, ...rest } = o;
  return { ...c.latency.default, ...rest };
}

/** Defaults < env < overrides, validated. */
export function loadConfig(overrides: Plain = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const fromEnv = mergeInto(defaults as unknown as Plain, envOverrides(env), '');
  return validate(mergeInto(fromEnv, overrides, '') as unknown as Config);
}
