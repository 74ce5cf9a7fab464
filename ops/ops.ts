// The operations listener: /metrics, /api/streams and /dashboard on their own uWS app, bound to
// ops.host:ops.port (loopback by default), optionally behind a bearer token. /livez and /readyz
// answer here too (and on the public port). The app runs in a worker thread of its own
// (ops-thread.ts), at nice ops.nice: parsing, the token check, the 429s and their garbage never
// touch the relay's event loop. This side, on the main thread, answers the thread's collections
// (at most about one a second under a flood: the thread coalesces them, ops-cache.ts) and pushes
// readiness to it.
//
// A crash of the thread is logged at error level and the listener restarted once, on the same
// port; a second crash leaves it down (logged at error level) while the relay keeps serving.
// Never worker.terminate() the thread: a thread that ends with uWS sockets open aborts the whole
// process. It is asked to close ({t:'close'}) and ends on its own.
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../util/log.js';
import { startWorker, isLogLine, relayLog } from '../util/worker-thread.js';
import { PendingReplies } from '../util/pending.js';
import { streamsReport, type OpsDeps, type HttpDeps } from './http.js';
import { OPS_LIMITS, type Collection, type FromOps, type OpsLimits, type OpsStats, type OpsThreadData, type ToOps } from './ops-messages.js';

export { OPS_LIMITS, type OpsLimits, type OpsStats };

/** The operations thread's default nice value (ops.nice): it yields to the relay, even on 2 cores. */
export const OPS_NICE = 10;
/** How often the main thread reads ready() for the thread's /readyz (pushReady() pushes at once). */
export const READY_POLL_MS = 100;
/** A collection the main thread has not answered in this long gets a 500. */
const COLLECT_TIMEOUT_MS = 10_000;
/** How long close() waits for the thread to end, and the process's exit for its sockets to close. */
const CLOSE_WAIT_MS = 2_000;
const EXIT_WAIT_MS = 1_000;

const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './ops-thread.ts' : './ops-thread.js', import.meta.url);

export interface OpsServerOptions extends OpsDeps {
  log: Logger;
  /** '' requires no token. */
  token: string;
  streams: HttpDeps['streams'];
  /** Viewers waiting for names that are not live (/api/streams lists them as a count). */
  waitingViewers?: () => number;
  ready: () => boolean;
  limits?: Partial<OpsLimits>;
  /** The operations thread's nice value (0–19; ops.nice); default OPS_NICE. */
  nice?: number;
}

interface Thread { worker: Worker; closed: Int32Array }

export class OpsServer {
  #o: OpsServerOptions;
  #limits: OpsLimits;
  /** The running thread; null before listen, after close, and once it is down. */
  #thread: Thread | null = null;
  /** Threads not yet exited (one, or two briefly around a restart). */
  #live = new Set<Thread>();
  #host = '';
  #ready = false;
  #readyTimer: NodeJS.Timeout | null = null;
  #restarts = 0;
  #closing: Promise<void> | null = null;
  readonly #stats = new PendingReplies<OpsStats>();
  port = 0;
  /** Kernel id of the operations thread (Linux; 0 before listen or without procfs). */
  tid = 0;

  constructor(o: OpsServerOptions) {
    this.#o = o;
    this.#limits = { ...OPS_LIMITS, ...o.limits };
  }

  /** Starts the thread and binds host:port there; resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    if (this.#thread || this.#closing) throw new Error('ops: listen() once, before close()');
    this.#host = host;
    const bound = await this.#start(port);
    this.#o.log.info({ host, port: bound, token: this.#o.token !== '', nice: this.#o.nice ?? OPS_NICE, tid: this.tid }, 'operations listening');
    this.#readyTimer = setInterval(() => this.pushReady(), READY_POLL_MS);
    this.#readyTimer.unref();
    return bound;
  }

  /** Tells the thread's /readyz about a change of ready() now, not at the next poll. */
  pushReady(): void {
    const ready = this.#o.ready();
    if (ready === this.#ready) return;
    this.#ready = ready;
    this.#post({ t: 'ready', ready });
  }

  /** The thread's counters (a restarted thread starts from zero). */
  stats(): Promise<OpsStats> {
    const t = this.#thread;
    if (!t) return Promise.reject(new Error('ops: the operations thread is not running'));
    return this.#stats.ask((id) => t.worker.postMessage({ t: 'stats', id } satisfies ToOps));
  }

  /** For tests: the thread's Worker (never terminate() it; see the top of this file). */
  get worker(): Worker | null {
    return this.#thread?.worker ?? null;
  }

  /** Closes the listener and ends its thread. Safe to call twice. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#readyTimer) clearInterval(this.#readyTimer);
    const t = this.#thread;
    this.#thread = null;
    this.#failStats();
    this.#closing = t ? this.#stop(t) : Promise.resolve();
    return this.#closing;
  }

  #start(port: number): Promise<number> {
    this.#ready = this.#o.ready();
    const data: OpsThreadData = {
      level: this.#o.log.level,
      token: this.#o.token,
      limits: this.#limits,
      metrics: this.#o.metrics !== undefined,
      ready: this.#ready,
      nice: this.#o.nice ?? OPS_NICE,
      collectTimeoutMs: COLLECT_TIMEOUT_MS,
      closed: new Int32Array(new SharedArrayBuffer(4)),
    };
    // A young generation of a few MB: a flood's garbage is collected on this thread instead of
    // growing the process (no old-generation cap: reaching one would end the thread with uWS
    // sockets open, which aborts the process).
    const t: Thread = { worker: startWorker(ENTRY, data, 'nowcast-ops', { resourceLimits: { maxYoungGenerationSizeMb: 6 } }), closed: data.closed };
    this.#thread = t;
    if (this.#live.size === 0) process.on('exit', this.#onProcessExit);
    this.#live.add(t);
    return new Promise((resolve, reject) => {
      let listening = false;
      let crash: { message: string; stack?: string } | null = null;
      t.worker.on('message', (m: FromOps) => {
        if (isLogLine(m)) return relayLog(this.#o.log, m);
        switch (m.t) {
          case 'listening':
            listening = true;
            this.port = m.port;
            this.tid = m.tid;
            return resolve(m.port);
          case 'listen-failed':
            void this.#stop(t);
            return reject(new Error(`ops: ${m.message}`));
          case 'collect':
            return this.#collect(t, m.id, m.what);
          case 'stats':
            return this.#stats.settle(m.id, m.stats);
          case 'crashed':
            crash = m;
            return;
        }
      });
      t.worker.on('error', (err) => { crash ??= { message: err.message, ...(err.stack ? { stack: err.stack } : {}) }; });
      t.worker.on('exit', (code) => {
        this.#live.delete(t);
        if (this.#live.size === 0) process.off('exit', this.#onProcessExit);
        if (!listening) reject(new Error(`ops: the operations thread ended (code ${code}) before listening${crash ? `: ${crash.message}` : ''}`));
        if (this.#thread === t) this.#crashed(code, crash);
      });
      t.worker.postMessage({ t: 'listen', host: this.#host, port } satisfies ToOps);
    });
  }

  /** The running thread ended without being asked to: log it, restart once. */
  #crashed(code: number, crash: { message: string; stack?: string } | null): void {
    this.#thread = null;
    this.#failStats();
    const log = this.#o.log;
    log.error({ code, err: crash?.message, stack: crash?.stack, port: this.port }, 'operations thread crashed');
    if (this.#restarts >= 1 || this.port === 0) {
      log.error({ port: this.port }, 'operations listener down, not restarted again: /metrics, /api/streams and /dashboard are gone until the process restarts');
      return;
    }
    this.#restarts++;
    this.#start(this.port).then(
      (p) => log.warn({ port: p }, 'operations listener restarted'),
      (err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'operations listener could not be restarted'),
    );
  }

  /** Answers one collection of the thread; every failure is logged here, once per collection. */
  #collect(t: Thread, id: number, what: Collection): void {
    const { metrics, extras, streams, waitingViewers } = this.#o;
    Promise.resolve().then(async (): Promise<ToOps> => {
      if (what === 'streams') return { t: 'collected', id, contentType: 'application/json', body: JSON.stringify(streamsReport(streams(), extras, waitingViewers?.())) };
      if (!metrics) throw new Error('metrics are off');
      return { t: 'collected', id, contentType: metrics.contentType, body: await metrics.text() };
    }).catch((err: unknown): ToOps => {
      const message = err instanceof Error ? err.message : String(err);
      this.#o.log.error({ err: message }, `${what === 'metrics' ? 'metrics' : 'stream list'} collection failed`);
      return { t: 'collect-failed', id, message };
    }).then((reply) => { if (this.#live.has(t)) t.worker.postMessage(reply); });
  }

  #post(m: ToOps): void {
    this.#thread?.worker.postMessage(m);
  }

  #failStats(): void {
    this.#stats.failAll(new Error('ops: the operations thread ended'));
  }

  /** Asks `t` to close its sockets and end; resolves when it has (or after CLOSE_WAIT_MS). */
  #stop(t: Thread): Promise<void> {
    if (this.#thread === t) this.#thread = null;
    if (!this.#live.has(t)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#o.log.warn({ ms: CLOSE_WAIT_MS }, 'operations thread did not end after close');
        t.worker.unref();
        resolve();
      }, CLOSE_WAIT_MS);
      t.worker.once('exit', () => { clearTimeout(timer); resolve(); });
      t.worker.postMessage({ t: 'close' } satisfies ToOps);
    });
  }

  /** process.exit() with a thread still up: its sockets must close first (see the top of this file). */
  #onProcessExit = (): void => {
    for (const t of this.#live) {
      t.worker.postMessage({ t: 'close' } satisfies ToOps);
      Atomics.wait(t.closed, 0, 0, EXIT_WAIT_MS);
    }
  };
}
