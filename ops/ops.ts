// The operations listener: /metrics, /api/streams and /dashboard on their own uWS app, bound to
// ops.host:ops.port (loopback by default), optionally behind a bearer token. /livez and /readyz
// answer here too (and on the public port). It shares the event loop with the fan-out, so every
// answer is cheap: collections are coalesced (ops-cache.ts), requests and connections are capped.
import { createHash, timingSafeEqual } from 'node:crypto';
import uWS from 'uWebSockets.js';
import type { Logger } from '../util/log.js';
import { dashboardPage } from './dashboard.js';
import { send, streamsReport, type OpsDeps, type HttpDeps } from './http.js';
import { Coalesced, TokenBucket, type CoalescedOptions } from './ops-cache.js';

export interface OpsLimits {
  /** Requests per second past the burst, over all clients (health probes are exempt): 429 past it. */
  requestsPerSecond: number;
  requestBurst: number;
  /** Open connections; the next one is closed at once. */
  maxConnections: number;
  /** How often /metrics and /api/streams are really collected under a flood (ops-cache.ts). */
  collect: CoalescedOptions;
}

export const OPS_LIMITS: OpsLimits = {
  requestsPerSecond: 50,
  requestBurst: 100,
  maxConnections: 256,
  // A collection of 1,000 streams or a full /metrics takes milliseconds of the shared event loop:
  // a scrape every few seconds and a dashboard every 2 s fit in one a second, a flood gets the last one.
  collect: { perSecond: 1, burst: 10, maxAgeMs: 1_000 },
};

export interface OpsServerOptions extends OpsDeps {
  log: Logger;
  /** '' requires no token. */
  token: string;
  streams: HttpDeps['streams'];
  /** Viewers waiting for names that are not live (/api/streams lists them as a count). */
  waitingViewers?: () => number;
  ready: () => boolean;
  limits?: Partial<OpsLimits>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time check of an Authorization header against the token (equal-length digests). */
export function bearerMatches(header: string, tokenDigest: Buffer): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(header);
  // Compare something even when the header is malformed, so timing says nothing about the form.
  return timingSafeEqual(digest(m?.[1] ?? ''), tokenDigest) && m !== null;
}

export class OpsServer {
  readonly app = uWS.App();
  #o: OpsServerOptions;
  #limits: OpsLimits;
  #tokenDigest: Buffer | null;
  #bucket: TokenBucket;
  #listen: uWS.us_listen_socket | false = false;
  #connections = 0;
  readonly metricsText: Coalesced<string> | null;
  readonly streamsJson: Coalesced<string>;
  port = 0;
  /** Requests answered 401, 429, and connections closed at the cap. */
  readonly refused = { unauthorized: 0, limited: 0, connections: 0 };

  constructor(o: OpsServerOptions) {
    this.#o = o;
    this.#limits = { ...OPS_LIMITS, ...o.limits };
    this.#tokenDigest = o.token ? digest(o.token) : null;
    this.#bucket = new TokenBucket(this.#limits.requestsPerSecond, this.#limits.requestBurst);
    const m = o.metrics;
    this.metricsText = m ? new Coalesced(() => m.text(), this.#limits.collect) : null;
    this.streamsJson = new Coalesced(() => JSON.stringify(streamsReport(o.streams(), o.extras, o.waitingViewers?.())), this.#limits.collect);
    this.#mount();
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (sock) => {
        if (!sock) return reject(new Error(`ops: cannot listen on ${host}:${port} (port in use?)`));
        this.#listen = sock;
        this.port = uWS.us_socket_local_port(sock);
        this.#o.log.info({ host, port: this.port, token: this.#tokenDigest !== null }, 'operations listening');
        resolve(this.port);
      });
    });
  }

  close(): void {
    if (this.#listen) uWS.us_listen_socket_close(this.#listen);
    this.#listen = false;
    this.app.close();
  }

  #mount(): void {
    const { app } = this;
    const html = 'text/html; charset=utf-8';
    const text = 'text/plain';
    app.filter((res, count) => {
      this.#connections += Number(count);
      if (Number(count) > 0 && this.#connections > this.#limits.maxConnections) {
        this.refused.connections++;
        res.close();
      }
    });
    app.get('/livez', (res) => send(res, '200 OK', text, 'ok'));
    app.get('/readyz', (res) => {
      const ok = this.#o.ready();
      send(res, ok ? '200 OK' : '503 Service Unavailable', text, ok ? 'ready' : 'not ready');
    });
    // Every other route: the token first (cheap, and keeps anonymous floods off the bucket),
    // then the request budget.
    const guarded = (handler: (res: uWS.HttpResponse, req: uWS.HttpRequest) => void) => (res: uWS.HttpResponse, req: uWS.HttpRequest): void => {
      if (this.#tokenDigest && !bearerMatches(req.getHeader('authorization'), this.#tokenDigest)) {
        this.refused.unauthorized++;
        return send(res, '401 Unauthorized', text, 'unauthorized', { 'WWW-Authenticate': 'Bearer realm="nowcast-ops"' });
      }
      if (!this.#bucket.take()) {
        this.refused.limited++;
        return send(res, '429 Too Many Requests', text, 'too many requests', { 'Retry-After': '1' });
      }
      handler(res, req);
    };
    const fromCache = (res: uWS.HttpResponse, c: Coalesced<string>, type: string, what: string): void => {
      let aborted = false;
      res.onAborted(() => { aborted = true; });
      c.get().then(
        (body) => { if (!aborted) send(res, '200 OK', type, body); },
        (err: unknown) => {
          this.#o.log.error({ err: err instanceof Error ? err.message : String(err) }, `${what} collection failed`);
          if (!aborted) send(res, '500 Internal Server Error', text, `${what} collection failed`);
        },
      );
    };
    app.get('/metrics', guarded((res) => {
      const m = this.#o.metrics;
      if (!m || !this.metricsText) return send(res, '404 Not Found', text, 'metrics are off');
      fromCache(res, this.metricsText, m.contentType, 'metrics');
    }));
    app.get('/api/streams', guarded((res) => fromCache(res, this.streamsJson, 'application/json', 'stream list')));
    app.get('/dashboard', guarded((res) => send(res, '200 OK', html, dashboardPage())));
    app.get('/', guarded((res) => send(res, '200 OK', html,
      '<!doctype html><title>Nowcast operations</title><p><a href="/dashboard">/dashboard</a> <a href="/metrics">/metrics</a> <a href="/api/streams">/api/streams</a> /livez /readyz')));
    app.any('/*', guarded((res) => send(res, '404 Not Found', text, 'not found')));
  }
}
