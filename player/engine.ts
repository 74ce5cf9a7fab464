// The media side of the player: the WebSocket, the feed and the SourceBuffer. It runs in a
// dedicated worker where the browser can play a worker's MediaSource (Chromium ≥ 108), so
// chunks reach the SourceBuffer even while the page's main thread is busy; else on the page.
// Either way it speaks only in EngineCommands and EngineEvents (structured-cloneable), and
// the Player on the page keeps a MediaMirror of what it reports.
import type { ClientMessage, InfoMessage, ServerMessage } from '../protocol/messages.js';
import { AckSchedule } from './ack.js';
import { ProbeTimer } from './probe.js';
import { readMoofSeq } from './boxes.js';
import { localNow } from './clock.js';
import { MediaFeed } from './feed.js';
import type { FrameKind } from './feed.js';
import type { ManagedCounters, MediaAttachment } from './mse.js';
import type { PlayerConfig } from './config.js';
import { Transport } from './transport.js';
import type { CloseInfo, EarlySocket } from './transport.js';

export interface EngineOptions {
  urls: readonly string[];
  reconnect: boolean;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  maxReconnectAttempts: number;
}

/** The engine's part of the player's config: where to connect, and how to reconnect. */
export function engineOptions(c: Pick<PlayerConfig, 'url' | 'reconnect' | 'reconnectBaseMs' | 'reconnectMaxMs' | 'maxReconnectAttempts'>): EngineOptions {
  const { reconnect, reconnectBaseMs, reconnectMaxMs, maxReconnectAttempts } = c;
  return { urls: typeof c.url === 'string' ? [c.url] : [...c.url], reconnect, reconnectBaseMs, reconnectMaxMs, maxReconnectAttempts };
}

/** Page -> engine. */
export type EngineCommand =
  /** Every control tick: where playback is, and the back buffer to keep (s). */
  | { type: 'tick'; currentTime: number; started: boolean; backBufferSeconds: number }
  /** Send a ping stamped with the engine's clock when it leaves. */
  | { type: 'ping' }
  | { type: 'send'; msg: ClientMessage }
  /** After a media error: a new MediaSource and a new connection. */
  | { type: 'recreate' }
  /** A fatal error: close the socket for good, keep what is on screen. */
  | { type: 'stop' }
  /** Tear down: the socket, then the MediaSource (a worker then closes itself). Idempotent. */
  | { type: 'destroy' };

/** Engine -> page. */
export type EngineEvent =
  | { type: 'open' }
  | { type: 'close'; info: CloseInfo }
  /** A control message; `at` is the local ms it arrived (pongs are timed with it). */
  | { type: 'message'; msg: ServerMessage; at: number; unsupported?: string }
  | { type: 'malformed'; text: string }
  | { type: 'giveUp'; attempts: number }
  | { type: 'frame'; kind: FrameKind; bytes: number }
  | { type: 'arrival'; at: number; wall: number }
  | { type: 'anchor'; media: number; wall: number }
  | { type: 'keyframe'; at: number }
  | { type: 'current'; info: InfoMessage | undefined }
  | { type: 'disconnected' }
  | { type: 'restarted' }
  | { type: 'idle' }
  | { type: 'dropped'; chunks: number }
  | { type: 'mediaError'; code: 'APPEND_FAILED' | 'MEDIA_ERROR'; message: string }
  | { type: 'protocolError'; message: string }
  | { type: 'log'; text: string };

/** Where playback is, when the engine can read it directly (same thread). */
export interface PlaybackView {
  started(): boolean;
}

export class MediaEngine {
  readonly #emit: (event: EngineEvent) => void;
  readonly #view: PlaybackView | undefined;
  readonly #feed: MediaFeed;
  readonly #transport: Transport;
  #started = false;
  #currentTime = 0;
  #dropped = 0;
  #destroyed = false;
  readonly #acks = new AckSchedule();
  readonly #probes = new ProbeTimer();
  #ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: EngineOptions, emit: (event: EngineEvent) => void, element: MediaAttachment, view?: PlaybackView, earlySocket?: EarlySocket) {
    this.#emit = emit;
    this.#view = view;
    this.#feed = new MediaFeed(element, {
      idle: () => emit({ type: 'idle' }),
      error: (code, message) => emit({ type: 'mediaError', code, message }),
      started: () => this.#view?.started() ?? this.#started,
      restarted: () => {
        this.#started = false;
        emit({ type: 'restarted' });
      },
      disconnected: () => emit({ type: 'disconnected' }),
      anchor: (media, wall) => emit({ type: 'anchor', media, wall }),
      arrival: (at, wall) => emit({ type: 'arrival', at, wall }),
      keyframe: (at) => emit({ type: 'keyframe', at }),
      current: (info) => emit({ type: 'current', info }),
      protocolError: (message) => emit({ type: 'protocolError', message }),
      log: (...args) => emit({ type: 'log', text: args.map(String).join(' ') }),
    });
    this.#transport = new Transport(
      options.urls,
      { reconnect: options.reconnect, baseMs: options.reconnectBaseMs, maxMs: options.reconnectMaxMs, maxAttempts: options.maxReconnectAttempts },
      {
        open: () => emit({ type: 'open' }),
        message: (msg) => this.#onMessage(msg),
        binary: (data) => this.#onBinary(data),
        close: (info) => {
          this.#acks.reset();
          this.#probes.reset();
          if (info.retry) this.#feed.disconnected();
          emit({ type: 'close', info });
        },
        malformed: (text) => emit({ type: 'malformed', text }),
        giveUp: (attempts) => emit({ type: 'giveUp', attempts }),
      },
    );
    this.#transport.connect(earlySocket);
  }

  /** What a ManagedMediaSource did (zeros for a classic one). */
  get managed(): ManagedCounters {
    return this.#feed.sink.managed;
  }

  /** The element's currentTime as last reported by a tick (s). */
  get reportedTime(): number {
    return this.#currentTime;
  }

  command(c: EngineCommand): void {
    if (this.#destroyed) return;
    switch (c.type) {
      case 'tick':
        this.#currentTime = c.currentTime;
        this.#started = c.started;
        this.#feed.sink.trimBackBuffer(c.backBufferSeconds);
        this.#reportDropped();
        break;
      case 'ping':
        // t0 on the clock the pong is timed with, taken as the ping leaves.
        this.#transport.send({ type: 'ping', t0: localNow() });
        break;
      case 'send':
        this.#transport.send(c.msg);
        break;
      case 'recreate':
        this.#feed.recreate();
        this.#transport.reconnectNow();
        break;
      case 'stop':
        this.#transport.destroy();
        break;
      case 'destroy':
        this.destroy();
        break;
    }
  }

  /** Idempotent: the socket, then the MediaSource. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#ackTimer !== undefined) clearTimeout(this.#ackTimer);
    this.#transport.destroy();
    this.#feed.destroy();
  }

  #onMessage(msg: ServerMessage): void {
    const at = localNow();
    // Answered here, at once, and not passed on: it is the relay's measurement, not playback's.
    if (msg.type === 'probe') {
      const answer = this.#probes.received(msg, at);
      if (answer) this.#transport.send(answer);
      return;
    }
    // The feed must know the next init's info before that init arrives.
    const unsupported = msg.type === 'info' ? this.#feed.announce(msg) : undefined;
    // Each relay says how often it wants acks (a ladder's viewers: faster); a later relay (a failover) may say otherwise.
    if (msg.type === 'hello') this.#acks.askedFor(msg.ackMs);
    this.#emit(unsupported === undefined ? { type: 'message', msg, at } : { type: 'message', msg, at, unsupported });
  }

  #onBinary(data: ArrayBuffer): void {
    const bytes = new Uint8Array(data);
    const kind = this.#feed.push(bytes);
    const info = this.#feed.info;
    if (info && kind !== 'init') {
      // Dropped chunks (a codec MSE refuses) are acked too: they did arrive.
      const seq = readMoofSeq(bytes);
      if (seq !== undefined) this.#acks.received(info.generation, seq, localNow());
      this.#sendAck();
    }
    this.#emit({ type: 'frame', kind, bytes: data.byteLength });
    this.#reportDropped();
  }

  /** Sends the pending ack if one may go now, else sets a timer for it (the end of a burst). */
  #sendAck(): void {
    if (this.#destroyed) return;
    const now = localNow();
    const m = this.#acks.take(now);
    if (m) this.#transport.send(m);
    const wait = this.#acks.waitMs(now);
    if (wait >= 0 && this.#ackTimer === undefined) {
      this.#ackTimer = setTimeout(() => {
        this.#ackTimer = undefined;
        this.#sendAck();
      }, wait);
    }
  }

  /** Drops happen as the queue reaches a chunk, so the count is checked per frame and tick. */
  #reportDropped(): void {
    const dropped = this.#feed.sink.droppedChunks;
    if (dropped === this.#dropped) return;
    this.#dropped = dropped;
    this.#emit({ type: 'dropped', chunks: dropped });
  }
}
