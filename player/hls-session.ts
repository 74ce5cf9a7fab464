// The player's LL-HLS path (config.transport 'hls', or 'auto' without MSE): the relay's
// /hls/NAME/index.m3u8 played by hls.js in lowLatencyMode, or natively where there is no MSE
// (iOS before 17.1). hls.js sits in a second bundle (dist/player/hls.js, player/hls-bundle.ts),
// loaded on demand, so the WebSocket path never downloads it.
//
// What differs from the WebSocket path: hls.js holds its own latency (PART-HOLD-BACK, about
// 0.6 s behind the newest part; our controller does not run); latency is the wall clock minus
// EXT-X-PROGRAM-DATE-TIME of the position played, with no clock offset (no ping/pong: the
// clocks are assumed in sync); no QoE reports, skips, rtt or generation. Stalls, startup,
// bitrate, buffer, frames and reconnects are counted as on the WebSocket path.
import { localNow } from './clock.js';
import type { PlayerConfig } from './config.js';
import type { PlayerError, PlayerState, PlayerStats, StartupTimes } from './events.js';
import { BitrateMeter, StallTracker } from './stats.js';
import { bufferInfo, toRanges } from './timeline.js';
import { hlsSyncTarget, hlsUrl, useNativeHls } from './hls-transport.js';

/** What hls.js tells the session, through the second bundle's adapter. */
export interface HlsEvents {
  /** Bytes of a loaded part or segment. */
  bytes(n: number): void;
  /** The codecs hls.js buffers, video first. */
  codecs(codecs: string): void;
  /** An error hls.js gave up on; `status`: the HTTP status of a failed load (0: none). */
  fatal(kind: 'network' | 'media' | 'other', details: string, status: number): void;
}

/** One hls.js instance, attached and loading. */
export interface HlsHandle {
  /** Wall clock of the position played (EXT-X-PROGRAM-DATE-TIME), or null before one. */
  playingDate(): Date | null;
  /** hls.js's latency target (s), or null. */
  targetLatency(): number | null;
  destroy(): void;
}

export interface HlsSettings {
  backBufferSeconds: number;
  maxRate: number;
  debug: boolean;
}

/** The second bundle's export (player/hls-bundle.ts). */
export type CreateHls = (video: HTMLVideoElement, url: string, settings: HlsSettings, events: HlsEvents) => HlsHandle;

export interface HlsSessionHost {
  config(): Readonly<PlayerConfig>;
  state(state: PlayerState, code?: string, message?: string): void;
  error(code: PlayerError['code'], message: string, fatal: boolean): void;
  log(...args: unknown[]): void;
}

/** How often the session checks its distance to hls.js's target (ms). */
const SYNC_INTERVAL_MS = 250;

/** Loads dist/player/hls.js from beside the player's own bundle. */
export function loadBundle(): Promise<CreateHls> {
  const url = new URL('./hls.js', import.meta.url).href;
  return (import(/* @vite-ignore */ url) as Promise<{ createHls: CreateHls }>).then((m) => m.createHls);
}

type VideoWithDate = HTMLVideoElement & { getStartDate?: () => Date };

export class HlsSession {
  readonly native: boolean;
  readonly stalls = new StallTracker();
  reconnects = 0;
  rateChanges = 0;
  maxRate = 1;
  /** Jumps to hls.js's target latency (at the start, and after falling behind). */
  liveSeeks = 0;
  /** Local ms of the first frame played (NaN before). */
  firstFrameAt = NaN;
  readonly #video: HTMLVideoElement;
  readonly #url: string;
  readonly #host: HlsSessionHost;
  readonly #bitrate: BitrateMeter;
  #create: CreateHls | null = null;
  #handle: HlsHandle | null = null;
  #codecs = '';
  #attempts = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #sync: ReturnType<typeof setInterval> | undefined;
  #destroyed = false;

  /** `wsUrl`: the stream's WebSocket URL (ws://HOST/live/NAME), whose playlist is played (hlsUrl). */
  constructor(video: HTMLVideoElement, wsUrl: string, hasMse: boolean, host: HlsSessionHost, load: () => Promise<CreateHls> = loadBundle) {
    this.#video = video;
    this.#host = host;
    this.#bitrate = new BitrateMeter(host.config().bitrateWindowMs);
    this.native = useNativeHls(typeof video.canPlayType === 'function' ? video.canPlayType('application/vnd.apple.mpegurl') : '', hasMse);
    let url = '';
    try { url = hlsUrl(wsUrl); } catch (e) { this.#unavailable(e); }
    this.#url = url;
    if (url && !hasMse && !this.native) this.#unavailable('This browser has neither MediaSource Extensions nor HLS of its own', 'MSE_UNSUPPORTED');
    if (!url || (!hasMse && !this.native)) return;
    video.addEventListener('playing', this.#onPlaying);
    video.addEventListener('waiting', this.#onWaiting);
    video.addEventListener('ratechange', this.#onRate);
    video.addEventListener('error', this.#onVideoError);
    this.#sync = setInterval(this.#syncToTarget, SYNC_INTERVAL_MS);
    host.log(`LL-HLS ${this.native ? 'natively' : 'through hls.js'}: ${url}`);
    if (this.native) this.#open();
    else {
      load().then((create) => {
        this.#create = create;
        this.#open();
      }, (e: unknown) => { if (!this.#destroyed) this.#unavailable(`cannot load the hls.js bundle: ${e instanceof Error ? e.message : String(e)}`); });
    }
  }

  #unavailable(e: unknown, code = 'HLS_UNAVAILABLE'): void {
    const text = e instanceof Error ? e.message : String(e);
    this.#host.state('error', code, text);
    this.#host.error(code, text, true);
  }

  /** Wall-clock latency (s) of the position played; NaN before the first frame or without PROGRAM-DATE-TIME. */
  get latency(): number {
    if (!Number.isFinite(this.firstFrameAt)) return NaN;
    const v = this.#video as VideoWithDate;
    const wall = this.native
      ? (v.getStartDate?.().getTime() ?? NaN) + v.currentTime * 1000
      : (this.#handle?.playingDate()?.getTime() ?? NaN);
    return Number.isFinite(wall) ? (Date.now() - wall) / 1000 : NaN;
  }

  stats(state: PlayerState, startedAt: number): PlayerStats {
    const v = this.#video;
    const now = performance.now();
    const q = typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : undefined;
    const c = this.#host.config();
    return {
      state, latency: this.latency, targetLatency: this.#handle?.targetLatency() ?? NaN,
      buffer: bufferInfo(toRanges(v.buffered), v.currentTime).contiguous, bitrate: this.#bitrate.bitsPerSecond(now),
      droppedFrames: q?.droppedVideoFrames ?? 0, decodedFrames: q?.totalVideoFrames ?? 0, playbackRate: v.playbackRate,
      stalls: this.stalls.count, stallMs: Math.round(this.stalls.ms(now)), maxRate: this.maxRate, rateChanges: this.rateChanges,
      jumps: Math.max(0, this.liveSeeks - 1), unstalls: 0, policy: c.policy, pinned: false, safeMode: 'off', rateVerdict: 'unknown', reason: 'idle',
      startupMs: this.firstFrameAt - startedAt, startup: this.#startup(startedAt), reconnects: this.reconnects, skips: 0, gapJumps: 0, liveSeeks: this.liveSeeks, droppedChunks: 0,
      rtt: NaN, jitter: NaN, clockOffsetMs: NaN, generation: -1, switches: 0, codecs: this.#codecs, mseWorker: false, managed: null,
    };
  }

  /** Only the player's start and the first frame: hls.js's own stages are not ours to time. */
  #startup(startedAt: number): StartupTimes {
    const origin = performance.timeOrigin;
    return { player: startedAt - origin, open: NaN, media: NaN, appended: NaN, frame: this.firstFrameAt - origin };
  }

  /** Idempotent: stops loading, detaches hls.js, removes every listener. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    clearTimeout(this.#retry);
    clearInterval(this.#sync);
    this.#close();
    const v = this.#video;
    v.removeEventListener('playing', this.#onPlaying);
    v.removeEventListener('waiting', this.#onWaiting);
    v.removeEventListener('ratechange', this.#onRate);
    v.removeEventListener('error', this.#onVideoError);
  }

  #open(): void {
    if (this.#destroyed) return;
    const c = this.#host.config();
    if (this.native) this.#video.src = this.#url;
    else {
      this.#handle = this.#create!(this.#video, this.#url, { backBufferSeconds: c.backBufferSeconds, maxRate: c.maxRate, debug: c.debug }, {
        bytes: (n) => this.#bitrate.add(n, performance.now()),
        codecs: (codecs) => { this.#codecs = codecs; },
        fatal: (kind, details, status) => this.#retryAfter(kind, details, status),
      });
    }
    this.#video.play()?.catch((err: unknown) => {
      if ((err as { name?: string } | null)?.name === 'NotAllowedError' && !this.#destroyed) {
        this.#host.error('AUTOPLAY_BLOCKED', 'The browser blocked autoplay; a user gesture must start playback', false);
      }
    });
  }

  #close(): void {
    this.#handle?.destroy();
    this.#handle = null;
    if (this.native) {
      this.#video.removeAttribute('src');
      this.#video.load();
    }
  }

  /** A failure hls.js (or the element) gave up on: start over after a backoff, as the WebSocket path reconnects. */
  #retryAfter(kind: string, details: string, status: number): void {
    if (this.#destroyed) return;
    this.#close();
    const c = this.#host.config();
    const message = `LL-HLS ${kind} error: ${details}${status ? ` (HTTP ${status})` : ''}`;
    this.#host.error(`HLS_${kind.toUpperCase()}_ERROR`, message, false);
    if (!c.reconnect || this.#attempts >= c.maxReconnectAttempts) {
      this.#host.state('error', 'RECONNECT_EXHAUSTED', message);
      this.#host.error('RECONNECT_EXHAUSTED', `Gave up after ${this.#attempts} attempts: ${message}`, true);
      return;
    }
    // 404: the stream is not live (the relay holds no playlist for it); wait for it like the WebSocket does.
    if (status === 404) this.#host.state('offline', 'HLS_NOT_FOUND', message);
    else this.#host.state('reconnecting', `HLS_${kind.toUpperCase()}_ERROR`, message);
    const bound = Math.min(c.reconnectMaxMs, c.reconnectBaseMs * 2 ** this.#attempts++);
    this.reconnects++;
    this.#retry = setTimeout(() => this.#open(), Math.random() * bound);
  }

  readonly #onPlaying = (): void => {
    this.stalls.end(performance.now());
    if (!Number.isFinite(this.firstFrameAt)) this.firstFrameAt = localNow();
    this.#attempts = 0;
    this.#host.state('live');
  };

  /** hls.js's target, kept by a jump rather than by its rate (see hlsSyncTarget). */
  readonly #syncToTarget = (): void => {
    const v = this.#video;
    const target = this.#handle?.targetLatency();
    if (!target || v.paused || v.seeking || !Number.isFinite(this.firstFrameAt)) return;
    const to = hlsSyncTarget(toRanges(v.buffered), v.currentTime, target);
    if (to === undefined) return;
    this.#host.log(`LL-HLS: ${(to - v.currentTime).toFixed(3)} s behind hls.js's target ${target.toFixed(3)} s; jumping`);
    this.liveSeeks++;
    v.currentTime = to;
  };

  readonly #onWaiting = (): void => {
    if (Number.isFinite(this.firstFrameAt) && !this.#video.seeking) this.stalls.begin(performance.now());
  };

  readonly #onRate = (): void => {
    this.rateChanges++;
    this.maxRate = Math.max(this.maxRate, this.#video.playbackRate);
  };

  /** Natively, the element's own error is the only one there is. */
  readonly #onVideoError = (): void => {
    const e = this.#video.error;
    if (this.native && e && this.#video.getAttribute('src')) this.#retryAfter('media', `<video> error ${e.code}${e.message ? `: ${e.message}` : ''}`, 0);
  };
}
