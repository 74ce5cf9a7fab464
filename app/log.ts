// One root logger; every component takes a child of it (`log.child({ component })`).
import { pino, type Logger } from 'pino';

export type { Logger };

export function createRootLogger(level: string = process.env.NOWCAST_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'nowcast' } });
}
