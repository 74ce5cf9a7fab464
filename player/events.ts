// Typed events and a small emitter. A listener that throws is reported (reportError or
// console.error) and the remaining listeners still run: user code must never be able to
// break the player's own control flow.
import type { InfoMessage, PolicyName } from '../protocol/messages.js';
import type { ControlReason, SafeMode } from './control.js';
import type { RateVerdict } from './rate-check.js';
import type { ManagedCounters } from './mse.js';

/** 'live': media is flowing; 'offline': no publisher, still connected and waiting. */
export type PlayerState = 'connecting' | 'reconnecting' | 'live' | 'offline' | 'error' | 'destroyed';

export interface StateEvent {
  state: PlayerState;
  previous: PlayerState;
  /** Machine-readable reason, e.g. the relay's state code. */
  code?: string;
  message?: string;
}

/** Stable error codes raised by the player itself; relay codes are passed through as-is. */
export type PlayerErrorCode =
  | 'MSE_UNSUPPORTED'
  | 'CODEC_UNSUPPORTED'
  | 'MEDIA_ERROR'
  | 'APPEND_FAILED'
  | 'PROTOCOL_ERROR'
  | 'AUTOPLAY_BLOCKED'
  | 'RECONNECT_EXHAUSTED';

export interface PlayerError {
  code: PlayerErrorCode | (string & {});
  message: string;
  /** True when playback cannot continue without outside change (a new stream, a new player). */
  fatal: boolean;
}

export interface SkipEvent {
  /** Chunks the relay dropped because this viewer fell behind. */
  chunks: number;
  bytes: number;
}

export type SeekReason = 'start' | 'live' | 'gap' | 'visible' | 'reconnect' | 'unstall' | 'pin' | 'outage';

export interface SeekEvent {
  from: number;
  to: number;
  reason: SeekReason;
}

/** Emitted when the latency controller changes the playback rate or seeks. */
export interface LatencyEvent {
  latency: number;
  bufferAhead: number;
  target: number;
  rate: number;
  reason: ControlReason;
}

export interface ReconnectEvent {
  /** Attempt number since the last healthy session, from 1. */
  attempt: number;
  delayMs: number;
}

/**
 * When the join reached each stage, in ms after navigation start (performance.timeOrigin); NaN
 * until it has. The first connection's only. Where the time to first frame goes, stage by stage.
 */
export interface StartupTimes {
  /** The Player was created (the page and its script loaded). */
  player: number;
  /** The WebSocket opened. */
  open: number;
  /** The first media chunk arrived (after hello, info and the init segment). */
  media: number;
  /** The append queue drained after media: the join's burst is in the SourceBuffer, the player seeks to live and plays. */
  appended: number;
  /** The first frame was presented. */
  frame: number;
}

export interface PlayerStats {
  state: PlayerState;
  /** Wall-clock latency (s) of the frame on screen (server clock, offset applied); NaN when unknown. */
  latency: number;
  /** The controller's effective target (s): the base, plus any stall raise. */
  targetLatency: number;
  /** Seconds buffered ahead of currentTime. */
  buffer: number;
  /** Received bits per second over the last few seconds. */
  bitrate: number;
  droppedFrames: number;
  decodedFrames: number;
  playbackRate: number;
  stalls: number;
  stallMs: number;
  /** Highest playback rate used so far. */
  maxRate: number;
  /** Playback rate changes so far. */
  rateChanges: number;
  /** Seeks to live after the start (controller ceiling, tab visible, reconnect, baselines). */
  jumps: number;
  /** Seeks in place that ended a stall the browser prolonged. */
  unstalls: number;
  policy: PolicyName;
  pinned: boolean;
  /** Safari safe mode in force ('off' elsewhere). */
  safeMode: SafeMode;
  /** Whether playbackRate was seen to move the picture here (player/rate-check.ts); 'ineffective' switches to jumps. */
  rateVerdict: RateVerdict;
  /** What the controller did last. */
  reason: ControlReason;
  /** From player start to the first presented frame (ms); NaN before it. */
  startupMs: number;
  /** The join's stages (ms after navigation start). */
  startup: StartupTimes;
  reconnects: number;
  /** Rendition switches the relay made (ABR, docs/abr.md). */
  switches: number;
  /** Relay `skip` messages received. */
  skips: number;
  /** Holes in the buffer the player jumped over. */
  gapJumps: number;
  /** Seeks to the live edge (start, controller, reconnect, tab visible). */
  liveSeeks: number;
  /** Chunks dropped because the SourceBuffer was full even after eviction. */
  droppedChunks: number;
  /** Round-trip time (ms): the smallest of the recent ping/pongs; NaN until the first pong. */
  rtt: number;
  /** Server minus local clock (ms) from that ping/pong; NaN until the first pong. */
  clockOffsetMs: number;
  /** Chunk arrival jitter (s): p98 of the delay above the least over 10 s; NaN until known. */
  jitter: number;
  generation: number;
  codecs: string;
  /** The socket and SourceBuffer run in a dedicated worker (config.worker and browser support). */
  mseWorker: boolean;
  /**
   * ManagedMediaSource (config.mediaSource; the iPhone's MSE): whether it is in use, its
   * `streaming` now and how often that changed, and the media it evicted behind and ahead of the
   * playhead (ahead: the stream started over from a keyframe).
   */
  managed: ManagedCounters | null;
}

export interface PlayerEventMap {
  state: StateEvent;
  info: InfoMessage;
  error: PlayerError;
  stats: PlayerStats;
  skip: SkipEvent;
  latency: LatencyEvent;
  seek: SeekEvent;
  reconnect: ReconnectEvent;
}

export type Listener<T> = (payload: T) => void;

function report(err: unknown): void {
  const r = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof r === 'function') r(err);
  else console.error('nowcast player: listener threw', err);
}

export class Emitter<M> {
  #listeners = new Map<keyof M, Set<Listener<never>>>();

  on<K extends keyof M>(event: K, fn: Listener<M[K]>): void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(fn as Listener<never>);
  }

  off<K extends keyof M>(event: K, fn: Listener<M[K]>): void {
    this.#listeners.get(event)?.delete(fn as Listener<never>);
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    // Copy: a listener may add or remove listeners while we iterate.
    for (const fn of [...set] as Listener<M[K]>[]) {
      try {
        fn(payload);
      } catch (err) {
        report(err);
      }
    }
  }

  has<K extends keyof M>(event: K): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  clear(): void {
    this.#listeners.clear();
  }
}
