// Plain HTTP routes on the relay's uWS app: pages, the player bundle, the stream list, health,
// Prometheus metrics and the built-in dashboard.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../app/log.js';
import type { QoeReport } from './qoe.js';
import type { TrackInfo, StreamState } from './protocol.js';
import { STREAM_NAME_RE } from './protocol.js';
import { indexPage, watchPage } from './pages.js';
import { dashboardPage } from './dashboard.js';

export interface StreamSummary {
  name: string;
  state: StreamState;
  generation: number;
  codecs: string | null;
  tracks: TrackInfo[];
  viewers: number;
  chunks: number;
  bytes: number;
  skips: number;
}

/** The operations side: optional, so a bare Relay (tests, benches) serves without it. */
export interface OpsDeps {
  metrics?: {
    readonly contentType: string;
    text(): Promise<string>;
    /** Every accepted QoE report (relay/qoe.ts), and a viewer leaving. */
    observeQoe?(stream: string, r: QoeReport, viewer: number): void;
    forgetViewer?(stream: string, viewer: number): void;
  };
  /** Facts /api/streams adds to a stream's summary (bitrate, keyframe interval, publisher). */
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
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

/** The player files are small and fixed for the process's life: read them once. */
function loadPlayer(dir: string, log: Logger): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (!existsSync(dir)) {
    log.error({ dir }, 'player bundle missing: run `npm run build:player`');
    return files;
  }
  for (const f of readdirSync(dir)) {
    if (/\.(js|map)$/.test(f)) files.set(f, readFileSync(join(dir, f)));
  }
  return files;
}

function send(res: HttpResponse, status: string, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', type).writeHeader('Cache-Control', 'no-cache');
    for (const [k, v] of Object.entries(extra)) res.writeHeader(k, v);
    res.end(body);
  });
}

export function mountHttp(app: TemplatedApp, deps: HttpDeps): void {
  const player = loadPlayer(deps.playerDir, deps.log);
  const html = 'text/html; charset=utf-8';
  const json = 'application/json';

  app.get('/', (res) => send(res, '200 OK', html, indexPage()));
  app.get('/watch/:name', (res, req) => {
    const name = req.getParameter(0) ?? '';
    if (!STREAM_NAME_RE.test(name)) return send(res, '400 Bad Request', 'text/plain', 'invalid stream name');
    send(res, '200 OK', html, watchPage(name));
  });
  app.get('/player/:file', (res, req) => {
    const file = req.getParameter(0) ?? '';
    const body = player.get(file);
    if (!body) return send(res, '404 Not Found', 'text/plain', 'not found');
    send(res, '200 OK', TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream', body);
  });
  app.get('/api/streams', (res) => {
    const streams = deps.streams().map((s) => ({ ...s, ...deps.extras?.(s.name), latency: latencyView(s.qoe) }));
    send(res, '200 OK', json, JSON.stringify({ streams }));
  });
  app.get('/metrics', (res) => {
    const m = deps.metrics;
    if (!m) return send(res, '404 Not Found', 'text/plain', 'metrics are off');
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    m.text().then(
      (body) => { if (!aborted) send(res, '200 OK', m.contentType, body); },
      (err: unknown) => {
        deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'metrics collection failed');
        if (!aborted) send(res, '500 Internal Server Error', 'text/plain', 'metrics collection failed');
      },
    );
  });
  app.get('/dashboard', (res) => send(res, '200 OK', html, dashboardPage()));
  app.get('/favicon.ico', (res) => { res.cork(() => { res.writeStatus('204 No Content').end(); }); });
  app.get('/livez', (res) => send(res, '200 OK', 'text/plain', 'ok'));
  app.get('/readyz', (res) => {
    const ok = deps.ready();
    send(res, ok ? '200 OK' : '503 Service Unavailable', 'text/plain', ok ? 'ready' : 'not ready');
  });
  app.any('/*', (res) => send(res, '404 Not Found', 'text/plain', 'not found'));
}
