// What the operations thread (ops-thread.ts) and the main thread (ops.ts) share: the limits, the
// data the thread starts with, and every message between them, as discriminated unions on `t`.
import type { WorkerLogLine } from '../util/worker-thread.js';
import type { CoalescedOptions } from './ops-cache.js';

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
  // A collection of 1,000 streams or a full /metrics takes milliseconds of the main thread's event
  // loop (the relay's): a scrape every few seconds and a dashboard every 2 s fit in one a second, a
  // flood gets the last one.
  collect: { perSecond: 1, burst: 10, maxAgeMs: 1_000 },
};

/** What the thread starts with (workerData). */
export interface OpsThreadData {
  /** pino level of the thread's logger; its lines go to the main thread's ops logger. */
  level: string;
  /** '' requires no token. */
  token: string;
  limits: OpsLimits;
  /** Whether /metrics is served (metrics.enabled); off, it answers 404. */
  metrics: boolean;
  /** Readiness at start; later changes come as `ready` messages. */
  ready: boolean;
  /** The thread's own nice value (ops.nice); 0 leaves it at the main thread's. */
  nice: number;
  /** Longest wait for a collection's answer before the request gets a 500. */
  collectTimeoutMs: number;
  /** One Int32 over a SharedArrayBuffer: the thread sets it to 1 once its sockets are closed, so
   *  the main thread can wait for that synchronously as the process exits (Atomics.wait). */
  closed: Int32Array;
}

/** The collections the thread asks the main thread for. */
export type Collection = 'metrics' | 'streams';

/** Counters the thread keeps (tests and benchmarks read them through OpsServer.stats()). */
export interface OpsStats {
  /** Requests answered 401, 429, and connections closed at the cap. */
  refused: { unauthorized: number; limited: number; connections: number };
  /** Collections run so far (Coalesced.runs): at most a few a second under a flood. */
  collections: Record<Collection, number>;
}

/** Main thread → operations thread. */
export type ToOps =
  | { t: 'listen'; host: string; port: number }
  | { t: 'ready'; ready: boolean }
  | { t: 'collected'; id: number; body: string; contentType: string }
  | { t: 'collect-failed'; id: number; message: string }
  | { t: 'stats'; id: number }
  | { t: 'close' };

/** Operations thread → main thread. */
export type FromOps =
  | WorkerLogLine
  | { t: 'listening'; port: number; tid: number }
  | { t: 'listen-failed'; message: string }
  | { t: 'collect'; id: number; what: Collection }
  | { t: 'stats'; id: number; stats: OpsStats }
  /** An uncaught error: the thread closed its sockets and exits with code 1. */
  | { t: 'crashed'; message: string; stack?: string };
