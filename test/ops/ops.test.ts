// The operations listener (ops/ops.ts) alone, on loopback ports: its own thread, the connection
// cap, collections asked of the main thread, readiness pushed to it, crashes and exits.
// With the whole app behind it: test/integration/ops/ops-listener.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, type Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import uWS from 'uWebSockets.js';
import { OpsServer, READY_POLL_MS, type OpsServerOptions } from '../../ops/ops.js';
import { createRootLogger } from '../../util/log.js';

const quiet = createRootLogger('silent');
const base = { log: quiet, token: '', streams: () => [], ready: () => true };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const servers: OpsServer[] = [];

async function started(o: Partial<OpsServerOptions> = {}): Promise<OpsServer> {
  const ops = new OpsServer({ ...base, ...o });
  servers.push(ops);
  await ops.listen('127.0.0.1', 0);
  return ops;
}

/** A logger that keeps its lines. */
function captured(): { log: OpsServerOptions['log']; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c)) as Record<string, unknown>); cb(); } }));
  return { log, lines };
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(20)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

afterEach(async () => { await Promise.all(servers.splice(0).map((s) => s.close())); });

describe('the operations listener connection cap', () => {
  const sockets: Socket[] = [];
  afterAll(() => { for (const s of sockets) s.destroy(); });

  it('closes a connection past ops connections cap at once and keeps the others', async () => {
    const ops = await started({ limits: { maxConnections: 2 } });
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
    expect((await ops.stats()).refused.connections).toBe(1);
    a.write('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
    const reply = await new Promise<string>((r) => a.once('data', (d) => r(d.toString())));
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(b.destroyed).toBe(false);
  });
});

describe('the operations listener thread', () => {
  // A client on a thread of its own: it reports when the answer came, by the wall clock.
  let client: Worker;
  beforeAll(async () => {
    client = new Worker(`
      const { parentPort } = require('node:worker_threads');
      const http = require('node:http');
      parentPort.on('message', (url) => {
        http.get(url, { agent: false }, (res) => {
          res.resume();
          res.on('end', () => parentPort.postMessage({ status: res.statusCode, at: Date.now() }));
        }).on('error', (e) => parentPort.postMessage({ error: e.message, at: Date.now() }));
      });
      parentPort.postMessage('ready');`, { eval: true });
    await new Promise((r) => client.once('message', r));
  });
  afterAll(() => client.terminate());

  /** Asks the client for `url`, then keeps this thread busy for 300 ms. */
  async function duringBlock(url: string): Promise<{ status?: number; error?: string; at: number; blockEnd: number }> {
    const reply = new Promise<{ status?: number; error?: string; at: number }>((r) => client.once('message', r));
    client.postMessage(url);
    const end = Date.now() + 300;
    while (Date.now() < end) { /* the main thread is busy */ }
    const blockEnd = Date.now();
    return { ...(await reply), blockEnd };
  }

  it('answers /livez while the main thread is blocked, which a listener on the main thread cannot', async () => {
    const ops = await started();
    const url = `http://127.0.0.1:${ops.port}/livez`;
    expect((await fetch(url)).status).toBe(200);
    const off = await duringBlock(url);
    expect(off.status, JSON.stringify(off)).toBe(200);
    expect(off.at, JSON.stringify(off)).toBeLessThan(off.blockEnd);

    // The same probe against a uWS app on this thread, as the listener was before: answered only after.
    const app = uWS.App().get('/livez', (res) => { res.end('ok'); });
    const sock = await new Promise<uWS.us_listen_socket>((resolve, reject) => app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('listen')))));
    try {
      const on = await duringBlock(`http://127.0.0.1:${uWS.us_socket_local_port(sock)}/livez`);
      expect(on.status, JSON.stringify(on)).toBe(200);
      expect(on.at, JSON.stringify(on)).toBeGreaterThanOrEqual(on.blockEnd);
    } finally {
      uWS.us_listen_socket_close(sock);
      app.close();
    }
  });

  it('runs at ops.nice, a thread of its own', async () => {
    const ops = await started({ nice: 7 });
    expect(ops.tid).toBeGreaterThan(0);
    expect(ops.tid).not.toBe(process.pid);
    const { readFileSync } = await import('node:fs');
    const stat = readFileSync(`/proc/self/task/${ops.tid}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])).toBe(7); // field 19: nice
  });

  it('answers /metrics and /api/streams with what the main thread collected, and 500 once a collection fails', async () => {
    const { log, lines } = captured();
    let fail = false;
    const ops = await started({
      log,
      streams: () => [],
      waitingViewers: () => 3,
      metrics: { contentType: 'text/plain; version=0.0.4', text: async () => { if (fail) throw new Error('registry broke'); return 'up 1\n'; } },
      limits: { collect: { perSecond: 100, burst: 100, maxAgeMs: 0 } },
    });
    const m = await fetch(`http://127.0.0.1:${ops.port}/metrics`);
    expect([m.status, m.headers.get('content-type'), await m.text()]).toEqual([200, 'text/plain; version=0.0.4', 'up 1\n']);
    const s = await fetch(`http://127.0.0.1:${ops.port}/api/streams`);
    expect([s.status, s.headers.get('content-type'), await s.json()]).toEqual([200, 'application/json', { streams: [], waitingViewers: 3 }]);
    fail = true;
    expect((await fetch(`http://127.0.0.1:${ops.port}/metrics`)).status).toBe(500);
    expect(lines.filter((l) => l.msg === 'metrics collection failed')).toEqual([expect.objectContaining({ level: 50, err: 'registry broke' })]);
    expect((await ops.stats()).collections).toEqual({ metrics: 2, streams: 1 });
  });

  it('answers /metrics 404 when metrics are off', async () => {
    const ops = await started();
    expect((await fetch(`http://127.0.0.1:${ops.port}/metrics`)).status).toBe(404);
  });

  it('follows ready() on /readyz: at once after pushReady(), within a few polls without it', async () => {
    let ready = true;
    const ops = await started({ ready: () => ready });
    const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${ops.port}/readyz`)).status;
    expect(await readyz()).toBe(200);
    ready = false;
    ops.pushReady();
    expect(await readyz()).toBe(503);
    ready = true;
    await sleep(READY_POLL_MS * 3);
    expect(await readyz()).toBe(200);
  });

  it('refuses to listen on a port in use, and ends its thread', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as { port: number }).port;
      const ops = new OpsServer(base);
      servers.push(ops);
      await expect(ops.listen('127.0.0.1', port)).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+/);
      await until('the thread to end', () => ops.worker === null);
    } finally {
      taken.close();
    }
  });

  it('logs a crash of its thread at error level and restarts the listener once on the same port; a second crash leaves it down', async () => {
    const { log, lines } = captured();
    const ops = await started({ log });
    const port = ops.port;
    const livez = (): Promise<Response> => fetch(`http://127.0.0.1:${port}/livez`);
    ops.worker!.postMessage({ t: 'not a message' }); // a bug in the thread: an uncaught error
    await until('the restart', () => lines.some((l) => l.msg === 'operations listener restarted'));
    expect(lines.find((l) => l.msg === 'operations thread crashed')).toMatchObject({ level: 50, code: 1, err: expect.stringContaining('unknown message') });
    expect(ops.port).toBe(port);
    expect((await livez()).status).toBe(200);

    ops.worker!.postMessage({ t: 'not a message' });
    await until('the second crash', () => lines.some((l) => String(l.msg).startsWith('operations listener down')));
    expect(lines.filter((l) => l.msg === 'operations thread crashed')).toHaveLength(2);
    expect(ops.worker).toBe(null);
    await expect(livez()).rejects.toThrow();
    await expect(ops.stats()).rejects.toThrow(/not running/);
  });

  it('closes its port and ends its thread, and close() twice is safe', async () => {
    const ops = await started();
    const w = ops.worker!;
    const exited = new Promise<number>((r) => w.once('exit', r));
    await Promise.all([ops.close(), ops.close()]);
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${ops.port}/livez`)).rejects.toThrow();
  });

  it('lets the process exit with the listener still up (its sockets close first, no abort)', () => {
    // A thread that ends with uWS sockets open aborts the process (SIGABRT, status 134).
    const mod = JSON.stringify(fileURLToPath(new URL('../../ops/ops.ts', import.meta.url)));
    const log = JSON.stringify(fileURLToPath(new URL('../../util/log.ts', import.meta.url)));
    const script = `
      const { OpsServer } = await import(${mod});
      const { createRootLogger } = await import(${log});
      const ops = new OpsServer({ log: createRootLogger('silent'), token: '', streams: () => [], ready: () => true });
      const port = await ops.listen('127.0.0.1', 0);
      console.log((await fetch('http://127.0.0.1:' + port + '/livez')).status);
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: r.status, signal: r.signal, out: r.stdout.trim() }, r.stderr).toEqual({ status: 0, signal: null, out: '200' });
  });
});
