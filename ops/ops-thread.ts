// The operations listener's own thread (started by ops.ts; uWS.js runs one App per thread). Its
// uWS app, the token check, the request budget, the 429s and their garbage stay off the relay's
// event loop and heap; the thread runs at a lower priority (ops.nice). The only work it asks of
// the main thread is a collection (/metrics text, /api/streams JSON), coalesced here to about one
// a second under a flood (ops-cache.ts). Messages: ops-messages.ts.
import { createHash, timingSafeEqual } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import uWS from 'uWebSockets.js';
import { workerLogger } from '../util/worker-thread.js';
import { niceThisThread, ownThreadId } from '../util/threads.js';
import { dashboardPage } from './dashboard.js';
import { send } from './http.js';
import { Coalesced, TokenBucket } from './ops-cache.js';
import type { Collection, FromOps, OpsThreadData, ToOps } from './ops-messages.js';
import { HeapStep } from '../util/heap-step.js';

if (!parentPort) throw new Error('ops/ops-thread.ts runs in a worker thread (ops.ts starts it)');
const port = parentPort;
const data = workerData as OpsThreadData;
const post = (m: FromOps): void => port.postMessage(m);

let app: uWS.TemplatedApp | null = null;
let listenSocket: uWS.us_listen_socket | false = false;
let closed = false;
// Attackers' garbage is collected in small steps here, not V8's (util/heap-step.ts).
const heap = new HeapStep();

/** Closes the listen socket and every connection, then says so through data.closed. Idempotent. */
function closeSockets(): void {
  if (closed) return;
  closed = true;
  heap.close();
  try {
    if (listenSocket) uWS.us_listen_socket_close(listenSocket);
    listenSocket = false;
    app?.close();
  } finally {
    Atomics.store(data.closed, 0, 1);
    Atomics.notify(data.closed, 0);
  }
}

// First, before any socket exists: a thread that ends with uWS sockets open aborts the whole
// process (Node's uv_loop_close check), relay and all. So an uncaught error closes them, tells
// the main thread (which logs it and restarts the listener once) and ends this thread alone.
process.on('uncaughtException', (err) => {
  try {
    closeSockets();
  } finally {
    post({ t: 'crashed', message: err.message, ...(err.stack ? { stack: err.stack } : {}) });
    process.exit(1);
  }
});

const log = workerLogger(data.level);
if (data.nice > 0 && !niceThisThread(data.nice)) log.debug({ nice: data.nice }, 'operations thread: nice not set');

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time check of an Authorization header against the token (equal-length digests). */
function bearerMatches(header: string, tokenDigest: Buffer): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(header);
  // Compare something even when the header is malformed, so timing says nothing about the form.
  return timingSafeEqual(digest(m?.[1] ?? ''), tokenDigest) && m !== null;
}

// Collections: asked of the main thread, answered by id.
interface Collected { body: string; contentType: string }
const waiting = new Map<number, { resolve: (c: Collected) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
let nextId = 0;

function ask(what: Collection): Promise<Collected> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      log.error({ what, ms: data.collectTimeoutMs }, 'collection: no answer from the main thread');
      reject(new Error('no answer'));
    }, data.collectTimeoutMs);
    timer.unref();
    waiting.set(id, { resolve, reject, timer });
    post({ t: 'collect', id, what });
  });
}

function settle(id: number): { resolve: (c: Collected) => void; reject: (e: Error) => void } | undefined {
  const w = waiting.get(id);
  if (!w) return undefined; // timed out meanwhile
  waiting.delete(id);
  clearTimeout(w.timer);
  return w;
}

const limits = data.limits;
const tokenDigest = data.token ? digest(data.token) : null;
const bucket = new TokenBucket(limits.requestsPerSecond, limits.requestBurst);
const metricsText = data.metrics ? new Coalesced(() => ask('metrics'), limits.collect) : null;
const streamsJson = new Coalesced(() => ask('streams'), limits.collect);
const refused = { unauthorized: 0, limited: 0, connections: 0 };
let ready = data.ready;
let connections = 0;

function mount(a: uWS.TemplatedApp): void {
  const html = 'text/html; charset=utf-8';
  const text = 'text/plain';
  a.filter((res, count) => {
    connections += Number(count);
    if (Number(count) > 0 && connections > limits.maxConnections) {
      refused.connections++;
      res.close();
    }
  });
  a.get('/livez', (res) => send(res, '200 OK', text, 'ok'));
  a.get('/readyz', (res) => send(res, ready ? '200 OK' : '503 Service Unavailable', text, ready ? 'ready' : 'not ready'));
  // Every other route: the token first (cheap, and keeps anonymous floods off the bucket),
  // then the request budget.
  const guarded = (handler: (res: uWS.HttpResponse, req: uWS.HttpRequest) => void) => (res: uWS.HttpResponse, req: uWS.HttpRequest): void => {
    if (tokenDigest && !bearerMatches(req.getHeader('authorization'), tokenDigest)) {
      refused.unauthorized++;
      return send(res, '401 Unauthorized', text, 'unauthorized', { 'WWW-Authenticate': 'Bearer realm="nowcast-ops"' });
    }
    if (!bucket.take()) {
      refused.limited++;
      return send(res, '429 Too Many Requests', text, 'too many requests', { 'Retry-After': '1' });
    }
    handler(res, req);
  };
  // A failed collection is logged once, on the main thread, where it failed.
  const fromCache = (res: uWS.HttpResponse, c: Coalesced<Collected>, what: string): void => {
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    c.get().then(
      (r) => { if (!aborted) send(res, '200 OK', r.contentType, r.body); },
      () => { if (!aborted) send(res, '500 Internal Server Error', text, `${what} collection failed`); },
    );
  };
  a.get('/metrics', guarded((res) => {
    if (!metricsText) return send(res, '404 Not Found', text, 'metrics are off');
    fromCache(res, metricsText, 'metrics');
  }));
  a.get('/api/streams', guarded((res) => fromCache(res, streamsJson, 'stream list')));
  a.get('/dashboard', guarded((res) => send(res, '200 OK', html, dashboardPage())));
  a.get('/', guarded((res) => send(res, '200 OK', html,
    '<!doctype html><title>Nowcast operations</title><p><a href="/dashboard">/dashboard</a> <a href="/metrics">/metrics</a> <a href="/api/streams">/api/streams</a> /livez /readyz')));
  a.any('/*', guarded((res) => send(res, '404 Not Found', text, 'not found')));
}

app = uWS.App();
mount(app);

port.on('message', (m: ToOps) => {
  switch (m.t) {
    case 'listen':
      app!.listen(m.host, m.port, (sock) => {
        if (!sock) return post({ t: 'listen-failed', message: `cannot listen on ${m.host}:${m.port} (port in use?)` });
        listenSocket = sock;
        post({ t: 'listening', port: uWS.us_socket_local_port(sock), tid: ownThreadId() });
      });
      return;
    case 'ready':
      ready = m.ready;
      return;
    case 'collected':
      settle(m.id)?.resolve({ body: m.body, contentType: m.contentType });
      return;
    case 'collect-failed':
      settle(m.id)?.reject(new Error(m.message));
      return;
    case 'stats':
      post({ t: 'stats', id: m.id, stats: { refused: { ...refused }, collections: { metrics: metricsText?.runs ?? 0, streams: streamsJson.runs } } });
      return;
    case 'close':
      // Sockets first; with the port closed too nothing is left and the thread ends on its own.
      closeSockets();
      for (const id of [...waiting.keys()]) settle(id)?.reject(new Error('closed'));
      port.close();
      return;
    default: {
      // Only ops.ts posts here: anything else is a bug, and a bug crashes the thread (see above).
      const unknown: never = m;
      throw new Error(`ops thread: unknown message ${JSON.stringify((unknown as { t?: unknown }).t)}`);
    }
  }
});
