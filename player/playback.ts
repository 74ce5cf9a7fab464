// Playback control on the <video>: start at the live edge, the periodic tick (stalls, gap
// jumps, the latency controller), and the latency of the frame on screen, measured per
// presented frame (requestVideoFrameCallback; currentTime where that is missing).
import { localNow } from './clock.js';
import type { PlayerConfig } from './config.js';
import { resolveSafeMode } from './config.js';
import type { PlayerError, PlayerEventMap, SeekReason } from './events.js';
import { initialControlState } from './control.js';
import type { ControlReason } from './control.js';
import { decide, DEFAULT_PIPELINE_S, effectiveTarget, type DecideParams } from './latency.js';
import { StallTracker } from './stats.js';
import { bufferInfo, gapJumpTarget, stuckSeekTarget, toRanges } from './timeline.js';
import { initialRateCheck, observeRate, type RateVerdict } from './rate-check.js';
import { OutageRule } from './outage.js';

/** After start or a reconnect, re-seek to live while the burst settles (nowcast only). */
const SYNC_WINDOW_MS = 1500;
/** "Behind" for those re-seeks: seconds beyond the target buffer. Less is left to the rate. */
const SYNC_BEHIND_S = 0.5;
const HAVE_FUTURE_DATA = 3;
/** Past one frame interval plus this (ms) without a new frame, the latency on screen grows. */
const FRAME_GRACE_MS = 50;
/** A presented-frame sample older than this (ms) is not used: fall back to currentTime. */
const FRAME_STALE_MS = 1000;
/** Latency samples kept for the QoE interval percentiles (bounded). */
const MAX_QOE_SAMPLES = 2000;
/** Where the rate does not take, jump once this far (s) behind target: about what a jump costs. */
const RATELESS_SEEK_S = 0.1;

export interface PlaybackHost {
  buffered(): TimeRanges | undefined;
  /** Server wall clock (ms) at which media time t was written; NaN when unknown. */
  wallAt(t: number): number;
  /** Server minus local clock (ms); 0 when unknown. */
  offsetMs(): number;
  /** The latest buffered keyframe (s) at or before `end`; NaN when unknown. */
  keyframe(end: number): number;
  /** Arrival jitter (s) of the chunks, and the relay's measure on the chunks it receives (hello.jitterMs); NaN when unknown. */
  jitter(): { seen: number; source: number };
  /** No publisher: the stream is waiting, playback is not stalling. */
  offline(): boolean;
  /** The current config (it changes when the relay announces the stream's service). */
  config(): Readonly<PlayerConfig>;
  emit<K extends keyof PlayerEventMap>(event: K, payload: PlayerEventMap[K]): void;
  error(code: PlayerError['code'], message: string, fatal: boolean): void;
  log(...args: unknown[]): void;
}

interface Frame {
  mediaTime: number;
  /** Local wall clock (ms) the frame was (expected to be) displayed. */
  displayAt: number;
}

type VideoWithFrames = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, meta: { mediaTime: number; expectedDisplayTime: number }) => void) => number;
  cancelVideoFrameCallback?: (h: number) => void;
};

export class Playback {
  /** First seek-to-live + play() done on this MediaSource. */
  started = false;
  readonly stalls = new StallTracker();
  gapJumps = 0;
  /** Every seek to live, the start included. */
  liveSeeks = 0;
  /** Seeks to live after the start: controller ceiling, tab visible again, reconnect, baselines. */
  jumps = 0;
  /** Seeks in place that ended a stall the browser prolonged (see player/latency.ts). */
  unstalls = 0;
  /** Seeks to the target when data came back as a backlog after the picture stood still (player/outage.ts). */
  outageSeeks = 0;
  rateChanges = 0;
  /** Highest playback rate set so far. */
  maxRateUsed = 1;
  /** Local ms of the first presented frame (NaN before). */
  firstFrameAt = NaN;
  /** The controller's effective target (s). */
  target: number;
  reason: ControlReason = 'idle';
  /** Recovery at live after an outage; told of the relay's `skipping` and `skip` (player/outage.ts). */
  readonly outage = new OutageRule();
  #control = initialControlState();
  #seekingSince = NaN;
  #frame: Frame | undefined;
  #frameHandle = 0;
  #qoeSamples: number[] = [];
  #reconnected = false;
  #syncUntil = 0;
  #syncReason: SeekReason = 'start';
  #lastTime = NaN;
  #rateCheck = initialRateCheck();
  #destroyed = false;
  readonly #ua: string;

  readonly #video: HTMLVideoElement;
  readonly #host: PlaybackHost;

  constructor(video: HTMLVideoElement, host: PlaybackHost) {
    this.#video = video;
    this.#host = host;
    this.target = host.config().targetLatency;
    this.#ua = typeof navigator !== 'undefined' ? navigator.userAgent : '';
    video.addEventListener('waiting', this.#onWaiting);
    video.addEventListener('playing', this.#onPlaying);
    for (const e of ['loadedmetadata', 'playing', 'seeked']) video.addEventListener(e, this.#armFrames);
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.#onVisibility);
    this.#armFrames();
  }

  /** The controller's parameters: Safari's safe mode resolved, and jumps only where the rate does not take. */
  get params(): DecideParams {
    const c = this.#host.config();
    const safeMode = resolveSafeMode(c.safeMode, this.#ua);
    if (safeMode !== 'seek' && this.#rateCheck.verdict === 'ineffective') return { ...c, safeMode: 'seek', seekAbove: RATELESS_SEEK_S };
    return { ...c, safeMode };
  }

  /** Whether playbackRate was seen to move the picture ('unknown' until a catch-up was measured). */
  get rateVerdict(): RateVerdict {
    return this.#rateCheck.verdict;
  }

  /**
   * Wall-clock latency (s) of the frame on screen: server now − the time FFmpeg wrote it.
   * From the last presented frame's display time (steady, no chunk saw-tooth); it grows
   * once frames stop coming (a stall, a pause).
   */
  get latency(): number {
    if (!this.started) return NaN;
    const now = localNow();
    const off = this.#host.offsetMs();
    const f = this.#frame;
    if (f && now - f.displayAt < FRAME_STALE_MS) {
      const wall = this.#host.wallAt(f.mediaTime);
      const interval = 1000 / 30 / Math.max(0.5, this.#video.playbackRate || 1);
      if (Number.isFinite(wall)) return (f.displayAt + off - wall + Math.max(0, now - f.displayAt - interval - FRAME_GRACE_MS)) / 1000;
    }
    const wall = this.#host.wallAt(this.#video.currentTime);
    return Number.isFinite(wall) ? (now + off - wall) / 1000 : NaN;
  }

  /** Latency samples (s) since the last call, for a QoE report. */
  takeQoeSamples(): number[] {
    const s = this.#qoeSamples;
    this.#qoeSamples = [];
    return s;
  }

  /** The socket reconnected: once its media lands, resume at live if behind. */
  noteReconnect(): void {
    this.#reconnected = true;
  }

  /** A fresh MediaSource: start over at the live edge once media lands. */
  reset(): void {
    this.started = false;
    this.#reconnected = false;
    this.#frame = undefined;
    this.#control = { ...initialControlState(), stallsSeen: this.stalls.count };
    this.outage.reset();
  }

  /** The append queue drained: the moment to start, or to resync after a reconnect. */
  onIdle(): void {
    if (!Number.isFinite(this.#buf().end)) return;
    if (!this.started) {
      this.started = true;
      this.#reconnected = false;
      this.#seekToLive('start', -Infinity);
      if (this.#host.config().policy === 'nowcast') this.#openSync('start');
      this.#play();
    } else if (this.#reconnected) {
      this.#reconnected = false;
      if (this.#host.config().policy !== 'nowcast') return;
      this.#seekToLive('reconnect', SYNC_BEHIND_S);
      this.#openSync('reconnect');
    }
  }

  tick(): void {
    if (!this.started || this.#destroyed) return;
    const now = performance.now();
    const v = this.#video;
    const t = v.currentTime;
    const moving = t !== this.#lastTime;
    this.#lastTime = t;
    const starved = !moving && v.readyState < HAVE_FUTURE_DATA;
    // A stall ends when playback runs with data ahead again, not when it crawls through its
    // last decoded frames (one outage would count as several). Waiting for a publisher
    // that left is not a stall either.
    if (v.paused || this.#host.offline() || (moving && v.readyState >= HAVE_FUTURE_DATA)) this.stalls.end(now);
    else if (starved && !v.seeking) this.stalls.begin(now);
    this.#rateCheck = observeRate(this.#rateCheck, {
      // Not `moving`: WebKitGTK advances currentTime in steps coarser than a tick.
      now, mediaTime: t, rate: v.playbackRate, running: !v.paused && !v.seeking && v.readyState >= HAVE_FUTURE_DATA && !this.stalls.stalled,
    });
    if (this.#stuckSeek(now, v)) return;
    if (v.paused || v.seeking) return;

    const ranges = toRanges(this.#host.buffered());
    const buf = bufferInfo(ranges, t);
    const hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden';
    // Recovery at live after an outage comes first: the gap a relay's skip left is its to jump.
    let hold = false;
    if (this.#host.config().policy === 'nowcast' && !hidden) {
      const o = this.outage.step({
        now, stalled: this.stalls.stalled, bufferAhead: buf.toEnd, bufferEnd: buf.end, lastStart: buf.lastStart, targetBuffer: this.#targetBuffer(),
        keyframeAtOrBefore: (at) => this.#host.keyframe(at),
      });
      hold = o.hold === true;
      if (o.seekTo !== undefined && o.seekTo > t) {
        this.outageSeeks += 1;
        this.liveSeeks += 1;
        this.jumps += 1;
        // The controller's learnt state stays; its short rate correction closes what is left.
        this.#seek(o.seekTo, 'outage');
        return;
      }
    }
    const jump = hold ? undefined : gapJumpTarget(ranges, t, this.#host.config().maxGapJump, starved);
    if (jump !== undefined) {
      this.gapJumps += 1;
      this.#seek(jump, 'gap');
      return;
    }
    const latency = this.latency;
    if (Number.isFinite(latency) && !hidden && !this.stalls.stalled) {
      this.#qoeSamples.push(latency);
      if (this.#qoeSamples.length > MAX_QOE_SAMPLES) this.#qoeSamples.shift();
    }
    if (now < this.#syncUntil && buf.toEnd - this.#targetBuffer() > SYNC_BEHIND_S) {
      // One re-seek per window: on a bursty network repeated seeks only add stalls.
      this.#syncUntil = 0;
      this.#seekToLive(this.#syncReason, SYNC_BEHIND_S);
      return;
    }
    const prevRate = this.#control.rate;
    const jitter = this.#host.jitter();
    const d = decide({
      now, latency, bufferAhead: buf.toEnd, bufferEnd: buf.end, keyframe: this.#host.keyframe(buf.end),
      stalls: this.stalls.count, stalled: this.stalls.stalled, hidden, jitter: jitter.seen, sourceJitter: jitter.source,
    }, this.#control, this.params);
    this.#control = d.state;
    this.target = d.target;
    this.reason = d.reason;
    if (d.seekTo !== undefined && d.reason === 'unstall') {
      this.unstalls += 1;
      this.#seek(d.seekTo, 'unstall', false);
    } else if (d.seekTo !== undefined) {
      if (d.seekTo > t) {
        this.liveSeeks += 1;
        this.jumps += 1;
        this.#seek(Math.max(d.seekTo, buf.lastStart), d.reason === 'visible' ? 'visible' : d.reason === 'pin' ? 'pin' : 'live', false);
      }
    } else if (d.rate !== prevRate || Math.abs(v.playbackRate - d.rate) > 1e-3) {
      this.#setRate(d.rate);
    } else {
      return;
    }
    this.#host.emit('latency', { latency, bufferAhead: buf.toEnd, target: d.target, rate: d.rate, reason: d.reason });
  }

  /**
   * A seek still pending with media buffered after a gap (Chromium left one pending for good,
   * readyState 1, at the end of a range): jump to that media (timeline.ts stuckSeekTarget). True if it did.
   */
  #stuckSeek(now: number, v: HTMLVideoElement): boolean {
    if (!v.seeking) {
      this.#seekingSince = NaN;
      return false;
    }
    if (Number.isNaN(this.#seekingSince)) this.#seekingSince = now;
    const to = stuckSeekTarget(toRanges(this.#host.buffered()), v.currentTime, now - this.#seekingSince);
    if (to === undefined) return false;
    this.#seekingSince = now;
    this.gapJumps += 1;
    this.#seek(to, 'gap');
    return true;
  }

  /** Idempotent: removes every listener and the frame callback. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#video.removeEventListener('waiting', this.#onWaiting);
    this.#video.removeEventListener('playing', this.#onPlaying);
    for (const e of ['loadedmetadata', 'playing', 'seeked']) this.#video.removeEventListener(e, this.#armFrames);
    const v = this.#video as VideoWithFrames;
    if (this.#frameHandle && v.cancelVideoFrameCallback) v.cancelVideoFrameCallback(this.#frameHandle);
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.#onVisibility);
  }

  /** Buffer (s) that puts the frame on screen at the target latency. */
  #targetBuffer(): number {
    const p = this.params;
    const pipeline = Number.isFinite(this.#control.pipeline) ? this.#control.pipeline : DEFAULT_PIPELINE_S;
    const floor = Number.isFinite(this.#control.floor) ? this.#control.floor : p.minBuffer;
    return Math.max(floor, effectiveTarget(p, this.#control.raise) - pipeline);
  }

  #buf(): ReturnType<typeof bufferInfo> {
    return bufferInfo(toRanges(this.#host.buffered()), this.#video.currentTime);
  }

  #setRate(rate: number): void {
    if (Math.abs(this.#video.playbackRate - rate) > 1e-6) this.rateChanges += 1;
    this.#video.playbackRate = rate;
    this.maxRateUsed = Math.max(this.maxRateUsed, rate);
  }

  /** Seeks to buffered end − target buffer if more than `minBehind` s behind that. */
  #seekToLive(reason: SeekReason, minBehind: number): void {
    const buf = this.#buf();
    if (!Number.isFinite(buf.end)) return;
    const target = this.#targetBuffer();
    if (!(buf.end - this.#video.currentTime - target > minBehind)) return;
    const to = Math.max(buf.lastStart, buf.end - target);
    if (Math.abs(to - this.#video.currentTime) < 0.001) return;
    this.liveSeeks += 1;
    if (reason !== 'start') this.jumps += 1;
    this.#seek(to, reason);
  }

  #seek(to: number, reason: SeekReason, resetControl = true): void {
    const from = this.#video.currentTime;
    this.#host.log(`seek ${from.toFixed(3)} -> ${to.toFixed(3)} (${reason})`);
    this.#video.currentTime = to;
    this.#rateCheck = observeRate(this.#rateCheck, { now: performance.now(), mediaTime: to, rate: 1, running: false });
    if (resetControl) {
      const c = this.#control;
      // Keep what the controller learnt (stall raise, pipeline), forget the rate and band.
      this.#control = {
        ...initialControlState(), raise: c.raise, raiseAt: c.raiseAt, stallsSeen: c.stallsSeen, stallSince: c.stallSince, startedAt: c.startedAt,
        halvedAt: c.halvedAt, backoff: c.backoff, pipeline: c.pipeline, floor: c.floor, lastSeek: performance.now(),
      };
    }
    this.#setRate(this.#control.rate);
    this.#host.emit('seek', { from, to, reason });
  }

  #openSync(reason: SeekReason): void {
    this.#syncUntil = performance.now() + SYNC_WINDOW_MS;
    this.#syncReason = reason;
  }

  #play(): void {
    const p = this.#video.play();
    if (!p) return;
    p.catch((err: unknown) => {
      const name = (err as { name?: string } | null)?.name;
      if (name !== 'NotAllowedError' || this.#destroyed) return; // AbortError: a seek or src change interrupted it
      if (!this.#video.muted) {
        // Unmuted autoplay was refused: muted playback is allowed everywhere.
        this.#video.muted = true;
        this.#play();
      }
      this.#host.error('AUTOPLAY_BLOCKED', 'The browser blocked autoplay; a user gesture must start playback', false);
    });
  }

  /** (Re-)arms requestVideoFrameCallback: a new MediaSource drops pending callbacks. */
  readonly #armFrames = (): void => {
    const v = this.#video as VideoWithFrames;
    if (this.#destroyed || typeof v.requestVideoFrameCallback !== 'function') return;
    if (this.#frameHandle && v.cancelVideoFrameCallback) v.cancelVideoFrameCallback(this.#frameHandle);
    this.#frameHandle = v.requestVideoFrameCallback(this.#onFrame);
  };

  readonly #onFrame = (_now: number, meta: { mediaTime: number; expectedDisplayTime: number }): void => {
    if (this.#destroyed) return;
    const displayAt = performance.timeOrigin + meta.expectedDisplayTime;
    this.#frame = { mediaTime: meta.mediaTime, displayAt };
    if (this.started && !Number.isFinite(this.firstFrameAt)) this.firstFrameAt = displayAt;
    const v = this.#video as VideoWithFrames;
    this.#frameHandle = v.requestVideoFrameCallback!(this.#onFrame);
  };

  readonly #onWaiting = (): void => {
    if (this.started && !this.#video.seeking && !this.#host.offline()) this.stalls.begin(performance.now());
  };

  readonly #onPlaying = (): void => {
    this.stalls.end(performance.now());
    if (!Number.isFinite(this.firstFrameAt) && this.started && typeof (this.#video as VideoWithFrames).requestVideoFrameCallback !== 'function') {
      this.firstFrameAt = localNow();
    }
  };

  /** Back in view: let the controller decide at once (it jumps to live if well behind). */
  readonly #onVisibility = (): void => {
    if (!this.started) return;
    // The browser may pause a hidden video, so ticks need not see the tab hidden: note it here.
    if (document.visibilityState === 'hidden') this.#control = { ...this.#control, wasHidden: true };
    else this.tick();
  };
}
