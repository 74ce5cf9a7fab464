// Our threads: a TypeScript module runs in a worker (tsx registered inside it), and its log lines
// reach the parent's logger with their fields, bounded like any other line.
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startWorker, isLogLine, relayLog } from '../../util/worker-thread.js';

describe('a worker thread of ours', () => {
  it('runs a TypeScript module and relays its log lines to the parent logger', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const parent = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c)) as Record<string, unknown>); cb(); } }));
    const w = startWorker(new URL('../fixtures/echo-worker.ts', import.meta.url), { level: 'info' }, 'echo');
    try {
      const echoed = new Promise<unknown>((resolve) => {
        w.on('message', (m: unknown) => {
          if (isLogLine(m)) relayLog(parent, m);
          else resolve(m);
        });
      });
      w.postMessage('ping');
      expect(await echoed).toEqual({ t: 'echo', m: 'ping' });
      await new Promise((r) => setTimeout(r, 50));
      const up = lines.find((l) => l.msg === 'echo worker up');
      expect(up).toMatchObject({ level: 40, component: 'echo' });
      expect(String(up!.name).length).toBeLessThan(300); // cut in the worker, like every field
    } finally {
      await w.terminate();
    }
  });
});
