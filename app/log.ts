// One root logger; every component takes a child of it (`log.child({ component })`), and lines
// about a stream, viewer or publisher carry `stream`, `viewer` (id) and `ip` fields.
// JSON lines on stdout; pino-pretty only when asked, or on a terminal with format `auto`.
import { pino, stdSerializers, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

export function createRootLogger(level: string = process.env.NOWCAST_LOG_LEVEL ?? 'info', format: string = 'auto'): Logger {
  const opts = { level, base: { app: 'nowcast' }, serializers: { err: stdSerializers.err } };
  const usePretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!usePretty) return pino(opts);
  // Synchronous, in-process: no worker thread, and lines are not lost on process.exit().
  return pino(opts, pretty({ sync: true, colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' }));
}
