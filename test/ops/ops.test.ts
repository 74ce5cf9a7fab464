// The operations listener (ops/ops.ts) alone, on a loopback port: its connection cap.
// With the whole app behind it: test/integration/ops/ops-listener.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { OpsServer } from '../../ops/ops.js';
import { createRootLogger } from '../../util/log.js';

describe('the operations listener connection cap', () => {
  let ops: OpsServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    ops = new OpsServer({ log: createRootLogger('silent'), token: '', streams: () => [], ready: () => true, limits: { maxConnections: 2 } });
    await ops.listen('127.0.0.1', 0);
  });
  afterAll(() => { for (const s of sockets) s.destroy(); ops.close(); });

  it('closes a connection past ops connections cap at once and keeps the others', async () => {
    const dial = (): Promise<Socket> => new Promise((resolve, reject) => {
      const s = connect(ops.port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
      sockets.push(s);
    });
    const closed = (s: Socket): Promise<boolean> => new Promise((r) => {
      if (s.destroyed || s.readableEnded) return r(true);
      s.once('close', () => r(true));
      setTimeout(() => r(false), 1_000);
    });
    const a = await dial();
    const b = await dial();
    const c = await dial();
    c.resume();
    expect(await closed(c)).toBe(true);
    expect(ops.refused.connections).toBe(1);
    a.write('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
    const reply = await new Promise<string>((r) => a.once('data', (d) => r(d.toString())));
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(b.destroyed).toBe(false);
  });
});
