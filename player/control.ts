// The latency controller's vocabulary, shared by every policy (player/latency.ts for
// 'nowcast', player/baselines.ts for the peers'): its parameters, its input each tick, the state
// it carries from tick to tick and the decision it returns. Types and the initial state only.
import type { PolicyName } from '../protocol/messages.js';
import { emptySawtooth, type Sawtooth } from './sawtooth.js';

/** 'off': full control; 'coarse': 1× or a catch-up rate, changed at most every 2 s (WebKit); 'seek': jumps only. */
export type SafeMode = 'off' | 'coarse' | 'seek';

export interface ControlParams {
  /** The control policy, one of protocol's POLICIES. */
  policy: PolicyName;
  /** Base wall-clock latency target (s). */
  targetLatency: number;
  /** Bounds of the (stall-raised) target (s). */
  minLatency: number;
  /** Hard ceiling (s): past it, jump to live instead of catching up by rate. */
  maxLatency: number;
  /** Slowest and fastest playback rates. */
  minRate: number;
  maxRate: number;
  /** The rate grid: rates are 1 ± k·rateStep, so no change is smaller than this. */
  rateStep: number;
  /** Error (s) at which the rate curve reaches tanh(1) ≈ 76 % of its span. */
  rateScale: number;
  /** Error (s) beyond which correction starts... */
  deadbandEnter: number;
  /** ...and within which it stops (the gap is the hysteresis). */
  deadbandExit: number;
  /** Buffer (s) catch-up never drains below; steady state holds at least this much. */
  minBuffer: number;
  /** Below this buffer (s), play at minRate until back at minBuffer. */
  lowBuffer: number;
  /** Arrival jitter (s) that minBuffer already absorbs; the buffer floor adds what is above it... */
  jitterFree: number;
  /** ...up to this much (s). 0: the floor ignores jitter. */
  maxJitterBuffer: number;
  /** Every viewer holds exactly targetLatency behind the server clock: no stall raise. */
  pinned: boolean;
  /** Pinned mode's floor (s) for the target: the headroom it cannot gain from stall raises. */
  pinnedMinLatency: number;
  /** Pinned mode: more than this (s) late, seek to the target moment if it is buffered; 0: never. */
  pinnedSeek: number;
  /** Raise of the target (s) per stall... */
  stallTargetStep: number;
  /** ...up to this much in total (s). */
  maxStallRaise: number;
  /** After this long (ms) without a stall the raise halves (again after each further period). */
  stableMs: number;
  /** The raise halves no lower than the raise a stall happened at plus this (s); 0: no memory. */
  stallMemoryStep: number;
  /** After this long (ms) without a stall that lower bound halves (again after each period). */
  stallMemoryMs: number;
  /** A stall this old (ms) with the target buffer in hand is ended by a seek in place; 0: never. */
  stallBreakMs: number;
  safeMode: SafeMode;
  /** Back in a visible tab, jump to live if more than this (s) behind target. */
  visibleJump: number;
}

export interface ControlInput {
  /** Monotonic time (ms). */
  now: number;
  /** Wall-clock latency (s) of the frame on screen; NaN when unknown (falls back to buffer). */
  latency: number;
  /** Seconds buffered ahead of currentTime to the live edge; NaN when nothing is ahead. */
  bufferAhead: number;
  /** End (s) of the last buffered range. */
  bufferEnd: number;
  /** Media time (s) of the latest buffered keyframe; NaN when unknown. */
  keyframe: number;
  /** Stalls so far (a count that only grows); an increase is a new stall. */
  stalls: number;
  /** Playback is stalled right now. */
  stalled: boolean;
  /** The tab is hidden. */
  hidden: boolean;
  /** Arrival jitter (s) of the chunks (ArrivalJitter); NaN when unknown. */
  jitter: number;
  /**
   * The part of it the stream brings from its source (s): the relay's measure on the chunks it
   * receives (hello.jitterMs), before any network to the viewer; NaN when not given.
   */
  sourceJitter: number;
}

export interface ControlState extends Sawtooth {
  rate: number;
  correcting: boolean;
  refilling: boolean;
  /** Smoothed error (s); NaN until the first sample. */
  error: number;
  /** Smoothed latency − buffer (s): the part of latency no rate can remove. */
  pipeline: number;
  /** Buffer (s) catch-up leaves in place: minBuffer plus the jitter allowance. */
  floor: number;
  /** Current raise of the target (s) from stalls. */
  raise: number;
  /** Stall memory: the raise does not halve below this (s). */
  memory: number;
  /** Last stall, or last halving of the memory (ms). */
  memoryAt: number;
  stallsSeen: number;
  /** Last stall, or last halving of the raise (ms). */
  raiseAt: number;
  /** Last halving of the raise (ms). */
  halvedAt: number;
  /** The stable period is stableMs · 2^backoff: each stall soon after a halving doubles it. */
  backoff: number;
  /** Start (ms) of the stall in progress; NaN when playing. */
  stallSince: number;
  /** Since when (ms) the stall in progress has had the buffer it needs; NaN otherwise. */
  heldSince: number;
  /** First decision (ms) since the start (or a new MediaSource). */
  startedAt: number;
  wasHidden: boolean;
  lastNow: number;
  lastRateChange: number;
  lastSeek: number;
}

export type ControlReason =
  | 'idle' | 'hold' | 'catch-up' | 'slow-down' | 'low-buffer' | 'seek' | 'pin' | 'visible' | 'stalled' | 'unstall' | 'hidden';

export interface Decision {
  rate: number;
  /** Set when the controller wants a seek to this media time. */
  seekTo?: number;
  reason: ControlReason;
  /** The effective latency target now (s). */
  target: number;
  state: ControlState;
}

/** After a seek, give the buffer this long (ms) to settle before seeking again. */
export const SEEK_COOLDOWN_MS = 2000;

export function initialControlState(): ControlState {
  return {
    rate: 1,
    correcting: false,
    refilling: false,
    error: NaN,
    pipeline: NaN,
    floor: NaN,
    raise: 0,
    memory: 0,
    memoryAt: -Infinity,
    stallsSeen: 0,
    raiseAt: -Infinity,
    halvedAt: -Infinity,
    backoff: 0,
    stallSince: NaN,
    heldSince: NaN,
    startedAt: NaN,
    wasHidden: false,
    lastNow: NaN,
    lastRateChange: -Infinity,
    lastSeek: -Infinity,
    ...emptySawtooth(),
  };
}
