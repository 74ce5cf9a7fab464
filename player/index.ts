// Nowcast player: a live fMP4-over-WebSocket stream into a <video> through MSE.
//   const player = new Player(video, { url: 'ws://host/live/NAME' });
//   // or, with edges to fail over between: { url: ['wss://edge-1/live/NAME', 'wss://edge-2/live/NAME'] }
//   player.on('error', (e) => ...); ... player.destroy();
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import type { QoeMessage, ServerMessage, ServiceDescription } from '../protocol/messages.js';
import { ClockSync, localNow } from './clock.js';
import { applyService, mergeConfig } from './config.js';
import type { PlayerConfig, PlayerOptions } from './config.js';
import { Emitter } from './events.js';
import type { Listener, PlayerError, PlayerEventMap, PlayerState, PlayerStats } from './events.js';
import { engineOptions, type EngineEvent } from './engine.js';
import { openMediaPath, releaseEarly } from './media-path.js';
import type { EarlyMedia, MediaPath } from './media-path.js';
import { MediaMirror } from './mirror.js';
import { mediaSourceCtor } from './mse.js';
import { Playback } from './playback.js';
import { PingSchedule } from './ping.js';
import { qoeReport } from './qoe.js';
import { MAX_RECOVERIES_PER_MIN, RecoveryBudget } from './recovery.js';
import { BitrateMeter } from './stats.js';
import { bufferInfo, toRanges } from './timeline.js';
import { HlsSession } from './hls-session.js';
import { StartupTimeline } from './startup.js';
import { resolveTransport } from './hls-transport.js';

export { applyService, DEFAULTS, isSafari, isWebKit, mergeConfig } from './config.js';
export type { PlayerConfig, PlayerOptions } from './config.js';
/** What a page started before the player loaded (an MSE worker, or an attached MediaSource): `new Player`'s third argument; docs/browsers.md. */
export type { EarlyMedia } from './media-path.js';
export type * from './events.js';
export type { ControlInput, ControlParams, ControlState, Decision, SafeMode } from './control.js';
export type { InfoMessage, PolicyName as Policy, QoeMessage, ServerMessage, ServiceDescription, TrackInfo } from '../protocol/messages.js';

export class Player {
  readonly video: HTMLVideoElement;
  #config: Readonly<PlayerConfig>;
  readonly #options: PlayerOptions;
  #service: ServiceDescription | undefined;
  readonly #clockSync = new ClockSync();
  readonly #pings = new PingSchedule();
  readonly #startedAt = localNow();
  readonly #startup = new StartupTimeline(this.#startedAt, typeof performance !== 'undefined' ? performance.timeOrigin : 0);
  #lastQoeAt = localNow();
  readonly #emitter = new Emitter<PlayerEventMap>();
  readonly #bitrate: BitrateMeter;
  readonly #playback: Playback;
  /** The socket, feed and SourceBuffer: in a worker where possible (player/media-path.ts). */
  #media: MediaPath | undefined;
  /** The LL-HLS path instead (config.transport; player/hls-session.ts). */
  #hls: HlsSession | undefined;
  readonly #mirror = new MediaMirror();
  #connected = false;
  #timers: Array<ReturnType<typeof setInterval>> = [];
  #state: PlayerState = 'connecting';
  #destroyed = false;
  readonly #recoveries = new RecoveryBudget();
  readonly #counts = { reconnects: 0, skips: 0 };
  /** What the page started early, until the first media path takes it (or it is released). */
  #early: EarlyMedia | undefined;

  constructor(video: HTMLVideoElement, options: PlayerOptions, early?: EarlyMedia) {
    this.video = video;
    this.#early = early;
    this.#options = { ...options };
    this.#config = Object.freeze(mergeConfig(this.#options));
    this.#bitrate = new BitrateMeter(this.config.bitrateWindowMs);
    video.muted = this.config.muted;
    video.playsInline = true;
    video.addEventListener('error', this.#onVideoError);
    this.#playback = new Playback(video, {
      buffered: () => (this.#media ? this.video.buffered : undefined),
      wallAt: (t) => this.#mirror.clock.wallAt(t),
      offsetMs: () => (Number.isFinite(this.#clockSync.offsetMs) ? this.#clockSync.offsetMs : 0),
      keyframe: (end) => this.#mirror.latestKeyframe(end),
      jitter: () => ({ seen: this.#mirror.jitterAt(localNow()), source: this.#mirror.sourceJitter }),
      config: () => this.#config,
      offline: () => this.#state === 'offline',
      emit: (event, payload) => this.#emitter.emit(event, payload),
      error: (code, message, fatal) => this.#error(code, message, fatal),
      log: (...args) => this.#log(...args),
    });
    // Deferred so listeners attached right after `new Player()` see the first events.
    queueMicrotask(() => this.#start());
  }

  on<K extends keyof PlayerEventMap>(event: K, fn: Listener<PlayerEventMap[K]>): this { this.#emitter.on(event, fn); return this; }

  off<K extends keyof PlayerEventMap>(event: K, fn: Listener<PlayerEventMap[K]>): this { this.#emitter.off(event, fn); return this; }

  get state(): PlayerState { return this.#state; }

  /** Wall-clock latency (s) of the frame on screen; NaN when unknown. */
  get latency(): number {
    return this.#hls ? this.#hls.latency : this.#playback.latency;
  }

  /** How media comes: the WebSocket, or LL-HLS (through hls.js, or the browser's own player); undefined before the start. */
  get transport(): 'ws' | 'hls' | 'hls-native' | undefined {
    return this.#hls ? (this.#hls.native ? 'hls-native' : 'hls') : this.#media ? 'ws' : undefined;
  }

  /** The configuration in force: defaults < the stream's hello.service < the page's options. */
  get config(): Readonly<PlayerConfig> {
    return this.#config;
  }

  /** The controller's effective latency target (s): the base, plus any stall raise. */
  get targetLatency(): number {
    return this.#playback.target;
  }

  /** Round-trip time (ms) to the relay: the smallest of the recent ping/pongs; NaN before one. */
  get rtt(): number {
    return this.#clockSync.rttMs;
  }

  /** Server minus local clock (ms) from the min-RTT ping/pong; NaN before one. */
  get clockOffsetMs(): number {
    return this.#clockSync.offsetMs;
  }

  /** @deprecated use clockOffsetMs. */
  get clockOffsetSample(): number {
    return this.#clockSync.offsetMs;
  }

  /** Overrides options at run time (e.g. a page's control); they take precedence over the service. */
  configure(options: Partial<PlayerConfig>): void {
    const next: PlayerOptions = { ...this.#options, ...options, url: this.#options.url };
    this.#config = Object.freeze(applyService(next, this.#service));
    Object.assign(this.#options, options);
  }

  get stats(): PlayerStats {
    if (this.#hls) return this.#hls.stats(this.#state, this.#startedAt);
    const now = performance.now();
    const q = typeof this.video.getVideoPlaybackQuality === 'function' ? this.video.getVideoPlaybackQuality() : undefined;
    const buf = bufferInfo(toRanges(this.#media ? this.video.buffered : undefined), this.video.currentTime);
    return {
      state: this.#state,
      latency: this.latency,
      targetLatency: this.#playback.target,
      buffer: buf.contiguous,
      bitrate: this.#bitrate.bitsPerSecond(now),
      droppedFrames: q?.droppedVideoFrames ?? 0,
      decodedFrames: q?.totalVideoFrames ?? 0,
      playbackRate: this.video.playbackRate,
      stalls: this.#playback.stalls.count,
      stallMs: Math.round(this.#playback.stalls.ms(now)),
      maxRate: this.#playback.maxRateUsed,
      rateChanges: this.#playback.rateChanges,
      jumps: this.#playback.jumps,
      unstalls: this.#playback.unstalls,
      policy: this.#config.policy,
      pinned: this.#config.pinned,
      safeMode: this.#playback.params.safeMode,
      rateVerdict: this.#playback.rateVerdict,
      reason: this.#playback.reason,
      startupMs: this.#startupMs,
      startup: this.#startup.times(this.#playback.firstFrameAt),
      ...this.#counts,
      gapJumps: this.#playback.gapJumps,
      liveSeeks: this.#playback.liveSeeks,
      droppedChunks: this.#mirror.droppedChunks,
      switches: this.#mirror.switches,
      rtt: this.#clockSync.rttMs,
      jitter: this.#mirror.jitterAt(localNow()),
      clockOffsetMs: this.#clockSync.offsetMs,
      generation: this.#mirror.info?.generation ?? -1,
      codecs: this.#mirror.info?.codecs ?? '',
      mseWorker: this.#media?.inWorker ?? false,
      managed: this.#media?.managed?.managed ? { ...this.#media.managed } : null,
    };
  }

  /** Idempotent: closes the socket, detaches MediaSource, clears timers and every listener. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.video.removeEventListener('error', this.#onVideoError);
    this.#playback.destroy();
    this.#media?.destroy();
    this.#media = undefined;
    this.#hls?.destroy();
    releaseEarly(this.#early);
    this.#setState('destroyed');
    this.#emitter.clear();
  }

  #start(): void {
    if (this.#destroyed) return;
    const c = this.config;
    const mse = mediaSourceCtor(c.mediaSource) !== undefined;
    const stats = setInterval(() => this.#emitter.has('stats') && this.#emitter.emit('stats', this.stats), c.statsIntervalMs);
    const early = this.#early;
    this.#early = undefined;
    if (resolveTransport(c.transport, mse) === 'hls') {
      releaseEarly(early);
      this.#timers.push(stats);
      const host = { config: () => this.#config, state: this.#setState.bind(this), error: this.#error.bind(this), log: this.#log.bind(this) };
      this.#hls = new HlsSession(this.video, typeof c.url === 'string' ? c.url : c.url[0]!, mse, host);
      return;
    }
    if (!mse) {
      releaseEarly(early);
      clearInterval(stats);
      this.#fail('MSE_UNSUPPORTED', 'This browser has no MediaSource Extensions');
      return;
    }
    const view = { started: (): boolean => this.#playback.started };
    this.#media = openMediaPath(this.video, engineOptions(c), c.worker, (ev) => this.#onEngine(ev), view, c.mediaSource, early);
    this.#timers.push(
      setInterval(() => {
        const started = this.#playback.started;
        this.#media?.command({ type: 'tick', currentTime: this.video.currentTime, started, backBufferSeconds: this.#config.backBufferSeconds });
        this.#playback.tick();
        this.#maybePing();
        this.#maybeQoe();
      }, c.tickIntervalMs),
      stats,
    );
  }

  #onEngine(ev: EngineEvent): void {
    if (this.#destroyed) return;
    this.#startup.note(ev, localNow());
    if (this.#mirror.apply(ev)) return;
    switch (ev.type) {
      case 'open':
        this.#connected = true;
        this.#pings.opened(localNow());
        break;
      case 'close':
        this.#connected = false;
        this.#log('socket closed', ev.info);
        if (!ev.info.retry) break;
        this.#counts.reconnects += 1;
        this.#playback.noteReconnect();
        this.#setState('reconnecting', String(ev.info.code), ev.info.reason);
        this.#emitter.emit('reconnect', ev.info.retry);
        break;
      case 'message':
        this.#onMessage(ev.msg, ev.at, ev.unsupported);
        break;
      case 'malformed':
        this.#error('PROTOCOL_ERROR', `Malformed text frame: ${ev.text.slice(0, 80)}`, false);
        break;
      case 'giveUp':
        this.#fail('RECONNECT_EXHAUSTED', `Gave up after ${ev.attempts} reconnect attempts`);
        break;
      case 'frame':
        this.#bitrate.add(ev.bytes, performance.now());
        if (ev.kind === 'init' || ev.kind === 'media') this.#recoveries.mediaArrived();
        if (ev.kind === 'media' && this.#state !== 'live' && this.#state !== 'offline') this.#setState('live');
        break;
      case 'restarted':
        this.#playback.reset();
        break;
      case 'idle':
        this.#playback.onIdle();
        break;
      case 'mediaError':
        this.#onMediaError(ev.code, ev.message);
        break;
      case 'protocolError':
        this.#error('PROTOCOL_ERROR', ev.message, false);
        break;
      case 'log':
        this.#log(ev.text);
        break;
    }
  }

  #onMessage(msg: ServerMessage, at: number, unsupported: string | undefined): void {
    switch (msg.type) {
      case 'hello':
        if (msg.version !== PROTOCOL_VERSION) {
          this.#error('PROTOCOL_ERROR', `Relay speaks protocol v${msg.version}, player v${PROTOCOL_VERSION}`, false);
        }
        if (msg.service && typeof msg.service === 'object') {
          this.#service = msg.service;
          try {
            this.#config = Object.freeze(applyService(this.#options, msg.service));
          } catch (e) {
            // A service the player cannot use (e.g. max below min) keeps the current config.
            this.#log('ignoring hello.service', msg.service, String(e));
          }
        }
        // A pin or cap of the rendition (ABR), on every connection: the relay keeps it per socket.
        if (this.#config.rendition !== null || this.#config.maxHeight > 0) {
          this.#media?.command({ type: 'send', msg: { type: 'rendition', rendition: this.#config.rendition, maxHeight: this.#config.maxHeight } });
        }
        break;
      case 'info': {
        this.#emitter.emit('info', msg);
        if (unsupported !== undefined) {
          const text = `This browser cannot play codec ${unsupported} (${msg.mime})`;
          this.#setState('error', 'CODEC_UNSUPPORTED', text);
          this.#error('CODEC_UNSUPPORTED', text, true);
        }
        break;
      }
      case 'state':
        // The relay's "live" does not make an undecodable stream playable.
        if (msg.state === 'live' && this.#mirror.unsupported) break;
        this.#setState(msg.state, msg.code, msg.message);
        if (msg.state === 'error') this.#error(msg.code ?? 'STREAM_ERROR', msg.message ?? 'The stream failed', false);
        break;
      case 'skip':
        this.#counts.skips += 1;
        this.#emitter.emit('skip', { chunks: msg.chunks, bytes: msg.bytes });
        break;
      case 'error':
        this.#error(msg.code, msg.message, false);
        break;
      case 'pong': {
        if (typeof msg.t0 !== 'number' || typeof msg.serverTime !== 'number') break;
        // Timed where it arrived (the worker, maybe): a busy page does not inflate the RTT.
        this.#clockSync.add(msg.t0, at, msg.serverTime);
        if (Number.isFinite(this.#clockSync.offsetMs)) this.#mirror.clock.offsetMs = this.#clockSync.offsetMs;
        break;
      }
    }
  }

  /** Local ms from start to the first presented frame; NaN before it. */
  get #startupMs(): number {
    return this.#playback.firstFrameAt - this.#startedAt;
  }

  /** Pings from the tick: a few quick ones once the join burst is over, then every pingIntervalMs. */
  #maybePing(): void {
    if (!this.#connected || !this.#pings.due(localNow(), this.#config.pingIntervalMs)) return;
    // The engine stamps t0 as the ping leaves, on the clock the pong is timed with.
    this.#media?.command({ type: 'ping' });
  }

  #maybeQoe(): void {
    const c = this.#config;
    const now = localNow();
    if (!c.qoe || now - this.#lastQoeAt < c.qoeIntervalMs || !this.#connected) return;
    const intervalMs = now - this.#lastQoeAt;
    this.#lastQoeAt = now;
    this.#media?.command({ type: 'send', msg: this.qoeReport(intervalMs) });
  }

  /** The QoE report for the interval just ended (see protocol/messages.ts QoeMessage). */
  qoeReport(intervalMs: number): QoeMessage {
    return qoeReport(this.stats, this.#playback.takeQoeSamples(), intervalMs);
  }

  #onMediaError(code: 'APPEND_FAILED' | 'MEDIA_ERROR', message: string): void {
    if (this.#destroyed || !this.#media) return;
    // One broken append fires both a SourceBuffer and a <video> error: counted once (recovery.ts).
    const verdict = this.#recoveries.note(performance.now());
    if (verdict === 'duplicate') return;
    if (verdict === 'give-up') {
      this.#fail(code, `${message}; giving up after ${MAX_RECOVERIES_PER_MIN} recoveries in a minute`);
      return;
    }
    this.#error(code, `${message}; recovering`, false);
    // A new MediaSource and a new connection: the relay resends info, init and a keyframe.
    this.#media.command({ type: 'recreate' });
  }

  readonly #onVideoError = (): void => {
    const e = this.video.error;
    if (e) this.#onMediaError('MEDIA_ERROR', `<video> error ${e.code}${e.message ? `: ${e.message}` : ''}`);
  };

  #setState(state: PlayerState, code?: string, message?: string): void {
    if (state === this.#state || this.#state === 'destroyed') return;
    const previous = this.#state;
    this.#state = state;
    this.#log(`state ${previous} -> ${state}`, code ?? '', message ?? '');
    this.#emitter.emit('state', { state, previous, code, message });
  }

  #error(code: PlayerError['code'], message: string, fatal: boolean): void {
    this.#log(`error ${code}: ${message}`);
    this.#emitter.emit('error', { code, message, fatal });
  }

  /** Fatal: stop the network and timers, keep the element as it is. */
  #fail(code: PlayerError['code'], message: string): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#media?.command({ type: 'stop' });
    this.#setState('error', code, message);
    this.#error(code, message, true);
  }

  #log(...args: unknown[]): void {
    if (this.config.debug) console.debug('[nowcast]', ...args);
  }
}
