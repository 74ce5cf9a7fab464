// The WebSocket side: one socket at a time, text frames parsed as ServerMessage, binary
// frames passed through, and reconnection with jittered exponential backoff.
import { EARLY_SOCKET_MAX_BYTES, EARLY_SOCKET_MAX_MESSAGES, type ClientMessage, type ServerMessage } from '../protocol/messages.js';

export interface TransportOptions {
  reconnect: boolean;
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
  /** For tests or non-browser hosts. */
  WebSocketImpl?: typeof WebSocket;
}

/**
 * A socket a page opened before the player loaded (ops/pages.ts), with what it heard since, in
 * order: the player's first connection to the same URL takes it over and hears that first.
 */
export interface EarlySocket {
  ws: WebSocket;
  url: string;
  events: EarlySocketEvent[];
}

export type EarlySocketEvent = ['open'] | ['message', unknown] | ['close', number, string];

/**
 * Opens `url` and queues what it hears, as the /watch page's inline script does, for a
 * connect() to take over: the MSE worker's, which the page tells the URL as it starts the
 * worker, before the player exists. Past EARLY_SOCKET_MAX_MESSAGES or _BYTES it closes the
 * socket (a player that never comes).
 */
export function openEarlySocket(url: string, Impl: typeof WebSocket = WebSocket): EarlySocket {
  const ws = new Impl(url);
  ws.binaryType = 'arraybuffer';
  const events: EarlySocketEvent[] = [];
  let bytes = 0;
  ws.onopen = () => events.push(['open']);
  ws.onmessage = (e: MessageEvent<unknown>) => {
    events.push(['message', e.data]);
    bytes += e.data instanceof ArrayBuffer ? e.data.byteLength : typeof e.data === 'string' ? e.data.length : 0;
    if (events.length < EARLY_SOCKET_MAX_MESSAGES && bytes < EARLY_SOCKET_MAX_BYTES) return;
    ws.onmessage = null;
    closeQuietly(ws);
  };
  ws.onclose = (e: CloseEvent) => events.push(['close', e.code, e.reason]);
  return { ws, url, events };
}

/** Ends an early socket nobody took. */
export function closeEarlySocket(early: EarlySocket | undefined): void {
  if (!early) return;
  const ws = early.ws;
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  early.events.length = 0;
  closeQuietly(ws);
}

function closeQuietly(ws: WebSocket): void {
  if (ws.readyState !== 0 && ws.readyState !== 1) return;
  try {
    ws.close(1000);
  } catch {
    // Closing a socket that is still connecting can throw in some engines.
  }
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** Set when a reconnect is scheduled. */
  retry?: { attempt: number; delayMs: number };
}

export interface TransportHandlers {
  open(): void;
  message(msg: ServerMessage): void;
  binary(data: ArrayBuffer): void;
  close(info: CloseInfo): void;
  /** A text frame that is not a JSON object with a string `type`. */
  malformed(text: string): void;
  /** maxAttempts reconnects failed in a row. */
  giveUp(attempts: number): void;
}

/** A session that delivered media, or stayed up this long (ms), resets the backoff. */
export const HEALTHY_AFTER_MS = 2000;
/** Give up on a socket that has not opened after this long (ms). */
export const CONNECT_TIMEOUT_MS = 8000;
/** Drop a socket that has been silent this long (ms): pongs arrive every ~2 s. */
export const IDLE_TIMEOUT_MS = 10_000;

/**
 * "Full jitter" backoff: uniform in [0, min(cap, base·2^attempt)). Spreads a crowd of
 * viewers reconnecting to a restarted relay instead of having them arrive in waves.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const bound = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * bound);
}

export class Transport {
  readonly #opts: TransportOptions;
  readonly #on: TransportHandlers;
  readonly #urls: readonly string[];
  #ws: WebSocket | undefined;
  #attempt = 0;
  #healthy = false;
  #openedAt = 0;
  #lastRx = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #destroyed = false;
  /** Index into urls of the next socket; advances after every unexpected close. */
  #next = 0;

  constructor(url: string | readonly string[], opts: TransportOptions, on: TransportHandlers) {
    this.#opts = opts;
    this.#on = on;
    this.#urls = typeof url === 'string' ? [url] : [...url];
    if (this.#urls.length === 0) throw new TypeError('Transport needs at least one URL');
  }

  /** The URL of the current (or next) socket. */
  get url(): string {
    return this.#urls[this.#next % this.#urls.length]!;
  }

  get connected(): boolean {
    return this.#ws?.readyState === 1;
  }

  /** Opens the next socket, or takes over `early` if it goes to the same URL. */
  connect(early?: EarlySocket): void {
    if (this.#destroyed) return closeEarlySocket(early);
    this.#drop();
    const taken = early !== undefined && early.url === this.url ? early : undefined;
    if (!taken) closeEarlySocket(early);
    const Impl = this.#opts.WebSocketImpl ?? WebSocket;
    const ws = taken?.ws ?? new Impl(this.url);
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    this.#healthy = false;
    this.#lastRx = Date.now();
    this.#openedAt = 0;
    ws.onopen = () => this.#opened();
    ws.onmessage = (ev: MessageEvent<unknown>) => this.#receive(ev.data);
    ws.onclose = (ev: CloseEvent) => this.#closedBy(ws, ev.code, ev.reason);
    // onerror is always followed by onclose, which does the work.
    ws.onerror = () => {};
    this.#watchdog = setInterval(() => this.#checkIdle(ws), 1000);
    if (taken) this.#replay(ws, taken.events.splice(0));
  }

  /**
   * What an early socket heard before it was taken, in order, once the current task is done:
   * the engine's owner is still being wired when connect() runs. Events after the take come to
   * the handlers above, as tasks, so after these.
   */
  #replay(ws: WebSocket, events: EarlySocketEvent[]): void {
    if (events.length === 0) return;
    queueMicrotask(() => {
      for (const ev of events) {
        if (ws !== this.#ws) return; // replaced or destroyed meanwhile
        if (ev[0] === 'open') this.#opened();
        else if (ev[0] === 'message') this.#receive(ev[1]);
        else this.#closedBy(ws, ev[1], ev[2]);
      }
    });
  }

  send(msg: ClientMessage): boolean {
    if (!this.#ws || this.#ws.readyState !== 1) return false;
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  /** Drops the current socket and reconnects at once, e.g. to recover from a media error. */
  reconnectNow(): void {
    if (this.#destroyed) return;
    this.#clearRetry();
    this.connect();
  }

  /** Closes the socket for good and stops reconnecting; idempotent. */
  destroy(): void {
    this.#destroyed = true;
    this.#clearRetry();
    this.#drop();
  }

  #opened(): void {
    this.#openedAt = Date.now();
    this.#on.open();
  }

  #receive(data: unknown): void {
    this.#lastRx = Date.now();
    if (data instanceof ArrayBuffer) {
      this.#healthy = true;
      this.#on.binary(data);
      return;
    }
    if (typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      this.#on.malformed(data);
      return;
    }
    if (typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string') {
      this.#on.message(msg as ServerMessage);
    } else {
      this.#on.malformed(data);
    }
  }

  #checkIdle(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    const now = Date.now();
    const opening = ws.readyState === 0 && now - this.#lastRx > CONNECT_TIMEOUT_MS;
    const silent = ws.readyState === 1 && now - this.#lastRx > IDLE_TIMEOUT_MS;
    // A half-open TCP connection never fires onclose on its own: close it ourselves.
    if (opening || silent) this.#closedBy(ws, 4000, opening ? 'connect timeout' : 'idle timeout');
  }

  #closedBy(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#ws) return; // a socket we already replaced
    const wasHealthy = this.#healthy || (this.#openedAt > 0 && Date.now() - this.#openedAt >= HEALTHY_AFTER_MS);
    this.#drop();
    if (wasHealthy) this.#attempt = 0;
    // Failover: the next attempt goes to the next URL of the list (an edge that went away
    // is the likeliest cause of a close; all URLs serve the same stream).
    this.#next = (this.#next + 1) % this.#urls.length;
    if (this.#destroyed || !this.#opts.reconnect) {
      this.#on.close({ code, reason });
      return;
    }
    if (this.#attempt >= this.#opts.maxAttempts) {
      this.#on.close({ code, reason });
      this.#on.giveUp(this.#attempt);
      return;
    }
    // With another URL to try, the first retry goes at once: a dead edge must cost < 2 s.
    const delayMs = this.#urls.length > 1 && this.#attempt === 0 ? 0 : backoffDelay(this.#attempt, this.#opts.baseMs, this.#opts.maxMs);
    this.#attempt += 1;
    this.#on.close({ code, reason, retry: { attempt: this.#attempt, delayMs } });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.connect();
    }, delayMs);
  }

  #drop(): void {
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    const ws = this.#ws;
    this.#ws = undefined;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    closeQuietly(ws);
  }

  #clearRetry(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }
}
