// One root logger; every component takes a child of it (`log.child({ component })`), and lines
// about a stream, viewer or publisher carry `stream`, `viewer` (id) and `ip` fields.
// JSON lines on stdout; pino-pretty only when asked, or on a terminal with format `auto`.
//
// What an attacker sends can end up in a line (a name, a reason), so every line is bounded:
// long strings are cut (formatters and a logMethod hook), and lines a client can trigger at will
// go through LogLimiter, a per-source budget.
import { pino, stdSerializers, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogConfig {
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  level: LogLevel;
  /** json (one JSON object a line), pretty (pino-pretty), or auto: pretty only when stdout is a TTY. */
  format: LogFormat;
}

/** Longest string field kept whole (chars); longer ones are cut and their length noted. */
export const MAX_FIELD_CHARS = 256;
/** Longest message kept whole (chars). */
export const MAX_MESSAGE_CHARS = 1024;
/** Stack traces are worth more room: the frames are what a bug report needs. */
const MAX_STACK_CHARS = 4096;
/** Past these, a logged object's keys, array items and nesting are cut too. */
const MAX_KEYS = 64;
const MAX_ITEMS = 32;
const MAX_DEPTH = 4;

/** `s` cut to `max` chars with an ellipsis and its full length, e.g. `abc… (4194304 chars)`. */
export function truncate(s: string, max: number = MAX_FIELD_CHARS): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`;
}

/** A logged value with every string, key list, array and nesting level bounded. */
export function boundValue(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return truncate(v);
  if (typeof v !== 'object' || v === null) return v;
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (v instanceof Error) return boundValue({ ...stdSerializers.err(v) }, depth);
  if (Array.isArray(v)) {
    const items = v.slice(0, MAX_ITEMS).map((x) => boundValue(x, depth + 1));
    if (v.length > MAX_ITEMS) items.push(`… (${v.length} items)`);
    return items;
  }
  // Buffers and other class instances: their own serializers (or JSON) decide; only plain objects are walked.
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, x] of Object.entries(v)) {
    if (n++ >= MAX_KEYS) { out['…'] = `${Object.keys(v).length} keys`; break; }
    out[truncate(k, 64)] = k === 'stack' && typeof x === 'string' ? truncate(x, MAX_STACK_CHARS) : boundValue(x, depth + 1);
  }
  return out;
}

const bounded = (o: Record<string, unknown>): Record<string, unknown> => boundValue(o) as Record<string, unknown>;

/** Where JSON lines go instead of stdout (a worker thread's relay to its parent). */
export interface LogDestination { write(line: string): void }

export function createRootLogger(level: string = process.env.NOWCAST_LOG_LEVEL ?? 'info', format: string = 'auto', dest?: LogDestination): Logger {
  const opts: LoggerOptions = {
    level,
    base: { app: 'nowcast' },
    serializers: { err: (e: unknown) => boundValue(e instanceof Error ? { ...stdSerializers.err(e) } : e) },
    // Fields of each call (child() bindings: boundChildren).
    formatters: { log: bounded },
    hooks: {
      // The message and its printf arguments.
      logMethod(args, method) {
        const cut: unknown[] = args.map((a) => (typeof a === 'string' ? truncate(a, MAX_MESSAGE_CHARS) : a));
        // log.warn(err) alone takes err.message as the message, past this hook: give it a cut one.
        const first = cut[0];
        if (first instanceof Error && typeof cut[1] !== 'string') cut.splice(1, 0, truncate(first.message, MAX_MESSAGE_CHARS));
        method.apply(this, cut as Parameters<typeof method>);
      },
    },
  };
  const usePretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (dest) return boundChildren(pino(opts, dest));
  if (!usePretty) return boundChildren(pino(opts));
  // Synchronous, in-process: no worker thread, and lines are not lost on process.exit().
  return boundChildren(pino(opts, pretty({ sync: true, colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' })));
}

/** child() bindings bounded too: pino's bindings formatter does not see them. Children inherit the override. */
function boundChildren(root: Logger): Logger {
  const child = root.child;
  root.child = function boundChild(this: Logger, bindings, options) {
    return child.call(this, bounded(bindings), options);
  } as Logger['child'];
  return root;
}

export interface LogLimits {
  /** Lines per source per window; the rest are counted and reported once. */
  linesPerKey: number;
  windowMs: number;
  /** Sources tracked at once; past it, new sources share one budget (key `*`). */
  maxKeys: number;
}

export const DEFAULT_LOG_LIMITS: Readonly<LogLimits> = Object.freeze({ linesPerKey: 5, windowMs: 10_000, maxKeys: 1_000 });

/**
 * At most `linesPerKey` lines per source (key, e.g. `viewer refused 203.0.113.9`) per window.
 * When a window that suppressed lines has ended, one `log lines suppressed` line says how many,
 * at the next line written through this limiter. Memory is bounded by maxKeys.
 */
export class LogLimiter {
  readonly limits: LogLimits;
  /** Lines suppressed since the start (a counter for metrics). */
  suppressed = 0;
  #log: Logger;
  #now: () => number;
  #keys = new Map<string, { start: number; lines: number; suppressed: number }>();
  #nextSweep = 0;

  constructor(log: Logger, limits: Partial<LogLimits> = {}, now: () => number = Date.now) {
    this.#log = log;
    this.limits = { ...DEFAULT_LOG_LIMITS, ...limits };
    this.#now = now;
  }

  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    if (this.#take(key)) this.#log.warn(obj, msg);
  }

  info(key: string, obj: Record<string, unknown>, msg: string): void {
    if (this.#take(key)) this.#log.info(obj, msg);
  }

  /** Whether a line for `key` may be written now; counts it either way. */
  #take(key: string): boolean {
    const now = this.#now();
    const { linesPerKey, windowMs, maxKeys } = this.limits;
    if (now >= this.#nextSweep) this.#sweep(now);
    let k = this.#keys.get(key);
    if (!k) {
      if (this.#keys.size >= maxKeys) key = '*';
      k = this.#keys.get(key);
      if (!k) {
        k = { start: now, lines: 0, suppressed: 0 };
        this.#keys.set(key, k);
      }
    }
    if (now - k.start >= windowMs) {
      this.#report(key, k.suppressed);
      k.start = now;
      k.lines = 0;
      k.suppressed = 0;
    }
    if (k.lines < linesPerKey) {
      k.lines++;
      return true;
    }
    k.suppressed++;
    this.suppressed++;
    return false;
  }

  /** Reports and forgets sources whose window has ended; runs at most once a window. */
  #sweep(now: number): void {
    this.#nextSweep = now + this.limits.windowMs;
    for (const [key, k] of this.#keys) {
      if (now - k.start < this.limits.windowMs) continue;
      this.#report(key, k.suppressed);
      this.#keys.delete(key);
    }
  }

  #report(key: string, n: number): void {
    if (n > 0) this.#log.warn({ source: key, suppressed: n, windowMs: this.limits.windowMs }, 'log lines suppressed');
  }
}
