// Playback control on the <video>: start at the live edge, the periodic tick (stalls, gap
// jumps, the latency controller), seeks to live after a reconnect or a hidden tab.
import type { PlayerConfig } from './config.js';
import type { PlayerError, PlayerEventMap, SeekReason } from './events.js';
import { decide, initialControlState } from './latency.js';
import { StallTracker } from './stats.js';
import { bufferInfo, gapJumpTarget, toRanges } from './timeline.js';

/** After start, a reconnect or the tab becoming visible, re-seek to live while the burst settles. */
const SYNC_WINDOW_MS = 1500;
/** "Behind" for those re-seeks: seconds beyond target. Less is left to the rate controller. */
const SYNC_BEHIND_S = 0.5;
const HAVE_FUTURE_DATA = 3;

export interface PlaybackHost {
  buffered(): TimeRanges | undefined;
  /** Wall-clock latency (s) of media time t. */
  latencyAt(t: number): number;
  /** No publisher: the stream is waiting, playback is not stalling. */
  offline(): boolean;
  emit<K extends keyof PlayerEventMap>(event: K, payload: PlayerEventMap[K]): void;
  error(code: PlayerError['code'], message: string, fatal: boolean): void;
  log(...args: unknown[]): void;
}

export class Playback {
  /** First seek-to-live + play() done on this MediaSource. */
  started = false;
  readonly stalls = new StallTracker();
  gapJumps = 0;
  liveSeeks = 0;
  private control = initialControlState();
  private reconnected = false;
  private syncUntil = 0;
  private syncReason: SeekReason = 'start';
  private lastTime = NaN;
  private destroyed = false;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly config: Readonly<PlayerConfig>,
    private readonly host: PlaybackHost,
  ) {
    video.addEventListener('waiting', this.onWaiting);
    video.addEventListener('playing', this.onPlaying);
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.onVisibility);
  }

  /** Wall-clock latency (s) of the frame on screen; NaN before playback started. */
  get latency(): number {
    return this.started ? this.host.latencyAt(this.video.currentTime) : NaN;
  }

  /** The socket reconnected: once its media lands, resume at live if behind. */
  noteReconnect(): void {
    this.reconnected = true;
  }

  /** A fresh MediaSource: start over at the live edge once media lands. */
  reset(): void {
    this.started = false;
    this.reconnected = false;
    this.control = initialControlState();
  }

  /** The append queue drained: the moment to start, or to resync after a reconnect. */
  onIdle(): void {
    if (!Number.isFinite(this.buf().end)) return;
    if (!this.started) {
      this.started = true;
      this.reconnected = false;
      this.seekToLive('start', -Infinity);
      this.openSync('start');
      this.play();
    } else if (this.reconnected) {
      this.reconnected = false;
      this.seekToLive('reconnect', SYNC_BEHIND_S);
      this.openSync('reconnect');
    }
  }

  tick(): void {
    if (!this.started || this.destroyed) return;
    const now = performance.now();
    const v = this.video;
    const t = v.currentTime;
    const moving = t !== this.lastTime;
    this.lastTime = t;
    const starved = !moving && v.readyState < HAVE_FUTURE_DATA;
    // A stall ends when playback runs with data ahead again, not when it crawls through its
    // last decoded frames (one outage would count as several). Waiting for a publisher
    // that left is not a stall either.
    if (v.paused || this.host.offline() || (moving && v.readyState >= HAVE_FUTURE_DATA)) this.stalls.end(now);
    else if (starved && !v.seeking) this.stalls.begin(now);
    if (v.paused || v.seeking) return;

    const ranges = toRanges(this.host.buffered());
    const jump = gapJumpTarget(ranges, t, this.config.maxGapJump, starved);
    if (jump !== undefined) {
      this.gapJumps += 1;
      this.seek(jump, 'gap');
      return;
    }
    const buf = bufferInfo(ranges, t);
    const target = this.config.targetLatency;
    if (now < this.syncUntil && buf.toEnd - target > SYNC_BEHIND_S) {
      // One re-seek per window: on a bursty network repeated seeks only add stalls.
      this.syncUntil = 0;
      this.seekToLive(this.syncReason, SYNC_BEHIND_S);
      return;
    }
    const prevRate = this.control.rate;
    const latency = this.latency;
    const d = decide({ now, bufferAhead: buf.toEnd, bufferEnd: buf.end, target, latency }, this.control, this.config);
    this.control = d.state;
    if (d.seekTo !== undefined) {
      this.liveSeeks += 1;
      this.seek(Math.max(d.seekTo, buf.lastStart), 'live', false);
    } else if (d.rate !== prevRate || Math.abs(v.playbackRate - d.rate) > 1e-3) {
      v.playbackRate = d.rate;
    } else {
      return;
    }
    this.host.emit('latency', { latency, bufferAhead: buf.toEnd, target, rate: d.rate, reason: d.reason });
  }

  destroy(): void {
    this.destroyed = true;
    this.video.removeEventListener('waiting', this.onWaiting);
    this.video.removeEventListener('playing', this.onPlaying);
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.onVisibility);
  }

  private buf(): ReturnType<typeof bufferInfo> {
    return bufferInfo(toRanges(this.host.buffered()), this.video.currentTime);
  }

  /** Seeks to buffered end − target if more than `minBehind` s behind that. */
  private seekToLive(reason: SeekReason, minBehind: number): void {
    const buf = this.buf();
    if (!Number.isFinite(buf.end)) return;
    const target = this.config.targetLatency;
    if (!(buf.end - this.video.currentTime - target > minBehind)) return;
    const to = Math.max(buf.lastStart, buf.end - target);
    if (Math.abs(to - this.video.currentTime) < 0.001) return;
    this.liveSeeks += 1;
    this.seek(to, reason);
  }

  private seek(to: number, reason: SeekReason, resetControl = true): void {
    const from = this.video.currentTime;
    this.host.log(`seek ${from.toFixed(3)} -> ${to.toFixed(3)} (${reason})`);
    this.video.currentTime = to;
    if (resetControl) this.control = { ...initialControlState(), lastSeek: performance.now() };
    this.video.playbackRate = this.control.rate;
    this.host.emit('seek', { from, to, reason });
  }

  private openSync(reason: SeekReason): void {
    this.syncUntil = performance.now() + SYNC_WINDOW_MS;
    this.syncReason = reason;
  }

  private play(): void {
    const p = this.video.play();
    if (!p) return;
    p.catch((err: unknown) => {
      const name = (err as { name?: string } | null)?.name;
      if (name !== 'NotAllowedError' || this.destroyed) return; // AbortError: a seek or src change interrupted it
      if (!this.video.muted) {
        // Unmuted autoplay was refused: muted playback is allowed everywhere.
        this.video.muted = true;
        this.play();
      }
      this.host.error('AUTOPLAY_BLOCKED', 'The browser blocked autoplay; a user gesture must start playback', false);
    });
  }

  private readonly onWaiting = (): void => {
    if (this.started && !this.video.seeking && !this.host.offline()) this.stalls.begin(performance.now());
  };

  private readonly onPlaying = (): void => this.stalls.end(performance.now());

  private readonly onVisibility = (): void => {
    if (document.visibilityState !== 'visible' || !this.started) return;
    this.seekToLive('visible', SYNC_BEHIND_S);
    this.openSync('visible');
  };
}
