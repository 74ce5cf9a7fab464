// Plain HTTP routes on the relay's public uWS app: pages, the player bundle, the public stream
// list and health. /metrics, /api/streams and /dashboard are on the operations listener (ops.ts).
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../util/log.js';
import type { QoeMessage } from '../protocol/messages.js';

/** A viewer's QoE report as the relay accepted it. */
type QoeReport = Omit<QoeMessage, 'type'>;
import type { StreamSummary } from '../protocol/api.js';

export type { StreamSummary };
import { STREAM_NAME_RE } from '../protocol/messages.js';
import { indexPage, watchPage } from './pages.js';
import { Coalesced } from './ops-cache.js';
import { builtFile, fileResponse, loadPlayerFiles, type PlayerFile } from './player-files.js';


/** The operations side: optional, so a bare Relay (tests, benches) serves without it. */
export interface OpsDeps {
  metrics?: {
    readonly contentType: string;
    text(): Promise<string>;
    /** Every accepted QoE report (relay/qoe.ts), and a viewer leaving. */
    observeQoe?(stream: string, r: QoeReport, viewer: number, counted?: { stalls: number; stallMs: number }): void;
    forgetViewer?(stream: string, viewer: number): void;
  };
  /** Facts /api/streams (on the operations listener) adds to a stream's summary (bitrate, keyframe interval, publisher). */
  extras?: (stream: string) => Record<string, unknown>;
  /** Streams that exist elsewhere (an edge's view of the cluster), listed after the local ones. */
  directory?: () => StreamSummary[];
}

/** The latency part of /api/streams: viewers' QoE summary (relay/qoe.ts), when reports came in. */
export interface LatencyView {
  viewers: number;
  p50Ms: number | null;
  p95Ms: number | null;
  spreadMs: number | null;
}

interface QoeSummaryLike {
  viewers: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  spreadMs?: number | null;
}

function latencyView(q: QoeSummaryLike | undefined): LatencyView | null {
  if (!q || q.viewers === 0 || q.latencyP50Ms === null) return null;
  return { viewers: q.viewers, p50Ms: q.latencyP50Ms, p95Ms: q.latencyP95Ms, spreadMs: q.spreadMs ?? null };
}

export interface HttpDeps extends OpsDeps {
  /** Directory with the built player (nowcast-player.js, watch.js). */
  playerDir: string;
  log: Logger;
  streams: () => Array<StreamSummary & { qoe?: QoeSummaryLike }>;
  ready: () => boolean;
  /** Whether the public `/` and /streams.json may list a stream (false: it needs a view token). Default: all. */
  listed?: (stream: string) => boolean;
}

/** The public list's filter: with security.requireViewerToken every stream needs a token, so none is listed. */
export function publicListFilter(security: { requireViewerToken: boolean }): (stream: string) => boolean {
  return () => !security.requireViewerToken;
}

/** The full stream report of /api/streams. */
export function streamsReport(list: Array<StreamSummary & { qoe?: QoeSummaryLike }>, extras?: OpsDeps['extras'], waitingViewers?: number): { streams: unknown[]; waitingViewers?: number } {
  const streams = list.map((s) => ({ ...s, ...extras?.(s.name), latency: latencyView(s.qoe) }));
  return waitingViewers === undefined ? { streams } : { streams, waitingViewers };
}

/**
 * What the public /streams.json tells anyone: live, listed streams' name, state and viewers.
 * Only live ones: a viewer may open any name and wait, and names of its choosing must not
 * appear on the public page (nor make the list long).
 */
export function publicStreams(list: StreamSummary[], listed: (stream: string) => boolean): { streams: Array<Pick<StreamSummary, 'name' | 'state' | 'viewers'>> } {
  return { streams: list.filter((s) => s.state === 'live' && listed(s.name)).map(({ name, state, viewers }) => ({ name, state, viewers })) };
}

export function send(res: HttpResponse, status: string, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', type).writeHeader('Cache-Control', 'no-cache');
    for (const [k, v] of Object.entries(extra)) res.writeHeader(k, v);
    res.end(body);
  });
}

/** A file in the coding the request accepts, or 304 (ops/player-files.ts). */
function serveFile(res: HttpResponse, req: HttpRequest, f: PlayerFile): void {
  const r = fileResponse(f, req.getHeader('accept-encoding'), req.getHeader('if-none-match'));
  send(res, r.status, f.type, r.body, r.headers);
}

export function mountHttp(app: TemplatedApp, deps: HttpDeps): void {
  const player = loadPlayerFiles(deps.playerDir, deps.log);
  const html = 'text/html; charset=utf-8';
  const json = 'application/json';

  const index = indexPage(); // the same page for everyone: built once
  app.get('/', (res) => send(res, '200 OK', html, index));
  // One page for every stream (it reads the name from its path), with the MSE worker's source in it.
  const watch = builtFile(html, watchPage(player.get('mse-worker.js')?.variants.identity.body.toString()));
  app.get('/watch/:name', (res, req) => {
    const name = req.getParameter(0) ?? '';
    if (!STREAM_NAME_RE.test(name)) return send(res, '400 Bad Request', 'text/plain', 'invalid stream name');
    serveFile(res, req, watch);
  });
  app.get('/player/:file', (res, req) => {
    const f = player.get(req.getParameter(0) ?? '');
    if (!f) return send(res, '404 Not Found', 'text/plain', 'not found');
    serveFile(res, req, f);
  });
  // Public, so a flood of it is coalesced like the ops routes (ops-cache.ts).
  const listed = deps.listed ?? (() => true);
  const list = new Coalesced(() => JSON.stringify(publicStreams(deps.streams(), listed)));
  app.get('/streams.json', (res) => {
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    list.get().then(
      (body) => { if (!aborted) send(res, '200 OK', json, body); },
      () => { if (!aborted) send(res, '500 Internal Server Error', 'text/plain', 'stream list failed'); },
    );
  });
  app.get('/favicon.ico', (res) => { res.cork(() => { res.writeStatus('204 No Content').end(); }); });
  app.get('/livez', (res) => send(res, '200 OK', 'text/plain', 'ok'));
  app.get('/readyz', (res) => {
    const ok = deps.ready();
    send(res, ok ? '200 OK' : '503 Service Unavailable', 'text/plain', ok ? 'ready' : 'not ready');
  });
  app.any('/*', (res) => send(res, '404 Not Found', 'text/plain', 'not found'));
}
