// Threads of our own: a component that must not share the relay's event loop and heap (the RTMP
// gatekeeper, the operations listener) runs in a worker thread. What this gives it:
// - the module may be TypeScript: tsx is registered inside the worker first (workers do not
//   inherit a loader registered with register(), and tests run without `tsx` in execArgv);
// - its log lines go to the parent's logger, so level, format and redaction stay in one place;
// - a crash of the thread is reported, never silent.
import { Worker, parentPort, type WorkerOptions } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { createRootLogger } from './log.js';

/** A log line from a worker, as pino wrote it (JSON). */
export interface WorkerLogLine { t: 'log'; line: string }

/** tsx's ESM API, resolved next to this file so it works from any working directory. */
function tsxApi(): string {
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href;
}

/** Starts `url` (.ts or .js) in a worker thread named `name`. */
export function startWorker(url: URL, workerData: unknown, name: string, opts: Omit<WorkerOptions, 'eval' | 'workerData'> = {}): Worker {
  const target = JSON.stringify(url.href);
  const src = url.pathname.endsWith('.ts')
    ? `import(${JSON.stringify(tsxApi())}).then((api) => { api.register(); return import(${target}); })`
    : `import(${target})`;
  return new Worker(src, { ...opts, eval: true, workerData, name });
}

/** Inside a worker: a logger whose lines go to the parent (relayLogs there writes them). */
export function workerLogger(level: string): Logger {
  const port = parentPort;
  if (!port) throw new Error('workerLogger: not in a worker thread');
  return createRootLogger(level, 'json', { write: (line: string) => port.postMessage({ t: 'log', line } satisfies WorkerLogLine) });
}

/** Whether a worker message is a log line. */
export function isLogLine(m: unknown): m is WorkerLogLine {
  return typeof m === 'object' && m !== null && (m as { t?: unknown }).t === 'log' && typeof (m as { line?: unknown }).line === 'string';
}

/** In the parent: writes a worker's log line through `log` (fields kept, pino's own dropped). */
export function relayLog(log: Logger, m: WorkerLogLine): void {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(m.line) as Record<string, unknown>;
  } catch {
    return;
  }
  const { level, msg, time: _t, pid: _p, hostname: _h, app: _a, ...fields } = o;
  const label = (typeof level === 'number' ? pino.levels.labels[level] : undefined) ?? 'info';
  const write = (log as unknown as Record<string, unknown>)[label];
  if (typeof write === 'function') (write as (o: object, msg?: string) => void).call(log, fields, typeof msg === 'string' ? msg : undefined);
}
