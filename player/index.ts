// Nowcast player: a live fMP4-over-WebSocket stream into a <video> through MSE.
//   const player = new Player(video, { url: 'ws://host/live/NAME' });
//   player.on('error', (e) => ...); ... player.destroy();
import { PROTOCOL_VERSION } from '../relay/protocol.js';
import type { ServerMessage } from '../relay/protocol.js';
import { mergeConfig } from './config.js';
import type { PlayerConfig, PlayerOptions } from './config.js';
import { Emitter } from './events.js';
import type { Listener, PlayerError, PlayerEventMap, PlayerState, PlayerStats } from './events.js';
import { MediaFeed } from './feed.js';
import { mediaSourceCtor } from './mse.js';
import { Playback } from './playback.js';
import { BitrateMeter } from './stats.js';
import { bufferInfo, toRanges } from './timeline.js';
import { Transport } from './transport.js';

export { DEFAULTS, mergeConfig } from './config.js';
export type { PlayerConfig, PlayerOptions } from './config.js';
export type * from './events.js';
export type { ControlInput, ControlParams, ControlState, Decision } from './latency.js';
export type { InfoMessage, ServerMessage, TrackInfo } from '../relay/protocol.js';

/** More media errors than this within a minute is fatal. */
const MAX_RECOVERIES_PER_MIN = 3;

export class Player {
  readonly config: Readonly<PlayerConfig>;
  private readonly emitter = new Emitter<PlayerEventMap>();
  private readonly bitrate: BitrateMeter;
  private readonly playback: Playback;
  private transport: Transport | undefined;
  private feed: MediaFeed | undefined;
  private timers: Array<ReturnType<typeof setInterval>> = [];
  private _state: PlayerState = 'connecting';
  private destroyed = false;
  private recoveries: number[] = [];
  private counts = { reconnects: 0, skips: 0 };
  private rttMs = NaN;
  private offsetSampleMs = NaN;

  constructor(
    readonly video: HTMLVideoElement,
    options: PlayerOptions,
  ) {
    this.config = Object.freeze(mergeConfig(options));
    this.bitrate = new BitrateMeter(this.config.bitrateWindowMs);
    video.muted = this.config.muted;
    video.playsInline = true;
    video.addEventListener('error', this.onVideoError);
    this.playback = new Playback(video, this.config, {
      buffered: () => this.feed?.sink.buffered,
      latencyAt: (t) => this.feed?.clock.latencyAt(t) ?? NaN,
      offline: () => this._state === 'offline',
      emit: (event, payload) => this.emitter.emit(event, payload),
      error: (code, message, fatal) => this.error(code, message, fatal),
      log: (...args) => this.log(...args),
    });
    // Deferred so listeners attached right after `new Player()` see the first events.
    queueMicrotask(() => this.start());
  }

  on<K extends keyof PlayerEventMap>(event: K, fn: Listener<PlayerEventMap[K]>): this {
    this.emitter.on(event, fn);
    return this;
  }

  off<K extends keyof PlayerEventMap>(event: K, fn: Listener<PlayerEventMap[K]>): this {
    this.emitter.off(event, fn);
    return this;
  }

  get state(): PlayerState {
    return this._state;
  }

  /** Wall-clock latency (s) of the frame on screen; NaN when unknown. */
  get latency(): number {
    return this.playback.latency;
  }

  get targetLatency(): number {
    return this.config.targetLatency;
  }

  /** Round-trip time (ms) to the relay from ping/pong; NaN until the first pong. */
  get rtt(): number {
    return this.rttMs;
  }

  /**
   * Latest server-minus-local clock sample (ms) from ping/pong, NaN until the first pong.
   * Not applied yet: the hook for a later MediaClock.offsetMs estimate.
   */
  get clockOffsetSample(): number {
    return this.offsetSampleMs;
  }

  get stats(): PlayerStats {
    const now = performance.now();
    const q = typeof this.video.getVideoPlaybackQuality === 'function' ? this.video.getVideoPlaybackQuality() : undefined;
    const buf = bufferInfo(toRanges(this.feed?.sink.buffered), this.video.currentTime);
    return {
      state: this._state,
      latency: this.latency,
      targetLatency: this.config.targetLatency,
      buffer: buf.contiguous,
      bitrate: this.bitrate.bitsPerSecond(now),
      droppedFrames: q?.droppedVideoFrames ?? 0,
      decodedFrames: q?.totalVideoFrames ?? 0,
      playbackRate: this.video.playbackRate,
      stalls: this.playback.stalls.count,
      stallMs: Math.round(this.playback.stalls.ms(now)),
      ...this.counts,
      gapJumps: this.playback.gapJumps,
      liveSeeks: this.playback.liveSeeks,
      droppedChunks: this.feed?.sink.droppedChunks ?? 0,
      rtt: this.rttMs,
      generation: this.feed?.info?.generation ?? -1,
      codecs: this.feed?.info?.codecs ?? '',
    };
  }

  /** Idempotent: closes the socket, detaches MediaSource, clears timers and every listener. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.transport?.close();
    this.transport = undefined;
    this.video.removeEventListener('error', this.onVideoError);
    this.playback.destroy();
    this.feed?.destroy();
    this.feed = undefined;
    this.setState('destroyed');
    this.emitter.clear();
  }

  private start(): void {
    if (this.destroyed) return;
    if (!mediaSourceCtor()) {
      this.fail('MSE_UNSUPPORTED', 'This browser has no MediaSource Extensions');
      return;
    }
    this.feed = new MediaFeed(this.video, {
      idle: () => this.playback.onIdle(),
      error: (code, message) => this.onMediaError(code, message),
      started: () => this.playback.started,
      restarted: () => this.playback.reset(),
      protocolError: (message) => this.error('PROTOCOL_ERROR', message, false),
      log: (...args) => this.log(...args),
    });
    const c = this.config;
    this.transport = new Transport(
      c.url,
      { reconnect: c.reconnect, baseMs: c.reconnectBaseMs, maxMs: c.reconnectMaxMs, maxAttempts: c.maxReconnectAttempts },
      {
        open: () => this.ping(),
        message: (m) => this.onMessage(m),
        binary: (d) => this.onBinary(d),
        close: (info) => {
          this.log('socket closed', info);
          if (!info.retry) return;
          this.counts.reconnects += 1;
          this.playback.noteReconnect();
          this.feed?.disconnected();
          this.setState('reconnecting', String(info.code), info.reason);
          this.emitter.emit('reconnect', info.retry);
        },
        malformed: (text) => this.error('PROTOCOL_ERROR', `Malformed text frame: ${text.slice(0, 80)}`, false),
        giveUp: (n) => this.fail('RECONNECT_EXHAUSTED', `Gave up after ${n} reconnect attempts`),
      },
    );
    this.transport.connect();
    this.timers.push(
      setInterval(() => {
        this.feed?.sink.trimBackBuffer(c.backBufferSeconds);
        this.playback.tick();
      }, c.tickIntervalMs),
      setInterval(() => this.ping(), c.pingIntervalMs),
      setInterval(() => this.emitter.has('stats') && this.emitter.emit('stats', this.stats), c.statsIntervalMs),
    );
  }

  private onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case 'hello':
        if (msg.version !== PROTOCOL_VERSION) {
          this.error('PROTOCOL_ERROR', `Relay speaks protocol v${msg.version}, player v${PROTOCOL_VERSION}`, false);
        }
        break;
      case 'info': {
        this.emitter.emit('info', msg);
        const bad = this.feed?.announce(msg);
        if (bad !== undefined) {
          const text = `This browser cannot play codec ${bad} (${msg.mime})`;
          this.setState('error', 'CODEC_UNSUPPORTED', text);
          this.error('CODEC_UNSUPPORTED', text, true);
        }
        break;
      }
      case 'state':
        // The relay's "live" does not make an undecodable stream playable.
        if (msg.state === 'live' && this.feed?.unsupported) break;
        this.setState(msg.state, msg.code, msg.message);
        if (msg.state === 'error') this.error(msg.code ?? 'STREAM_ERROR', msg.message ?? 'The stream failed', false);
        break;
      case 'skip':
        this.counts.skips += 1;
        this.emitter.emit('skip', { chunks: msg.chunks, bytes: msg.bytes });
        break;
      case 'error':
        this.error(msg.code, msg.message, false);
        break;
      case 'pong': {
        const now = Date.now();
        const sample = now - msg.t0;
        if (!(sample >= 0 && sample < 60_000)) break;
        this.rttMs = Number.isFinite(this.rttMs) ? this.rttMs * 0.8 + sample * 0.2 : sample;
        this.offsetSampleMs = msg.serverTime - (msg.t0 + sample / 2);
        break;
      }
    }
  }

  private onBinary(data: ArrayBuffer): void {
    if (!this.feed) return;
    this.bitrate.add(data.byteLength, performance.now());
    const kind = this.feed.push(new Uint8Array(data));
    if (kind === 'media' && this._state !== 'live' && this._state !== 'offline') this.setState('live');
  }

  private ping(): void {
    this.transport?.send({ type: 'ping', t0: Date.now() });
  }

  private onMediaError(code: 'APPEND_FAILED' | 'MEDIA_ERROR', message: string): void {
    if (this.destroyed || !this.feed) return;
    const now = performance.now();
    // One broken append fires both a SourceBuffer and a <video> error: count it once.
    const last = this.recoveries[this.recoveries.length - 1];
    if (last !== undefined && now - last < 1000) return;
    this.recoveries = this.recoveries.filter((t) => now - t < 60_000);
    this.recoveries.push(now);
    if (this.recoveries.length > MAX_RECOVERIES_PER_MIN) {
      this.fail(code, `${message}; giving up after ${MAX_RECOVERIES_PER_MIN} recoveries in a minute`);
      return;
    }
    this.error(code, `${message}; recovering`, false);
    // A new MediaSource and a new connection: the relay resends info, init and a keyframe.
    this.feed.recreate();
    this.transport?.reconnectNow();
  }

  private readonly onVideoError = (): void => {
    const e = this.video.error;
    if (e) this.onMediaError('MEDIA_ERROR', `<video> error ${e.code}${e.message ? `: ${e.message}` : ''}`);
  };

  private setState(state: PlayerState, code?: string, message?: string): void {
    if (state === this._state || this._state === 'destroyed') return;
    const previous = this._state;
    this._state = state;
    this.log(`state ${previous} -> ${state}`, code ?? '', message ?? '');
    this.emitter.emit('state', { state, previous, code, message });
  }

  private error(code: PlayerError['code'], message: string, fatal: boolean): void {
    this.log(`error ${code}: ${message}`);
    this.emitter.emit('error', { code, message, fatal });
  }

  /** Fatal: stop the network and timers, keep the element as it is. */
  private fail(code: PlayerError['code'], message: string): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.transport?.close();
    this.setState('error', code, message);
    this.error(code, message, true);
  }

  private log(...args: unknown[]): void {
    if (this.config.debug) console.debug('[nowcast]', ...args);
  }
}
