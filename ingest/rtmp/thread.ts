// The relay's handle on the RTMP thread (worker.ts): starts it, answers its admission requests
// at once from the relay's state, feeds admitted publishers' tag bodies into their FLV feeds
// (publishers.ts), and counts its protocol errors. If the thread dies, its publishers are
// ended (their names freed) and it is started again on the same port.
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../../util/log.js';
import type { ProtocolErrors } from '../../util/protocol-errors.js';
import { isLogLine, relayLog, startWorker } from '../../util/worker-thread.js';
import { PendingReplies } from '../../util/pending.js';
import type { RtmpErrorCode } from './errors.js';
import { RtmpPublishers, type FeedLimits, type RtmpPublisherEvents } from './publishers.js';
import type { RtmpServerOptions } from './server.js';
import type { RtmpStats, RtmpWorkerData, ToMain, ToWorker } from './thread-messages.js';

const WORKER = new URL('./worker.ts', import.meta.url);
/** Wait before starting a thread that died again. */
const RESTART_MS = 1_000;
/**
 * The thread's V8 heap. What its connections hold (at most maxConnections × preAdmitBytes,
 * plus two messages per publisher) lives in Buffers, outside this heap; in it are the sessions'
 * small objects. A young generation of a few MB keeps an attack's garbage from growing the
 * process's memory before it is collected (a scavenge of this heap pauses only this thread),
 * and the old-generation cap keeps a bug from growing it without bound.
 */
const HEAP = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 6 };

export class RtmpThread {
  readonly #o: RtmpServerOptions;
  readonly #errors: ProtocolErrors;
  readonly #log: Logger;
  readonly #publishers: RtmpPublishers;
  #worker: Worker | null = null;
  #port = 0;
  #closed = false;
  readonly #stats = new PendingReplies<RtmpStats>();
  /** The thread's kernel id once it listens (0 before, or off Linux). */
  tid = 0;
  /** Times the thread died and was started again. */
  restarts = 0;

  constructor(o: RtmpServerOptions & FeedLimits, events: RtmpPublisherEvents, errors: ProtocolErrors, log: Logger) {
    this.#o = o;
    this.#errors = errors;
    this.#log = log;
    this.#publishers = new RtmpPublishers(events, {
      close: (id) => this.#post({ t: 'close', id }),
      fail: (id, code: RtmpErrorCode) => this.#post({ t: 'fail', id, code }),
    }, o);
  }

  /** Starts the thread; resolves with the RTMP port bound. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const w = startWorker(WORKER, { options: { ...this.#o, port: this.#port || this.#o.port }, level: this.#log.level } satisfies RtmpWorkerData, 'nowcast-rtmp', {
        resourceLimits: HEAP,
      });
      this.#worker = w;
      let up = false;
      w.on('message', (m: ToMain) => {
        if (m.t === 'listening') {
          up = true;
          this.#port = m.port;
          this.tid = m.tid;
          resolve(m.port);
        } else if (m.t === 'listen-failed') reject(new Error(m.message));
        else this.#message(m);
      });
      w.on('error', (err) => {
        if (!up) return reject(err);
        this.#log.error({ err }, 'rtmp thread failed');
      });
      w.on('exit', (code) => {
        if (this.#worker !== w) return;
        this.#worker = null;
        this.#publishers.close();
        this.#stats.failAll(new Error('the rtmp thread ended'));
        if (!up) return reject(new Error(`rtmp thread exited (${code}) before listening`));
        if (this.#closed) return;
        this.restarts++;
        this.#log.error({ code, restarts: this.restarts }, 'rtmp thread exited: its publishers are gone; starting it again');
        setTimeout(() => {
          if (!this.#closed) this.listen().catch((err: unknown) => this.#log.error({ err }, 'rtmp thread did not start again'));
        }, RESTART_MS).unref();
      });
    });
  }

  #message(m: Exclude<ToMain, { t: 'listening' | 'listen-failed' }>): void {
    switch (m.t) {
      case 'publish':
        return this.#post({ t: 'decision', id: m.id, refusal: this.#publishers.publish(m.id, m.req) });
      case 'media':
        return this.#publishers.media(m.id, m.type, m.timestamp, Buffer.from(m.body));
      case 'unpublish':
        return this.#publishers.unpublish(m.id);
      case 'error':
        return this.#errors.add('rtmp', m.code);
      case 'stats':
        return this.#stats.settle(m.id, m.stats);
      default:
        if (isLogLine(m)) relayLog(this.#log, m);
    }
  }

  #post(m: ToWorker): void {
    this.#worker?.postMessage(m);
  }

  /** The thread's connection and memory figures (tests, diagnosis). */
  stats(): Promise<RtmpStats> {
    if (!this.#worker) return Promise.reject(new Error('the rtmp thread is not running'));
    return this.#stats.ask((id) => this.#post({ t: 'stats', id }));
  }

  /** Publishers admitted and not gone. */
  get publishers(): number {
    return this.#publishers.size;
  }

  /** Stops the thread: every connection closes, every publisher ends. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#post({ t: 'stop' });
    this.#publishers.close();
    const w = this.#worker;
    // It exits once its sockets are closed; a thread stuck past that is ended.
    if (w) setTimeout(() => void w.terminate(), 2_000).unref();
  }
}
