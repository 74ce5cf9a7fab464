// The operations listener (ops/ops.ts) on real sockets: /metrics, /api/streams and /dashboard
// live on ops.port only, behind an optional bearer token; health answers on both ports; the
// public stream list hides token-protected streams; a flood of ops requests stays cheap.
// The listener's connection cap, without the app: test/ops/ops.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { parse, value } from '../../helpers/prom.js';
import { OPS_LIMITS } from '../../../ops/ops.js';

const TOKEN = 'ops-token-0123456789abcdef';
let open: Running;
let locked: Running;
const pubs: Publisher[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const status = async (url: string, init?: RequestInit): Promise<number> => (await fetch(url, init)).status;
const bearer = (t: string): RequestInit => ({ headers: { authorization: `Bearer ${t}` } });

async function untilLive(n: Running, name: string, init?: RequestInit): Promise<void> {
  for (const end = Date.now() + 20_000; Date.now() < end; await sleep(200)) {
    const r = await fetch(`${n.ops}/api/streams`, init);
    const { streams } = (await r.json()) as { streams: Array<{ name: string; state: string }> };
    if (streams.some((s) => s.name === name && s.state === 'live')) return;
  }
  throw new Error(`${name} did not go live`);
}

beforeAll(async () => {
  open = await startNowcast({ srt: { listeners: [] } });
  locked = await startNowcast({
    srt: { listeners: [] },
    ops: { token: TOKEN },
    security: { secret: 'view-secret-0123456789', requireViewerToken: true },
  });
  pubs.push(new Publisher({ url: open.rtmp('lobby') }), new Publisher({ url: locked.rtmp('vault') }));
  await Promise.all([untilLive(open, 'lobby'), untilLive(locked, 'vault', bearer(TOKEN))]);
}, 30_000);

afterAll(async () => {
  await Promise.all(pubs.map((p) => p.stop()));
  await open?.app.close();
  await locked?.app.close();
});

describe('the operations listener', () => {
  it('serves /metrics, /api/streams and /dashboard on the operations port and 404 for them on the public port', async () => {
    expect(open.app.opsPort).toBeGreaterThan(0);
    expect(open.app.opsPort).not.toBe(open.app.httpPort);
    const m = await fetch(`${open.ops}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toContain('nowcast_build_info');
    const api = (await (await fetch(`${open.ops}/api/streams`)).json()) as { streams: Array<Record<string, unknown>> };
    expect(api.streams.find((s) => s.name === 'lobby')).toMatchObject({ state: 'live', publisher: 'rtmp', codecs: expect.any(String) });
    expect(await (await fetch(`${open.ops}/dashboard`)).text()).toContain("fetch('/metrics')");
    for (const path of ['/metrics', '/api/streams', '/dashboard']) expect(await status(`${open.http}${path}`), path).toBe(404);
  });

  it('answers /livez and /readyz on both listeners, without a token even when ops.token is set', async () => {
    for (const n of [open, locked]) {
      for (const base of [n.http, n.ops]) {
        expect(await status(`${base}/livez`)).toBe(200);
        expect(await status(`${base}/readyz`)).toBe(200);
      }
    }
  });

  it('requires the bearer token on every other operations route, and accepts only the exact token', async () => {
    for (const path of ['/metrics', '/api/streams', '/dashboard', '/', '/nope']) {
      expect(await status(`${locked.ops}${path}`), `${path} without a token`).toBe(401);
      expect(await status(`${locked.ops}${path}`, bearer(`${TOKEN}x`)), `${path} with a longer token`).toBe(401);
      expect(await status(`${locked.ops}${path}`, bearer(TOKEN.slice(0, -1))), `${path} with a shorter token`).toBe(401);
      expect(await status(`${locked.ops}${path}`, { headers: { authorization: TOKEN } }), `${path} without the scheme`).toBe(401);
    }
    const r = await fetch(`${locked.ops}/metrics`);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await status(`${locked.ops}/metrics`, bearer(TOKEN))).toBe(200);
    expect(await status(`${locked.ops}/api/streams`, { headers: { authorization: `bearer ${TOKEN}` } })).toBe(200);
    expect(await status(`${locked.ops}/dashboard`, bearer(TOKEN))).toBe(200);
  });

  it('lists on the public /streams.json only streams that need no view token, with name, state and viewers only', async () => {
    const pub = (await (await fetch(`${open.http}/streams.json`)).json()) as { streams: Array<Record<string, unknown>> };
    expect(pub.streams).toContainEqual({ name: 'lobby', state: 'live', viewers: 0 });
    expect(Object.keys(pub.streams[0]!).sort()).toEqual(['name', 'state', 'viewers']);
    // A name a viewer waits on is not live: it is not listed (anyone could fill the page with names).
    const waiter = new WebSocket(open.ws('made-up-name'));
    await new Promise((r) => waiter.once('open', r));
    await new Promise((r) => setTimeout(r, 1_100)); // past the list's 1 s cache
    const after = (await (await fetch(`${open.http}/streams.json`)).json()) as { streams: Array<{ name: string }> };
    expect(after.streams.map((s) => s.name)).not.toContain('made-up-name');
    // Nor on the operations list: there it is a count.
    const ops = (await (await fetch(`${open.ops}/api/streams`)).json()) as { streams: Array<{ name: string }>; waitingViewers: number };
    expect(ops.streams.map((s) => s.name)).not.toContain('made-up-name');
    expect(ops.waitingViewers).toBeGreaterThanOrEqual(1);
    waiter.terminate();
    // security.requireViewerToken: every stream needs a token, so the public list is empty…
    const hidden = (await (await fetch(`${locked.http}/streams.json`)).json()) as { streams: unknown[] };
    expect(hidden.streams).toEqual([]);
    // …while the operations list still has it.
    const full = (await (await fetch(`${locked.ops}/api/streams`, bearer(TOKEN))).json()) as { streams: Array<{ name: string }> };
    expect(full.streams.map((s) => s.name)).toContain('vault');
    // The public page polls the public list, not the operations one.
    const page = await (await fetch(`${open.http}/`)).text();
    expect(page).toContain("fetch('/streams.json')");
    expect(page).not.toContain('/api/streams');
  });

  it('counts protocol errors from the ingest and bad viewer messages in nowcast_protocol_errors_total', async () => {
    open.app.ingest.errors.add('rtmp', 'RTMP_TEST_CODE');
    open.app.ingest.errors.add('rtmp', 'RTMP_TEST_CODE');
    const ws = new WebSocket(`${open.ws('lobby')}`);
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    ws.send(Buffer.from([1, 2, 3]));
    ws.send('not json');
    const end = Date.now() + 5_000;
    while (open.app.relay.badMessages < 2 && Date.now() < end) await sleep(20);
    ws.close();
    const m = parse(await (await fetch(`${open.ops}/metrics`)).text());
    expect(value(m, 'nowcast_protocol_errors_total', { protocol: 'rtmp', code: 'RTMP_TEST_CODE' })).toBe(2);
    expect(value(m, 'nowcast_protocol_errors_total', { protocol: 'ws', code: 'BAD_MESSAGE' })).toBe(2);
    expect(value(m, 'nowcast_viewer_bad_messages_total')).toBe(2);
  });

  it('collects /metrics only a few times while 48 clients hammer it, and the public /livez keeps answering', async () => {
    const ops = open.app.ops;
    const runs0 = (await ops.stats()).collections.metrics;
    const codes = new Map<number, number>();
    let livez = 0;
    const until = Date.now() + 2_000;
    const client = async (): Promise<void> => {
      for (let i = 0; i < 2_000 && Date.now() < until; i++) {
        const r = await fetch(`${open.ops}/metrics`);
        await r.arrayBuffer();
        codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
      }
    };
    const prober = async (): Promise<void> => {
      for (let i = 0; i < 400 && Date.now() < until; i++) {
        if ((await fetch(`${open.http}/livez`)).status === 200) livez++;
        await sleep(10);
      }
    };
    await Promise.all([...Array.from({ length: 48 }, client), prober()]);
    const runs = (await ops.stats()).collections.metrics - runs0;
    // Uncached, every 200 would be a collection; the budget allows its burst, its rate for 2 s, and
    // a collection when the cached text expires (once a second).
    const { burst, perSecond } = OPS_LIMITS.collect;
    const seen = JSON.stringify({ runs, codes: Object.fromEntries(codes), livez });
    expect(runs, seen).toBeLessThanOrEqual(burst + perSecond * 2 + 3);
    // More answers than collections: the rest came from the cache (or were refused, 429).
    expect(codes.get(200)!, seen).toBeGreaterThan(runs);
    expect([...codes.keys()].every((c) => c === 200 || c === 429), seen).toBe(true);
    expect(livez, seen).toBeGreaterThan(0);
  });
});
