// LL-HLS on the public port: /hls/NAME/index.m3u8 and the init segments, segments and parts it
// names, built from the chunks the relay fans out (it taps each stream: relay/tap.ts). Blocking
// playlist reloads and preload-hinted parts wait in a bounded list per stream and are answered
// when the window changes, or with 503 after three target durations. Refusals are counted
// like the rest (protocol 'http'). Media lives in hls/stream.ts; the decisions in hls/reload.ts.
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Chunk, InitSegment } from '../media/types.js';
import { STREAM_NAME_RE, type StreamState } from '../protocol/messages.js';
import type { Logger } from '../util/log.js';
import type { ProtocolErrors } from '../util/protocol-errors.js';
import type { HlsAccess } from './access.js';
import type { HlsConfig } from './config.js';
import { blockTimeoutMs, decidePart, decidePlaylist, parseQuery, type HlsQuery } from './reload.js';
import { HlsStream } from './stream.js';
import { parseFile } from './types.js';

export type { HlsConfig };

export interface HlsOptions {
  config: HlsConfig;
  log: Logger;
  /** Refusals by code (nowcast_protocol_errors_total{protocol="http"}). */
  errors?: Pick<ProtocolErrors, 'add'>;
  /** View tokens and Origin; none lets everyone in. */
  access?: HlsAccess;
  now?: () => number;
}

/** A stream the relay forgot is kept this long (ms): a publisher back within it continues the same playlist. */
export const LINGER_MS = 30_000;
/** How often blocked requests are checked for their timeout (ms). */
const SWEEP_MS = 100;
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
/** Parts, segments and inits never change under their URI (hls/stream.ts numbering), so caches may keep them. */
const MEDIA_CACHE = 'public, max-age=60';

interface Waiter {
  res: HttpResponse;
  since: number;
  aborted: boolean;
  /** A playlist (its _HLS_ directives) or a hinted part. */
  want: { kind: 'playlist'; q: HlsQuery } | { kind: 'part'; n: number };
  suffix: string;
  cors: string | null;
}

interface Held {
  stream: HlsStream;
  waiters: Set<Waiter>;
  /** When the relay forgot it (ms), 0 while it exists there. */
  goneAt: number;
}

export class Hls {
  readonly #cfg: HlsConfig;
  readonly #log: Logger;
  readonly #errors: Pick<ProtocolErrors, 'add'> | null;
  readonly #access: HlsAccess | null;
  readonly #now: () => number;
  readonly #streams = new Map<string, Held>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  /** Requests answered 200, and chunks the tap could not take (a bug, logged once). */
  readonly counters = { served: 0, refused: 0, tapErrors: 0 };

  constructor(o: HlsOptions) {
    this.#cfg = o.config;
    this.#log = o.log;
    this.#errors = o.errors ?? null;
    this.#access = o.access ?? null;
    this.#now = o.now ?? Date.now;
    if (o.config.enabled) {
      this.#timer = setInterval(() => this.#sweep(), SWEEP_MS);
      this.#timer.unref();
    }
  }

  /** Requests blocked now, over every stream. */
  get waiting(): number {
    let n = 0;
    for (const h of this.#streams.values()) n += h.waiters.size;
    return n;
  }

  stream(name: string): HlsStream | undefined {
    return this.#streams.get(name)?.stream;
  }

  // The relay's tap (relay/tap.ts): never throws into the relay's hot path.

  init(name: string, _generation: number, init: InitSegment): void {
    if (!this.#cfg.enabled || this.#closed) return;
    this.#guard(() => {
      let h = this.#streams.get(name);
      if (!h) {
        const held: Held = { stream: new HlsStream(this.#cfg, this.#now()), waiters: new Set(), goneAt: 0 };
        held.stream.onChange = () => this.#wake(held);
        this.#streams.set(name, (h = held));
      }
      h.goneAt = 0;
      h.stream.init(init);
    });
  }

  chunk(name: string, c: Chunk): void {
    const h = this.#streams.get(name);
    if (h) this.#guard(() => h.stream.chunk(c, this.#now()));
  }

  state(name: string, state: StreamState): void {
    const h = this.#streams.get(name);
    if (h && state !== 'live') this.#guard(() => h.stream.end());
  }

  closed(name: string): void {
    const h = this.#streams.get(name);
    if (h) h.goneAt = this.#now();
  }

  #guard(fn: () => void): void {
    try { fn(); } catch (err) {
      if (this.counters.tapErrors++ === 0) this.#log.error({ err }, 'hls: a chunk could not be added (logged once)');
    }
  }

  /** Mounts GET /hls/:name/:file on the relay's app (before its catch-all 404). */
  mount(app: TemplatedApp): void {
    if (!this.#cfg.enabled) return;
    app.get('/hls/:name/:file', (res, req) => {
      const name = req.getParameter(0) ?? '';
      const file = req.getParameter(1) ?? '';
      const origin = req.getHeader('origin');
      this.#request(res, name, file, req.getQuery() ?? '', origin);
    });
  }

  #request(res: HttpResponse, name: string, file: string, rawQuery: string, origin: string): void {
    const cors = this.#access ? this.#access.corsOrigin(origin) : '*';
    if (this.#closed) return this.#refuse(res, cors, '503 Service Unavailable', 'HLS_CLOSED', 'the relay is shutting down');
    if (!STREAM_NAME_RE.test(name)) return this.#refuse(res, cors, '400 Bad Request', 'HLS_BAD_NAME', 'invalid stream name');
    const f = parseFile(file);
    if (!f) return this.#refuse(res, cors, '404 Not Found', 'HLS_NOT_FOUND', 'not found');
    const parsed = parseQuery(rawQuery);
    if (!parsed.ok) return this.#refuse(res, cors, '400 Bad Request', 'HLS_BAD_QUERY', parsed.message);
    const q = parsed.query;
    const denied = this.#access?.check(name, q.token, origin, this.#now());
    if (denied) return this.#refuse(res, cors, denied.status, denied.code, denied.message);
    const h = this.#streams.get(name);
    if (!h) return this.#refuse(res, cors, '404 Not Found', 'HLS_NOT_FOUND', `stream ${name} is not live`);
    const s = h.stream;
    s.requested(this.#now());
    const suffix = this.#access?.tokens && q.token ? `?token=${encodeURIComponent(q.token)}` : '';
    if (f.kind === 'init') {
      const init = s.initSegment(f.id);
      return init ? this.#ok(res, cors, init.type, init.bytes, MEDIA_CACHE) : this.#refuse(res, cors, '404 Not Found', 'HLS_NOT_FOUND', 'no such init segment');
    }
    if (f.kind === 'segment') {
      const seg = s.segment(f.msn);
      return seg ? this.#ok(res, cors, s.mediaType, seg.bytes!, MEDIA_CACHE) : this.#refuse(res, cors, '404 Not Found', 'HLS_NOT_FOUND', 'segment not in the window');
    }
    const want: Waiter['want'] = f.kind === 'part' ? { kind: 'part', n: f.n } : { kind: 'playlist', q };
    const w: Waiter = { res, since: this.#now(), aborted: false, want, suffix, cors };
    if (this.#answer(h, w)) return;
    if (h.waiters.size >= this.#cfg.maxWaiters) {
      return this.#refuse(res, cors, '503 Service Unavailable', 'HLS_WAITERS', `stream ${name} has its maximum of ${this.#cfg.maxWaiters} blocked requests`);
    }
    // uWS: a response answered later must know when its client went away.
    res.onAborted(() => {
      w.aborted = true;
      h.waiters.delete(w);
    });
    h.waiters.add(w);
  }

  /** Answers `w` if its decision is final; false while it should wait. */
  #answer(h: Held, w: Waiter): boolean {
    const s = h.stream;
    const waited = this.#now() - w.since;
    const timeout = blockTimeoutMs(s.targetDuration);
    if (w.want.kind === 'part') {
      const d = decidePart(w.want.n, s.parts, waited, timeout);
      if (d === 'wait') return false;
      const part = d === 'now' ? s.part(w.want.n) : undefined;
      if (part) this.#ok(w.res, w.cors, s.mediaType, part.bytes, MEDIA_CACHE);
      else if (d === 'timeout') this.#refuse(w.res, w.cors, '503 Service Unavailable', 'HLS_TIMEOUT', 'the hinted part did not come in time');
      else this.#refuse(w.res, w.cors, '404 Not Found', 'HLS_NOT_FOUND', 'part not in the window');
      return true;
    }
    const d = decidePlaylist(w.want.q, s.position, waited, timeout);
    if (d === 'wait') return false;
    if (d === 'too-far') {
      this.#refuse(w.res, w.cors, '400 Bad Request', 'HLS_MSN_AHEAD', '_HLS_msn is more than two segments past the newest');
    } else if (d === 'timeout') {
      this.#refuse(w.res, w.cors, '503 Service Unavailable', 'HLS_TIMEOUT', 'the playlist did not reach _HLS_msn/_HLS_part in time');
    } else {
      // A blocking reload's answer never stops being a valid answer to its URL: caches may keep it briefly.
      const cache = w.want.q.msn === undefined ? 'no-cache' : 'public, max-age=1';
      this.#ok(w.res, w.cors, PLAYLIST_TYPE, s.playlist(w.suffix)!, cache);
    }
    return true;
  }

  /** The window changed: answer whoever it now satisfies. */
  #wake(h: Held): void {
    for (const w of h.waiters) if (w.aborted || this.#answer(h, w)) h.waiters.delete(w);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [name, h] of this.#streams) {
      if (h.goneAt && now - h.goneAt >= LINGER_MS) {
        for (const w of h.waiters) if (!w.aborted) this.#refuse(w.res, w.cors, '404 Not Found', 'HLS_NOT_FOUND', `stream ${name} ended`);
        this.#streams.delete(name);
        continue;
      }
      this.#wake(h);
    }
  }

  #ok(res: HttpResponse, cors: string | null, type: string, body: string | Buffer, cache: string): void {
    this.counters.served++;
    this.#write(res, '200 OK', type, body, cache, cors);
  }

  #refuse(res: HttpResponse, cors: string | null, status: string, code: string, message: string): void {
    this.counters.refused++;
    this.#errors?.add('http', code);
    this.#write(res, status, 'application/json', JSON.stringify({ code, message }), 'no-cache', cors);
  }

  #write(res: HttpResponse, status: string, type: string, body: string | Buffer, cache: string, cors: string | null): void {
    res.cork(() => {
      res.writeStatus(status).writeHeader('Content-Type', type).writeHeader('Cache-Control', cache);
      if (cors) res.writeHeader('Access-Control-Allow-Origin', cors);
      if (cors && cors !== '*') res.writeHeader('Vary', 'Origin');
      res.end(body);
    });
  }

  /** Answers every blocked request (503), forgets every stream. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const h of this.#streams.values()) {
      for (const w of h.waiters) if (!w.aborted) this.#refuse(w.res, w.cors, '503 Service Unavailable', 'HLS_CLOSED', 'the relay is shutting down');
      h.waiters.clear();
    }
    this.#streams.clear();
  }
}
