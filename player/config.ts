// Player configuration: one commented defaults object, a validating merge, and the merge of
// the server's per-stream ServiceDescription (hello.service) under the page's own options.
import { POLICIES } from '../protocol/messages.js';
import type { PolicyName, ServiceDescription } from '../protocol/messages.js';
import type { ControlParams, SafeMode } from './control.js';

export interface PlayerConfig extends Omit<ControlParams, 'safeMode'> {
  /**
   * WebSocket URL of the stream, e.g. `ws://host/live/NAME`, or a list of equivalent URLs
   * (edges of one origin). Required. With a list, each reconnect tries the next URL.
   */
  url: string | readonly string[];
  /** WebKit's safe mode; 'auto' picks 'coarse' on WebKit engines (by user agent: docs/browsers.md), else 'off'. */
  safeMode: SafeMode | 'auto';
  /** Seconds of media kept behind currentTime; older media is removed. */
  backBufferSeconds: number;
  /** Jump over a hole in the buffer if the next range starts within this many seconds. */
  maxGapJump: number;
  /** Reconnect after the socket drops. */
  reconnect: boolean;
  /** First reconnect delay bound (ms); doubles per failed attempt, with full jitter. */
  reconnectBaseMs: number;
  /** Cap on the reconnect delay bound (ms). */
  reconnectMaxMs: number;
  /** Give up (fatal error) after this many reconnects in a row without a healthy session. */
  maxReconnectAttempts: number;
  /** Interval between `ping` messages (ms) once the clock offset has its first samples. */
  pingIntervalMs: number;
  /** Interval of the playback control loop (ms): rate, gaps, stalls, back buffer. */
  tickIntervalMs: number;
  /** Interval of `stats` events (ms). */
  statsIntervalMs: number;
  /** Window for the bitrate estimate (ms). */
  bitrateWindowMs: number;
  /** Send `qoe` reports to the relay. */
  qoe: boolean;
  /** Interval between `qoe` reports (ms); the relay accepts at most one per second. */
  qoeIntervalMs: number;
  /** Start playback muted, so autoplay policies let it start without a gesture. */
  muted: boolean;
  /** Log protocol and control decisions to the console. */
  debug: boolean;
  /**
   * Run the socket and the SourceBuffer in a dedicated worker where the browser can
   * (MediaSource.canConstructInDedicatedWorker: Chromium ≥ 108); false keeps them on the page.
   */
  worker: boolean;
  /**
   * Which MediaSource: 'auto' (MediaSource, or ManagedMediaSource where only that exists, as on
   * an iPhone), 'managed' (ManagedMediaSource wherever it exists, e.g. to test the iPhone path in
   * desktop WebKit), or 'classic' (never ManagedMediaSource). ManagedMediaSource never runs in a worker.
   */
  mediaSource: MediaSourceChoice;
  /**
   * How media arrives: 'ws' (fMP4 chunks over the WebSocket into MSE), 'hls' (the relay's
   * LL-HLS playlist of the same chunks, through hls.js, or natively where MSE is missing), or
   * 'auto' (WebSocket, unless neither MediaSource nor ManagedMediaSource exists: then LL-HLS).
   */
  transport: Transport;
  /**
   * Pin a rendition of a stream the relay runs an ABR ladder for: 'source', or a name from its
   * abr.ladder; null lets the relay choose by the path (docs/abr.md). Sent in a `rendition` message.
   */
  rendition: string | null;
  /** Never above this video height (px) on an ABR stream, whatever the path allows; 0: no cap. */
  maxHeight: number;
}

export const MEDIA_SOURCES = ['auto', 'managed', 'classic'] as const;
export type MediaSourceChoice = (typeof MEDIA_SOURCES)[number];
export const TRANSPORTS = ['auto', 'ws', 'hls'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export type PlayerOptions = Partial<PlayerConfig> & { url: string | readonly string[] };

export const DEFAULTS: Readonly<Omit<PlayerConfig, 'url'>> = Object.freeze({
  policy: 'nowcast' as PolicyName,
  // Wall-clock latency from the server writing a chunk (prft) to its frame on screen. Measured in
  // headless Chromium on loopback (A+V, 30 fps): prft latency runs ~30 ms BELOW the buffer
  // ahead (the buffered end includes the newest frame's 33 ms), glass-to-glass ~70 ms above
  // it. Target 0.13 s held ~0.15 s of buffer, glass-to-glass p50 ~197 ms, 0 stalls in 20 s;
  // 0.1 s stalled within seconds (the buffer floor minBuffer then binds). The relay's
  // hello.service normally overrides these (app/config.ts latency.default: 130 ms, 1.25×).
  targetLatency: 0.13,
  minLatency: 0.1,
  // A 2 s outage puts the player at ~2.15 s (target + 2 s): with a 2 s ceiling it jumped (3
  // jumps in the bench's backlog row); at 3 s the rate alone drains it within the 9 s target.
  maxLatency: 3,
  pinned: false,
  // Pinned mode never raises a viewer's own target, so it starts with the headroom that the
  // stall raise gives the free mode: at 0.13 s pinned viewers stalled 6 times in 20 s (clean,
  // 3 viewers); the free mode settled at 0.13–0.29 s over 10 minutes. 0 turns the floor off.
  pinnedMinLatency: 0.3,
  // A pinned viewer this late (s) jumps to the common target moment when it is buffered (after
  // an outage, a long stall, a join). Steady pinned runs stay within ~0.04 s of target under
  // 1% loss and 50±20 ms jitter, so 0.15 s seeks only after a real disruption. 0: rate only.
  pinnedSeek: 0.15,
  // Within ±5–15 % audio pitch correction is inaudible enough; a page may allow 1.25×.
  minRate: 0.95,
  maxRate: 1.15,
  // dash.js steps by 0.02; 0.025 puts 0.95, 1.15 and the relay's 1.25 on the grid, so a backlog
  // drains at the cap itself (1.24 on a 0.02 grid: 2 s took ~4 % longer, 8.0 → 7.7 s simulated).
  rateStep: 0.025,
  // The curve is near its cap from ~0.3 s of error, so a large backlog drains at close to the
  // backlog ÷ (maxRate − 1) bound, and glides in over the last ~0.15 s.
  rateScale: 0.15,
  // Latency per presented frame is steady to a few ms (no chunk saw-tooth), so the band is
  // narrow: correct past 25 ms, stop within 10 ms. At 40 ms the clean 10-minute run held
  // 0.15 s against a 0.13 s target (p50), the viewers drifting up to the band's edge between
  // corrections (Chromium, CPU-starved, loses a few ms now and then).
  deadbandEnter: 0.025,
  deadbandExit: 0.01,
  // Chromium stalls with 0.05–0.09 s still buffered ahead (bench:latency, 10-minute run). A/B,
  // 3 viewers × 30 s, 130 ms target: 0.12 → clean g2g p50 191 ms, 50±20 ms jitter 2 stalls;
  // 0.13 → 193 ms, 1 stall; 0.15 → 203 ms, 0 stalls (10 min clean: p50 214, the floor binds in
  // tabs whose frames show late). 0.13 keeps the 200 ms clean target; the stall raise covers jitter.
  minBuffer: 0.13,
  lowBuffer: 0.08,
  // The buffer floor adds the chunks' arrival jitter (p98 over 10 s, bursts counted once, the
  // first 3 s after a join not sampled) past jitterFree, up to maxJitterBuffer: 0.13 + 0.35 s +
  // ~0.03 s pipeline ≈ 0.5 s, the product's poor-network figure. bench:latency, 3 viewers ×
  // 60 s (AMD EPYC): clean loopback measured p50 0.01 s, p90 0.015–0.027 s, so 0.03 s free costs
  // the clean path nothing; 50 ± 20 ms jitter measures ~0.04 s. 1% TCP loss: 8 stalls → 0.
  // Where the source itself comes in bursts (hello.jitterMs), the floor is held by the buffer's
  // refilled level rather than its average (player/sawtooth.ts).
  jitterFree: 0.03,
  maxJitterBuffer: 0.35,
  // A stall adds 0.1 s to the target (hls.js adds 1 s, Shaka 0.5 s, and neither is sub-second);
  // 20 s without a stall halves the raise again (Shaka: 60 s; hls.js: never).
  stallTargetStep: 0.1,
  maxStallRaise: 1,
  stableMs: 20_000,
  // The raise comes down no lower than where the last stall happened + 0.025 s, and that memory
  // halves after 5 minutes without a stall. bench:latency on a slower machine (AMD EPYC, Chromium
  // using ~50 % more CPU): the raise fell back to the target it had stalled at and stalled there
  // again every 20–40 s, clean (3 stalls in 60 s × 3 viewers) and under 50 ± 20 ms jitter (5).
  stallMemoryStep: 0.025,
  stallMemoryMs: 300_000,
  // Chromium doubles the audio it wants queued after each underflow (stalls of 0.25, 0.68,
  // 1.46, 2.9 s in a row in a 10-minute run, data arriving all along); a seek resets that. Two
  // control ticks, so a `waiting` that clears by itself is left alone.
  stallBreakMs: 100,
  safeMode: 'auto' as SafeMode | 'auto',
  visibleJump: 0.5,
  backBufferSeconds: 10,
  maxGapJump: 2,
  reconnect: true,
  reconnectBaseMs: 250,
  reconnectMaxMs: 5000,
  maxReconnectAttempts: Infinity,
  pingIntervalMs: 2000,
  tickIntervalMs: 50,
  statsIntervalMs: 250,
  bitrateWindowMs: 3000,
  qoe: true,
  qoeIntervalMs: 5000,
  muted: true,
  debug: false,
  // A busy page thread then cannot hold chunks back from the SourceBuffer: under CPU load the
  // page's main thread waited up to 250 ms for a core while the decoder played the buffer out.
  worker: true,
  mediaSource: 'auto' as MediaSourceChoice,
  transport: 'auto' as Transport,
  rendition: null as string | null,
  maxHeight: 0,
});

type NumberKey = { [K in keyof PlayerConfig]: PlayerConfig[K] extends number ? K : never }[keyof PlayerConfig];
type BooleanKey = { [K in keyof PlayerConfig]: PlayerConfig[K] extends boolean ? K : never }[keyof PlayerConfig];

/** Inclusive lower bound for each numeric key; `true` in the third slot means > rather than >=. */
const NUMBER_RULES: ReadonlyArray<readonly [NumberKey, number, boolean?]> = [
  ['targetLatency', 0],
  ['minLatency', 0],
  ['maxLatency', 0, true],
  ['pinnedMinLatency', 0],
  ['pinnedSeek', 0],
  ['minRate', 0, true],
  ['maxRate', 0, true],
  ['rateStep', 0, true],
  ['rateScale', 0, true],
  ['deadbandEnter', 0],
  ['deadbandExit', 0],
  ['minBuffer', 0],
  ['lowBuffer', 0],
  ['jitterFree', 0],
  ['maxJitterBuffer', 0],
  ['stallTargetStep', 0],
  ['maxStallRaise', 0],
  ['stableMs', 0],
  ['stallMemoryStep', 0],
  ['stallMemoryMs', 0],
  ['stallBreakMs', 0],
  ['visibleJump', 0],
  ['backBufferSeconds', 1],
  ['maxGapJump', 0],
  ['reconnectBaseMs', 1],
  ['reconnectMaxMs', 1],
  ['maxReconnectAttempts', 0],
  ['pingIntervalMs', 100],
  ['tickIntervalMs', 10],
  ['statsIntervalMs', 10],
  ['bitrateWindowMs', 100],
  ['qoeIntervalMs', 1000],
  ['maxHeight', 0],
];
const BOOLEAN_KEYS: readonly BooleanKey[] = ['reconnect', 'muted', 'debug', 'pinned', 'qoe', 'worker'];
const SAFE_MODES: ReadonlyArray<SafeMode | 'auto'> = ['auto', 'off', 'coarse', 'seek'];

function fail(key: string, why: string): never {
  throw new TypeError(`nowcast player config: "${key}" ${why}`);
}

/** Defaults overlaid with `options`; throws a TypeError naming the first bad key. */
export function mergeConfig(options: PlayerOptions): PlayerConfig {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object');
  const known = new Set<string>(['url', ...Object.keys(DEFAULTS)]);
  for (const key of Object.keys(options)) if (!known.has(key)) fail(key, 'is not a known option');
  const merged: PlayerConfig = { ...DEFAULTS, ...stripUndefined(options), url: options.url };

  const urls: readonly unknown[] = Array.isArray(merged.url) ? merged.url : [merged.url];
  if (urls.length === 0) fail('url', 'must not be an empty list');
  for (const u of urls) {
    if (typeof u !== 'string' || !/^wss?:\/\/./i.test(u)) fail('url', `must be a ws:// or wss:// URL, got ${JSON.stringify(u)}`);
  }
  if (Array.isArray(merged.url)) merged.url = Object.freeze([...merged.url]);
  for (const [key, min, exclusive] of NUMBER_RULES) {
    const v: unknown = merged[key];
    if (typeof v !== 'number' || Number.isNaN(v)) fail(key, `must be a number, got ${JSON.stringify(v)}`);
    if (exclusive ? v <= min : v < min) fail(key, `must be ${exclusive ? '>' : '>='} ${min}, got ${v}`);
    if (v === Infinity && key !== 'maxReconnectAttempts') fail(key, 'must be finite');
  }
  for (const key of BOOLEAN_KEYS) {
    const v: unknown = merged[key];
    if (typeof v !== 'boolean') fail(key, `must be a boolean, got ${JSON.stringify(v)}`);
  }
  if (!POLICIES.includes(merged.policy)) fail('policy', `must be one of ${POLICIES.join(', ')}, got ${JSON.stringify(merged.policy)}`);
  if (!SAFE_MODES.includes(merged.safeMode)) fail('safeMode', `must be one of ${SAFE_MODES.join(', ')}, got ${JSON.stringify(merged.safeMode)}`);
  if (!MEDIA_SOURCES.includes(merged.mediaSource)) fail('mediaSource', `must be one of ${MEDIA_SOURCES.join(', ')}, got ${JSON.stringify(merged.mediaSource)}`);
  if (!TRANSPORTS.includes(merged.transport)) fail('transport', `must be one of ${TRANSPORTS.join(', ')}, got ${JSON.stringify(merged.transport)}`);
  if (merged.rendition !== null && (typeof merged.rendition !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,15}$/.test(merged.rendition))) {
    fail('rendition', `must be null or a rendition name such as 'source' or '360p', got ${JSON.stringify(merged.rendition)}`);
  }
  if (merged.maxLatency < merged.minLatency) fail('maxLatency', `must be >= minLatency (${merged.minLatency}), got ${merged.maxLatency}`);
  if (merged.lowBuffer > merged.minBuffer) fail('lowBuffer', `must be <= minBuffer (${merged.minBuffer}), got ${merged.lowBuffer}`);
  if (merged.minRate > 1) fail('minRate', `must be <= 1, got ${merged.minRate}`);
  if (merged.maxRate < 1) fail('maxRate', `must be >= 1, got ${merged.maxRate}`);
  if (merged.deadbandExit > merged.deadbandEnter) {
    fail('deadbandExit', `must be <= deadbandEnter (${merged.deadbandEnter}), got ${merged.deadbandExit}`);
  }
  if (merged.reconnectMaxMs < merged.reconnectBaseMs) {
    fail('reconnectMaxMs', `must be >= reconnectBaseMs (${merged.reconnectBaseMs}), got ${merged.reconnectMaxMs}`);
  }
  return merged;
}

/** `{ key: undefined }` means "use the default", as in most player libraries. */
function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * The config for a stream: defaults < the server's hello.service < the page's options. A
 * target the page sets outside the server's bounds widens the bounds to include it.
 */
export function applyService(options: PlayerOptions, service: ServiceDescription | undefined): PlayerConfig {
  const given = stripUndefined(options) as PlayerOptions;
  const fromService: Partial<PlayerConfig> = {};
  if (service && typeof service === 'object') {
    const ms = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v / 1000 : undefined);
    const rate = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
    const s = service as unknown as Record<string, unknown>;
    Object.assign(fromService, stripUndefined({
      targetLatency: ms(s.targetMs),
      minLatency: ms(s.minMs),
      maxLatency: ms(s.maxMs),
      minRate: rate(s.minRate) !== undefined ? Math.min(1, rate(s.minRate)!) : undefined,
      maxRate: rate(s.maxRate) !== undefined ? Math.max(1, rate(s.maxRate)!) : undefined,
      pinned: typeof s.pinned === 'boolean' ? s.pinned : undefined,
    }));
  }
  const merged: PlayerOptions = { ...fromService, ...given };
  const target = given.targetLatency;
  if (target !== undefined && Number.isFinite(target)) {
    if (given.minLatency === undefined) merged.minLatency = Math.min(merged.minLatency ?? DEFAULTS.minLatency, target);
    if (given.maxLatency === undefined) merged.maxLatency = Math.max(merged.maxLatency ?? DEFAULTS.maxLatency, target);
  }
  return mergeConfig(merged);
}

/**
 * WebKit on Apple's media stack (AVFoundation), from a user agent string: Safari on macOS, and
 * every browser on iOS/iPadOS (all of them are WebKit there, Chrome's CriOS included). There,
 * every playbackRate change flushes and re-queues the audio renderer's samples
 * (AVSampleBufferAudioRenderer; WebKit bug 208142): audible glitches and occasional stalls.
 */
export function isSafari(ua: string): boolean {
  if (!/AppleWebKit/i.test(ua)) return false;
  if (/\b(iPhone|iPad|iPod)\b/.test(ua)) return true;
  return /\bMacintosh\b/.test(ua) && !/Chrome|Chromium|Edg|OPR|Firefox/i.test(ua) && /Safari/i.test(ua);
}

/**
 * Any WebKit engine, Apple's or not: Safari (above), and WebKitGTK and WPE on Linux. Their
 * GStreamer backend turns every playbackRate change into a flushing seek of the pipeline
 * (MediaPlayerPrivateGStreamer::updatePlaybackRate), and a change asked while it is still
 * settling is recorded but not applied (setRate returns before updatePlaybackRate unless the
 * pipeline is PLAYING or PAUSED with nothing pending). Measured in WebKitGTK 2.50 on a live
 * stream: the full controller's changes every 250 ms were lost for whole runs in some joins
 * (media time at 1.00× under a 1.05–1.2× rate, so the rate check said 'ineffective'), while
 * the same rates set a second or more apart took exactly (1.10, 1.25, 1.50×).
 */
export function isWebKit(ua: string): boolean {
  if (isSafari(ua)) return true;
  return /AppleWebKit/i.test(ua) && !/Chrome|Chromium|CriOS|Edg|OPR|Firefox|FxiOS/i.test(ua);
}

/** 'auto' resolved against the user agent: WebKit engines change the rate rarely ('coarse'). */
export function resolveSafeMode(mode: SafeMode | 'auto', ua: string): SafeMode {
  return mode === 'auto' ? (isWebKit(ua) ? 'coarse' : 'off') : mode;
}

/** Watch-page options from its query string (see player/watch.ts); throws a TypeError on a bad number. */
export function optionsFromQuery(q: URLSearchParams): Omit<PlayerOptions, 'url'> {
  const o: Omit<PlayerOptions, 'url'> = {};
  const num = (key: string, scale = 1): number | undefined => {
    const raw = q.get(key);
    if (raw === null || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new TypeError(`?${key}=${raw} is not a number`);
    return n * scale;
  };
  const policy = q.get('policy');
  if (policy) o.policy = policy as PlayerOptions['policy'];
  const safari = q.get('safari');
  if (safari) o.safeMode = safari as PlayerOptions['safeMode'];
  o.targetLatency = num('target', 1 / 1000);
  o.minLatency = num('min', 1 / 1000);
  o.maxLatency = num('max', 1 / 1000);
  o.minRate = num('minRate');
  o.maxRate = num('maxRate');
  o.minBuffer = num('minBuffer', 1 / 1000);
  if (q.has('pinned')) o.pinned = !['0', 'false'].includes(q.get('pinned') ?? '');
  if (q.has('debug')) o.debug = true;
  if (q.has('worker')) o.worker = !['0', 'false'].includes(q.get('worker') ?? '');
  const mse = q.get('mse');
  if (mse) o.mediaSource = mse as PlayerOptions['mediaSource'];
  const transport = q.get('transport');
  if (transport) o.transport = transport as PlayerOptions['transport'];
  const rendition = q.get('rendition');
  if (rendition) o.rendition = rendition;
  o.maxHeight = num('maxHeight');
  return o;
}

