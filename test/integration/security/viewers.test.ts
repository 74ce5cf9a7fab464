// Anonymous viewers against the real relay, on real sockets: viewers waiting for names that are
// not live can't lock publishers out and are bounded on their own, per-address limits see the
// client a trusted proxy names (and only a trusted one), forged QoE reports don't reach the
// metrics, and a sequence-header storm costs each viewer one init segment.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';
import { Relay } from '../../../relay/relay.js';
import { Guard } from '../../../admission/guard.js';
import { defaults, loadConfig } from '../../../app/config.js';
import { fakeChunk, fakeInit } from '../../helpers/fake-media.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const running: Running[] = [];
const sockets: WebSocket[] = [];
const pubs: Publisher[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await Promise.all(pubs.splice(0).map((p) => p.stop()));
  for (const n of running.splice(0)) n.app.close();
});

async function nowcast(o: Parameters<typeof startNowcast>[0]): Promise<Running> {
  const n = await startNowcast(o);
  running.push(n);
  return n;
}

interface Connection { status: number; code?: string; ws: WebSocket; texts: Array<{ type: string; code?: string }>; binaries: Buffer[] }

/** Opens a WebSocket, recording every message: 101 when it opened (kept open), else the refusal's status and code. */
function connect(url: string, headers: Record<string, string> = {}): Promise<Connection> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    const texts: Connection['texts'] = [];
    const binaries: Buffer[] = [];
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (binary) binaries.push(Buffer.from(d));
      else texts.push(JSON.parse(d.toString()) as { type: string; code?: string });
    });
    sockets.push(ws);
    ws.on('open', () => resolve({ status: 101, ws, texts, binaries }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => {
        let code: string | undefined;
        try { code = (JSON.parse(body) as { code?: string }).code; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, ...(code ? { code } : {}), ws, texts, binaries });
      });
    });
    ws.on('error', () => { /* reported through unexpected-response */ });
  });
}

describe('viewers waiting for names that are not live', () => {
  it('do not count against maxStreams: with more waiting names than the limit, a real publisher still goes live', async () => {
    const n = await nowcast({ limits: { maxStreams: 3 } });
    for (let i = 0; i < 10; i++) expect((await connect(n.ws(`nobody${i}`))).status).toBe(101);
    expect(n.app.relay.streamCount).toBe(10);
    expect(n.app.relay.liveStreamCount).toBe(0);
    pubs.push(new Publisher({ url: n.rtmp('real') }));
    const v = new Viewer(n.ws('real'));
    sockets.push(v.ws);
    await v.until(() => v.chunks().length >= 5, 20_000, 'the real publisher\'s chunks');
    expect(n.app.relay.liveStreamCount).toBe(1);
  }, 30_000);

  it('are bounded per address and in total, and a name going live frees their slots', async () => {
    const n = await nowcast({
      security: { trustedProxies: ['127.0.0.1'] },
      limits: { maxWaitingViewers: 4, maxWaitingViewersPerIp: 2, upgradesPerSecondPerIp: 1000 },
    });
    const from = (ip: string): Record<string, string> => ({ 'X-Forwarded-For': ip });
    expect((await connect(n.ws('a'), from('198.51.100.1'))).status).toBe(101);
    expect((await connect(n.ws('b'), from('198.51.100.1'))).status).toBe(101);
    expect(await connect(n.ws('c'), from('198.51.100.1'))).toMatchObject({ status: 429, code: 'WAITING_LIMIT_IP' });
    expect((await connect(n.ws('c'), from('198.51.100.2'))).status).toBe(101);
    expect((await connect(n.ws('d'), from('198.51.100.3'))).status).toBe(101);
    // The total applies to everyone, loopback included.
    expect(await connect(n.ws('e'))).toMatchObject({ status: 503, code: 'WAITING_LIMIT' });
    expect(await n.app.metrics!.registry.getSingleMetricAsString('nowcast_waiting_viewers')).toContain('nowcast_waiting_viewers 4');
    // Name `a` goes live: its waiter no longer waits, so another may.
    n.app.relay.sink('a').init(fakeInit('A'));
    expect((await connect(n.ws('e'))).status).toBe(101);
    // Closing a waiter frees its slot too.
    const last = await connect(n.ws('f'));
    expect(last).toMatchObject({ status: 503, code: 'WAITING_LIMIT' });
    sockets.find((s) => s.url.endsWith('/live/d'))!.terminate();
    await sleep(200);
    expect((await connect(n.ws('f'))).status).toBe(101);
  });

  it('are told STREAM_NOT_LIVE and closed once they have waited limits.maxWaitMs', async () => {
    const n = await nowcast({ limits: { maxWaitMs: 300 } });
    const { ws, texts } = await connect(n.ws('never'));
    const t0 = Date.now();
    const code = await new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(code).toBe(4408);
    expect(texts.at(-1)).toMatchObject({ type: 'error', code: 'STREAM_NOT_LIVE' });
    expect(n.app.relay.streamCount).toBe(0);
  });
});

describe('per-address limits behind a reverse proxy', () => {
  it('count the client a trusted proxy names, though the proxy is loopback, and cap viewers per client', async () => {
    const n = await nowcast({ security: { trustedProxies: ['127.0.0.1'] }, limits: { maxViewersPerIp: 2, upgradesPerSecondPerIp: 1000 } });
    const h = { 'X-Forwarded-For': '203.0.113.50' };
    expect((await connect(n.ws('cam'), h)).status).toBe(101);
    expect((await connect(n.ws('cam'), h)).status).toBe(101);
    expect(await connect(n.ws('cam'), h)).toMatchObject({ status: 429, code: 'VIEWER_LIMIT_IP' });
    // A client that forges a hop to the left of the proxy's gets nothing from it.
    expect(await connect(n.ws('cam'), { 'X-Forwarded-For': '192.0.2.1, 203.0.113.50' })).toMatchObject({ status: 429 });
    expect((await connect(n.ws('cam'), { Forwarded: 'for=203.0.113.51' })).status).toBe(101);
  });

  it('ignore forwarding headers from a peer that is not a trusted proxy', async () => {
    const n = await nowcast({ limits: { maxViewersPerIp: 2, limitLoopback: true, upgradesPerSecondPerIp: 1000 } });
    expect((await connect(n.ws('cam'), { 'X-Forwarded-For': '203.0.113.1' })).status).toBe(101);
    expect((await connect(n.ws('cam'), { 'X-Forwarded-For': '203.0.113.2' })).status).toBe(101);
    expect(await connect(n.ws('cam'), { 'X-Forwarded-For': '203.0.113.3' })).toMatchObject({ status: 429, code: 'VIEWER_LIMIT_IP' });
  });
});

describe('forged QoE reports', () => {
  it('never add a total that went down and up again, nor billions of stalls, to the metrics', async () => {
    const n = await nowcast({});
    const { ws } = await connect(n.ws('q'));
    const report = (stalls: number, stallMs: number): string => JSON.stringify({
      type: 'qoe', intervalMs: 1000, startupMs: 100, latencyP50Ms: 200, latencyP95Ms: 210, latencyP99Ms: 220, latencyMs: 200,
      targetMs: 200, stalls, stallMs, rateChanges: 0, jumps: 0, droppedFrames: 0, rate: 1, policy: 'nowcast', pinned: false, clockOffsetMs: 0,
    });
    // What the finding did: a huge total, then one that goes down (which restarted the delta), then huge again.
    for (const [stalls, stallMs] of [[1e9, 1e9], [0, 0], [1e9, 1e9], [2, 300]] as const) {
      ws.send(report(stalls, stallMs));
      await sleep(1050);
    }
    const q = n.app.relay.stream('q')!.qoe;
    expect(q.implausible).toBe(2);
    expect(q.report(1)?.stalls ?? q.summary(Date.now()).stalls).toBe(2);
    const text = await n.app.metrics!.registry.getSingleMetricAsString('nowcast_qoe_stalls_total');
    const total = [...text.matchAll(/^nowcast_qoe_stalls_total\{[^}]*\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(total).toBeLessThanOrEqual(2);
    const reports = await n.app.metrics!.registry.getSingleMetricAsString('nowcast_qoe_reports_total');
    expect(reports).toContain('nowcast_qoe_reports_total{result="implausible"} 2');
    expect(reports).toContain('nowcast_qoe_reports_total{result="accepted"} 2');
  });
});

describe('forged QoE reports from reconnecting viewers', () => {
  it('count no more stalls than the time each socket was open allows, however many reconnects', async () => {
    const n = await nowcast({});
    const report = JSON.stringify({
      type: 'qoe', intervalMs: 1000, startupMs: 100, latencyP50Ms: 200, latencyP95Ms: 210, latencyP99Ms: 220, latencyMs: 200,
      targetMs: 200, stalls: 290, stallMs: 50_000, rateChanges: 0, jumps: 0, droppedFrames: 0, rate: 1, policy: 'nowcast', pinned: false, clockOffsetMs: 0,
    });
    // 290 stalls is within the 60 s of history a reconnecting player may claim, so each report is
    // accepted; before, each new socket added all 290 to the metrics.
    for (let i = 0; i < 5; i++) {
      const { ws } = await connect(n.ws('reconnect'));
      await sleep(400);
      ws.send(report);
      await sleep(100);
      ws.terminate();
    }
    const text = await n.app.metrics!.registry.getSingleMetricAsString('nowcast_qoe_stalls_total');
    const total = [...text.matchAll(/^nowcast_qoe_stalls_total\{[^}]*\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(n.app.relay.qoeTotals.accepted).toBe(5);
    // At most 5 stalls a second over ~0.4 s open, per socket.
    expect(total).toBeLessThanOrEqual(5 * 3);
  });
});


let relay: Relay | null = null;
afterAll(() => relay?.close());

describe('a sequence-header storm', () => {
  it('gives each of 10 viewers one init segment for 30 header changes in a burst, and the media goes on', async () => {
    relay = new Relay({ config: loadConfig({}, {}).relay, log: pino({ level: 'silent' }), service: () => defaults.latency.default });
    const port = await relay.listen('127.0.0.1', 0);
    const sink = relay.sink('storm');
    sink.init(fakeInit('A'));
    sink.chunk(fakeChunk(1, true));
    const viewers = await Promise.all(Array.from({ length: 10 }, async () => (await connect(`ws://127.0.0.1:${port}/live/storm`)).binaries));
    await sleep(100);
    let seq = 2;
    for (let i = 0; i < 30; i++) {
      sink.init(fakeInit(`B${i}`));
      sink.chunk(fakeChunk(seq++, false));
    }
    sink.chunk(fakeChunk(seq++, true));
    for (let i = 0; i < 5; i++) sink.chunk(fakeChunk(seq++, false));
    await sleep(300);
    for (const seen of viewers) {
      const inits = seen.filter((b) => b.toString('latin1', 4, 8) === 'ftyp').map((b) => b.toString('latin1', 16));
      expect(inits).toEqual(['A', 'B29']);
      const chunks = seen.filter((b) => b.toString('latin1', 4, 8) === 'moof').map((b) => b.readUInt32BE(8));
      expect(chunks).toEqual([1, 32, 33, 34, 35, 36, 37]);
    }
    expect(relay.stream('storm')!.generation).toBe(2);
  });
});

describe('viewer refusals in the log', () => {
  it('take at most five lines per address in the log, however many refusals there are', async () => {
    const lines: Array<{ msg: string; suppressed?: number }> = [];
    const out = new Writable({ write(c: Buffer, _e, cb) { for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string }); cb(); } });
    const cfg = loadConfig({}, {});
    const guard = new Guard({ ...cfg.security, ...cfg.limits, allowedOrigins: ['https://shop.example'] });
    relay = new Relay({ config: cfg.relay, log: pino({ level: 'info' }, out), service: () => cfg.latency.default, admission: guard });
    const port = await relay.listen('127.0.0.1', 0);
    for (let i = 0; i < 40; i++) {
      expect((await connect(`ws://127.0.0.1:${port}/live/x`, { Origin: 'https://evil.example' })).status).toBe(403);
    }
    expect(lines.filter((l) => l.msg === 'viewer refused')).toHaveLength(5);
    relay.close();
    relay = null;
  });
});
