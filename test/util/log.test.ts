// Log lines are bounded whatever a client sends: long fields are cut with their length noted,
// and a source that triggers lines at will gets a budget per window, then one summary line.
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LogLimiter, boundValue, createRootLogger, truncate, type Logger } from '../../util/log.js';

/** A pino logger whose JSON lines land in `lines`. */
function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const out = new Writable({ write(c: Buffer, _e, cb) { for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  return { log: pino<never>({ level: 'info' }, out), lines };
}

describe('bounded log fields', () => {
  it('cuts a string over 256 characters with an ellipsis and its length, and leaves short ones alone', () => {
    expect(truncate('cam1')).toBe('cam1');
    expect(truncate('x'.repeat(4 * 2 ** 20))).toBe(`${'x'.repeat(256)}… (4194304 chars)`);
  });

  it('bounds nested objects, long arrays and errors', () => {
    const v = boundValue({ a: { b: 'y'.repeat(1000) }, list: Array.from({ length: 100 }, (_, i) => i), err: new Error('e'.repeat(1000)) }) as
      { a: { b: string }; list: unknown[]; err: { message: string } };
    expect(v.a.b).toHaveLength(256 + '… (1000 chars)'.length);
    expect(v.list).toHaveLength(33);
    expect(v.err.message).toMatch(/… \(1000 chars\)$/);
  });

  it('keeps a line from the root logger short when a 4 MiB name reaches a field, a child binding, an error or the message', async () => {
    const huge = 'n'.repeat(4 * 2 ** 20);
    const chunks: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string | Uint8Array) => { chunks.push(String(c)); return true; }) as typeof process.stdout.write;
    try {
      const log = createRootLogger('info', 'json');
      log.error({ app: huge }, 'bad app');
      log.child({ stream: huge }).warn('child');
      log.error({ err: new Error(huge) }, 'failed');
      log.warn(new Error(huge));
      log.info(huge);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.stdout.write = orig;
    }
    const lines = chunks.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l.length).toBeLessThan(8 * 1024);
  });
});

describe('the log limiter', () => {
  it('writes five lines per source per 10 s, then one line saying how many it suppressed', () => {
    const { log, lines } = capture();
    let now = 0;
    const lim = new LogLimiter(log, {}, () => now);
    for (let i = 0; i < 100; i++) lim.warn('viewer refused 203.0.113.9', { i }, 'viewer refused');
    lim.warn('viewer refused 198.51.100.1', {}, 'viewer refused');
    expect(lines.filter((l) => l.msg === 'viewer refused')).toHaveLength(6);
    now = 10_000;
    lim.warn('viewer refused 203.0.113.9', {}, 'viewer refused');
    expect(lines.filter((l) => l.msg === 'log lines suppressed')).toEqual([
      expect.objectContaining({ source: 'viewer refused 203.0.113.9', suppressed: 95 }),
    ]);
    expect(lines.at(-1)?.msg).toBe('viewer refused');
    expect(lim.suppressed).toBe(95);
  });

  it('stays bounded in memory under many sources: past maxKeys they share one budget', () => {
    const { log, lines } = capture();
    const lim = new LogLimiter(log, { maxKeys: 10 }, () => 0);
    for (let i = 0; i < 10_000; i++) lim.info(`src ${i}`, {}, 'line');
    expect(lines).toHaveLength(10 + 5);
  });
});
