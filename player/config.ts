// Player configuration: one commented defaults object and a validating merge.
import type { ControlParams } from './latency.js';

export interface PlayerConfig extends ControlParams {
  /** WebSocket URL of the stream, e.g. `ws://host/live/NAME`. Required. */
  url: string;
  /** Seconds of buffer ahead of currentTime the controller holds playback at. */
  targetLatency: number;
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
  /** Interval between `ping` messages (ms), for the RTT estimate. */
  pingIntervalMs: number;
  /** Interval of the playback control loop (ms): rate, gaps, stalls, back buffer. */
  tickIntervalMs: number;
  /** Interval of `stats` events (ms). */
  statsIntervalMs: number;
  /** Window for the bitrate estimate (ms). */
  bitrateWindowMs: number;
  /** Start playback muted, so autoplay policies let it start without a gesture. */
  muted: boolean;
  /** Log protocol and control decisions to the console. */
  debug: boolean;
}

export type PlayerOptions = Partial<PlayerConfig> & { url: string };

export const DEFAULTS: Readonly<Omit<PlayerConfig, 'url'>> = Object.freeze({
  // Chromium with AAC needs ~100–150 ms of buffer ahead to play without stalling.
  targetLatency: 0.15,
  // Within ±5–15 % audio pitch correction is inaudible enough for catch-up.
  minRate: 0.95,
  maxRate: 1.15,
  rateStep: 0.02,
  rateGain: 1,
  // Chunks arrive every ~33 ms, so the buffer saw-tooths by a frame: stay outside that.
  deadbandEnter: 0.06,
  deadbandExit: 0.02,
  lowBuffer: 0.1,
  // Rate alone drains 1.5 s in ~10 s; further behind than that, a seek is kinder.
  seekCeiling: 1.5,
  backBufferSeconds: 10,
  maxGapJump: 2,
  reconnect: true,
  reconnectBaseMs: 250,
  reconnectMaxMs: 5000,
  maxReconnectAttempts: Infinity,
  pingIntervalMs: 2000,
  tickIntervalMs: 100,
  statsIntervalMs: 250,
  bitrateWindowMs: 3000,
  muted: true,
  debug: false,
});

type NumberKey = { [K in keyof PlayerConfig]: PlayerConfig[K] extends number ? K : never }[keyof PlayerConfig];
type BooleanKey = { [K in keyof PlayerConfig]: PlayerConfig[K] extends boolean ? K : never }[keyof PlayerConfig];

/** Inclusive lower bound for each numeric key; `true` in the third slot means > rather than >=. */
const NUMBER_RULES: ReadonlyArray<readonly [NumberKey, number, boolean?]> = [
  ['targetLatency', 0],
  ['minRate', 0, true],
  ['maxRate', 0, true],
  ['rateStep', 0, true],
  ['rateGain', 0],
  ['deadbandEnter', 0],
  ['deadbandExit', 0],
  ['lowBuffer', 0],
  ['seekCeiling', 0, true],
  ['backBufferSeconds', 1],
  ['maxGapJump', 0],
  ['reconnectBaseMs', 1],
  ['reconnectMaxMs', 1],
  ['maxReconnectAttempts', 0],
  ['pingIntervalMs', 100],
  ['tickIntervalMs', 10],
  ['statsIntervalMs', 10],
  ['bitrateWindowMs', 100],
];
const BOOLEAN_KEYS: readonly BooleanKey[] = ['reconnect', 'muted', 'debug'];

function fail(key: string, why: string): never {
  throw new TypeError(`nowcast player config: "${key}" ${why}`);
}

/** Defaults overlaid with `options`; throws a TypeError naming the first bad key. */
export function mergeConfig(options: PlayerOptions): PlayerConfig {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object');
  const known = new Set<string>(['url', ...Object.keys(DEFAULTS)]);
  for (const key of Object.keys(options)) if (!known.has(key)) fail(key, 'is not a known option');
  const merged: PlayerConfig = { ...DEFAULTS, ...stripUndefined(options), url: options.url };

  if (typeof merged.url !== 'string' || !/^wss?:\/\/./i.test(merged.url)) {
    fail('url', `must be a ws:// or wss:// URL, got ${JSON.stringify(merged.url)}`);
  }
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
