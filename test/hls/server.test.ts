// The LL-HLS endpoints on a stand-in uWS app and a simulated clock: what each request gets,
// blocking reloads and hinted parts answered when the window changes or after the timeout,
// aborted requests left alone, refusals counted, view tokens and Origin, a forgotten stream.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { Hls, LINGER_MS } from '../../hls/server.js';
import { viewAccess } from '../../hls/access.js';
import { signToken, verifyToken } from '../../admission/auth.js';
import { ProtocolErrors } from '../../util/protocol-errors.js';
import { createRootLogger } from '../../util/log.js';
import type { HlsConfig } from '../../hls/config.js';
import { initOf, remuxChunks } from './fixtures.js';

class FakeRes {
  status = '';
  headers: Record<string, string> = {};
  body: string | Buffer | null = null;
  aborted: (() => void) | null = null;
  writeStatus(s: string): this { this.status = s; return this; }
  writeHeader(k: string, v: string): this { this.headers[k] = v; return this; }
  end(b: string | Buffer): this {
    if (this.body !== null) throw new Error('answered twice');
    this.body = b;
    return this;
  }
  cork(fn: () => void): this { fn(); return this; }
  onAborted(fn: () => void): this { this.aborted = fn; return this; }
  get text(): string { return String(this.body); }
  get json(): { code: string } { return JSON.parse(this.text) as { code: string }; }
}

type Handler = (res: HttpResponse, req: HttpRequest) => void;

class FakeApp {
  routes = new Map<string, Handler>();
  get(pattern: string, h: Handler): this { this.routes.set(pattern, h); return this; }
  request(path: string, headers: Record<string, string> = {}): FakeRes {
    const [p, q] = path.split('?');
    const parts = p!.split('/'); // '', 'hls', NAME, FILE
    const res = new FakeRes();
    const req = { getParameter: (i: number) => parts[2 + i], getQuery: () => q, getHeader: (k: string) => headers[k] ?? '' };
    this.routes.get('/hls/:name/:file')!(res as unknown as HttpResponse, req as unknown as HttpRequest);
    return res;
  }
}

const CONFIG: HlsConfig = { enabled: true, partTargetMs: 200, windowSegments: 6, maxStreamBytes: 32 * 1024 * 1024, maxWaiters: 3 };
let clock = 1_800_000_000_000;
let errors: ProtocolErrors;

function setup(o: { config?: Partial<HlsConfig>; access?: ReturnType<typeof viewAccess> } = {}): { hls: Hls; app: FakeApp } {
  errors = new ProtocolErrors();
  const hls = new Hls({ config: { ...CONFIG, ...o.config }, log: createRootLogger('silent'), errors, access: o.access, now: () => clock });
  const app = new FakeApp();
  hls.mount(app as unknown as TemplatedApp);
  return { hls, app };
}

/** Publishes `n` frames of stream `name` through the tap, 33 ms of simulated time apart. */
function publish(hls: Hls, name: string, n: number, from = 0): void {
  if (from === 0) hls.init(name, 1, initOf());
  for (const c of remuxChunks(n).slice(from)) hls.chunk(name, c);
}

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('the LL-HLS endpoints', () => {
  it('answers what it cannot serve with a code, and counts each refusal as protocol http', () => {
    const { app } = setup();
    const cases: Array<[string, string, string]> = [
      ['/hls/cam/index.m3u8', '404 Not Found', 'HLS_NOT_FOUND'],
      ['/hls/-bad/index.m3u8', '400 Bad Request', 'HLS_BAD_NAME'],
      ['/hls/cam/secret.txt', '404 Not Found', 'HLS_NOT_FOUND'],
      ['/hls/cam/index.m3u8?_HLS_part=1', '400 Bad Request', 'HLS_BAD_QUERY'],
    ];
    for (const [path, status, code] of cases) {
      const r = app.request(path);
      expect([r.status, r.json.code]).toEqual([status, code]);
    }
    expect(errors.get('http', 'HLS_NOT_FOUND')).toBe(2);
    expect(errors.get('http', 'HLS_BAD_QUERY')).toBe(1);
  });

  it('serves the playlist, the init segment, a complete segment and a part, with their types and caching', () => {
    const { hls, app } = setup();
    publish(hls, 'cam', 40);
    const pl = app.request('/hls/cam/index.m3u8');
    expect(pl.status).toBe('200 OK');
    expect(pl.headers).toMatchObject({ 'Content-Type': 'application/vnd.apple.mpegurl', 'Cache-Control': 'no-cache', 'Access-Control-Allow-Origin': '*' });
    const init = /URI="(init-\d+\.mp4)"/.exec(pl.text)![1];
    const seg = /^(s\d+\.mp4)$/m.exec(pl.text)![1];
    const part = /URI="(p\d+\.mp4)"/.exec(pl.text)![1];
    for (const f of [init, seg, part]) {
      const r = app.request(`/hls/cam/${f}`);
      expect([r.status, r.headers['Content-Type'], r.headers['Cache-Control']]).toEqual(['200 OK', 'video/mp4', 'public, max-age=60']);
      expect(Buffer.isBuffer(r.body)).toBe(true);
    }
    expect(app.request('/hls/cam/s1.mp4').status).toBe('404 Not Found');
  });

  it('holds a blocking reload until the part it names exists, then answers with a playlist that lists it', () => {
    const { hls, app } = setup();
    publish(hls, 'cam', 8); // one part of segment M
    const msn = /MEDIA-SEQUENCE:(\d+)/.exec(app.request('/hls/cam/index.m3u8').text)![1];
    const r = app.request(`/hls/cam/index.m3u8?_HLS_msn=${msn}&_HLS_part=1`);
    expect(r.body).toBeNull();
    expect(hls.waiting).toBe(1);
    publish(hls, 'cam', 13, 8); // part 1 closes when frame 12 arrives
    expect(r.status).toBe('200 OK');
    expect(r.headers['Cache-Control']).toBe('public, max-age=1');
    expect(r.text.match(/#EXT-X-PART:/g)).toHaveLength(2);
    expect(hls.waiting).toBe(0);
  });

  it('holds a request for the preload hint\'s part until it exists', () => {
    const { hls, app } = setup();
    publish(hls, 'cam', 8);
    const hint = /PRELOAD-HINT:TYPE=PART,URI="(p\d+\.mp4)"/.exec(app.request('/hls/cam/index.m3u8').text)![1];
    const r = app.request(`/hls/cam/${hint}`);
    expect(r.body).toBeNull();
    publish(hls, 'cam', 13, 8);
    expect(r.status).toBe('200 OK');
    expect((r.body as Buffer).toString('latin1', 4, 8)).toBe('moof');
    const after = /(\d+)/.exec(hint!)![1]!;
    expect(app.request(`/hls/cam/p${Number(after) + 5}.mp4`).status).toBe('404 Not Found'); // never hinted
  });

  it('waits for the first part of a stream that has just started, then answers the plain playlist request', () => {
    const { hls, app } = setup();
    hls.init('cam', 1, initOf());
    const r = app.request('/hls/cam/index.m3u8');
    expect(r.body).toBeNull();
    publish(hls, 'cam', 8, 0);
    expect(r.status).toBe('200 OK');
  });

  it('answers 503 HLS_TIMEOUT after three target durations without the part, and 400 for an MSN more than two ahead', () => {
    const { hls, app } = setup();
    publish(hls, 'cam', 8);
    const msn = Number(/MEDIA-SEQUENCE:(\d+)/.exec(app.request('/hls/cam/index.m3u8').text)![1]);
    expect(app.request(`/hls/cam/index.m3u8?_HLS_msn=${msn + 3}&_HLS_part=0`).json.code).toBe('HLS_MSN_AHEAD');
    const r = app.request(`/hls/cam/index.m3u8?_HLS_msn=${msn + 2}&_HLS_part=0`);
    clock += 2_900;
    vi.advanceTimersByTime(2_900);
    expect(r.body).toBeNull();
    clock += 100;
    vi.advanceTimersByTime(100);
    expect([r.status, r.json.code]).toEqual(['503 Service Unavailable', 'HLS_TIMEOUT']);
    expect(errors.get('http', 'HLS_TIMEOUT')).toBe(1);
  });

  it('never answers a request whose client went away', () => {
    const { hls, app } = setup();
    publish(hls, 'cam', 8);
    const msn = /MEDIA-SEQUENCE:(\d+)/.exec(app.request('/hls/cam/index.m3u8').text)![1];
    const r = app.request(`/hls/cam/index.m3u8?_HLS_msn=${msn}&_HLS_part=1`);
    r.aborted!();
    expect(hls.waiting).toBe(0);
    publish(hls, 'cam', 13, 8);
    expect(r.body).toBeNull(); // FakeRes would throw on an answer after the abort as uWS would crash
  });

  it('refuses blocked requests past hls.maxWaiters with 503', () => {
    const { hls, app } = setup();
    publish(hls, 'cam', 8);
    const msn = /MEDIA-SEQUENCE:(\d+)/.exec(app.request('/hls/cam/index.m3u8').text)![1];
    const held = [1, 2, 3].map(() => app.request(`/hls/cam/index.m3u8?_HLS_msn=${msn}&_HLS_part=1`));
    const r = app.request(`/hls/cam/index.m3u8?_HLS_msn=${msn}&_HLS_part=1`);
    expect([r.status, r.json.code]).toEqual(['503 Service Unavailable', 'HLS_WAITERS']);
    publish(hls, 'cam', 13, 8);
    for (const h of held) expect(h.status).toBe('200 OK');
  });

  it('requires a view token when the WebSocket would, and puts it into every URI of the playlist', () => {
    const secret = 'a-secret-of-some-length';
    const { hls, app } = setup({ access: viewAccess({ requireViewerToken: true, secret, allowedOrigins: [] }, verifyToken) });
    publish(hls, 'cam', 40);
    expect(app.request('/hls/cam/index.m3u8').json.code).toBe('TOKEN_MISSING');
    const wrong = signToken(secret, { s: 'other', a: 'view', e: clock / 1000 + 60 });
    expect(app.request(`/hls/cam/index.m3u8?token=${wrong}`).json.code).toBe('TOKEN_WRONG_STREAM');
    const token = signToken(secret, { s: 'cam', a: 'view', e: clock / 1000 + 60 });
    const pl = app.request(`/hls/cam/index.m3u8?token=${token}`);
    expect(pl.status).toBe('200 OK');
    const uris = [...pl.text.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!);
    for (const u of uris) expect(u.endsWith(`?token=${token}`)).toBe(true);
    expect(app.request(`/hls/cam/${uris[1]}`).status).toBe('200 OK');
    expect(app.request(`/hls/cam/${uris[1]!.split('?')[0]}`).status).toBe('401 Unauthorized');
    expect(errors.get('http', 'TOKEN_MISSING')).toBe(2);
  });

  it('refuses an Origin outside security.allowedOrigins and names an allowed one in Access-Control-Allow-Origin', () => {
    const { hls, app } = setup({ access: viewAccess({ requireViewerToken: false, secret: '', allowedOrigins: ['https://shop.example'] }, verifyToken) });
    publish(hls, 'cam', 40);
    const bad = app.request('/hls/cam/index.m3u8', { origin: 'https://evil.example' });
    expect([bad.status, bad.json.code]).toEqual(['403 Forbidden', 'ORIGIN_NOT_ALLOWED']);
    const ok = app.request('/hls/cam/index.m3u8', { origin: 'https://shop.example' });
    expect(ok.headers).toMatchObject({ 'Access-Control-Allow-Origin': 'https://shop.example', Vary: 'Origin' });
    expect(app.request('/hls/cam/index.m3u8').headers['Access-Control-Allow-Origin']).toBeUndefined(); // same-origin: no header needed
  });

  it('keeps a stream the relay forgot for LINGER_MS: a publisher back in time continues its playlist; later it is gone', () => {
    const { hls, app } = setup();
    publish(hls, 'cam', 40);
    hls.state('cam', 'offline');
    hls.closed('cam');
    const before = app.request('/hls/cam/index.m3u8').text;
    hls.init('cam', 1, initOf());
    for (const c of remuxChunks(40)) hls.chunk('cam', c);
    const after = app.request('/hls/cam/index.m3u8').text;
    expect(/MEDIA-SEQUENCE:(\d+)/.exec(after)![1]).toBe(/MEDIA-SEQUENCE:(\d+)/.exec(before)![1]);
    expect(after).toContain('#EXT-X-DISCONTINUITY\n');
    hls.closed('cam');
    clock += LINGER_MS;
    vi.advanceTimersByTime(200);
    expect(app.request('/hls/cam/index.m3u8').status).toBe('404 Not Found');
  });

  it('answers every blocked request with 503 on close, refuses later ones, and is safe to close twice', () => {
    const { hls, app } = setup();
    publish(hls, 'cam', 8);
    const msn = /MEDIA-SEQUENCE:(\d+)/.exec(app.request('/hls/cam/index.m3u8').text)![1];
    const r = app.request(`/hls/cam/index.m3u8?_HLS_msn=${msn}&_HLS_part=1`);
    hls.close();
    hls.close();
    expect([r.status, r.json.code]).toEqual(['503 Service Unavailable', 'HLS_CLOSED']);
    expect(app.request('/hls/cam/index.m3u8').json.code).toBe('HLS_CLOSED');
    hls.init('cam', 1, initOf()); // the tap after close: ignored
    expect(hls.stream('cam')).toBeUndefined();
  });

  it('with hls.enabled false mounts no route and keeps nothing', () => {
    const { hls, app } = setup({ config: { enabled: false } });
    publish(hls, 'cam', 40);
    expect(app.routes.size).toBe(0);
    expect(hls.stream('cam')).toBeUndefined();
    hls.close();
  });
});
