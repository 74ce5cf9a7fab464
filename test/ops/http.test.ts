// The public pages: the player bundle is served with a validator, so a returning viewer gets a
// 304 (and keeps the browser's compiled code), and the watch page preloads it from its head.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPagesServer, type PagesServer } from '../helpers/pages-server.js';

let base = '';
let server: PagesServer | undefined;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nowcast-player-'));
  writeFileSync(join(dir, 'watch.js'), 'console.log("player")');
  writeFileSync(join(dir, 'mse-worker.js'), 'self.onmessage = () => {}; /* </script> */');
  server = await startPagesServer(dir);
  base = server.base;
});

afterAll(() => server?.close());

describe('the player bundle', () => {
  it('comes with an ETag, and a request that has it is answered 304 without the body', async () => {
    const first = await fetch(`${base}/player/watch.js`);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect(await first.text()).toBe('console.log("player")');
    const again = await fetch(`${base}/player/watch.js`, { headers: { 'If-None-Match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const stale = await fetch(`${base}/player/watch.js`, { headers: { 'If-None-Match': '"something-else"' } });
    expect(stale.status).toBe(200);
  });

  it('is preloaded from the watch page\'s head, before the body is parsed', async () => {
    const page = await (await fetch(`${base}/watch/demo`)).text();
    const head = page.slice(0, page.indexOf('</head>'));
    expect(head).toContain('<link rel="modulepreload" href="/player/watch.js">');
  });

  it('starts the media side before the player loads, for the stream its path names: the MSE worker from the source in the page where a worker\'s MediaSource plays, else the MediaSource on the <video> and the stream\'s socket', async () => {
    const page = await (await fetch(`${base}/watch/demo`)).text();
    const body = page.slice(page.indexOf('<video'));
    const script = /<script>([\s\S]*?)<\/script>/.exec(body)?.[1];
    expect(script).toBeDefined();
    class MS { static canConstructInDedicatedWorker = false; }
    class WorkerMS extends MS { static override canConstructInDedicatedWorker = true; }
    class Managed {}
    class Socket {
      binaryType = 'blob';
      closed = 0;
      onopen: (() => void) | null = null;
      onmessage: ((e: { data: unknown }) => void) | null = null;
      onclose: ((e: { code: number; reason: string }) => void) | null = null;
      constructor(readonly url: string) {}
      close(): void { this.closed += 1; }
    }
    type Started = { worker?: string; ms?: string; remotePlaybackOff?: boolean; socket?: string; title?: string };
    let lastBlob: Blob | undefined;
    const run = (search: string, g: { MediaSource?: typeof MS; ManagedMediaSource?: typeof Managed }, protocol = 'http:', pathname = '/watch/demo'): Started => {
      const video: { src?: string; disableRemotePlayback?: boolean } = {};
      const win: Record<string, unknown> = { ...g };
      const revoked: string[] = [];
      const Worker = function (this: { postMessage(m: unknown): void }, url: string) {
        win.started = url;
        this.postMessage = (m) => { win.told = m; };
      } as unknown as new (url: string) => object;
      const doc: { title?: string; getElementById(id: string): unknown } = { getElementById: (id: string) => (id === 'video' ? video : null) };
      const url = {
        createObjectURL: (o: object) => {
          if (o instanceof Blob) lastBlob = o;
          return `blob:${o.constructor.name}`;
        },
        revokeObjectURL: (u: string) => revoked.push(u),
      };
      new Function('window', 'location', 'Worker', 'document', 'URL', 'WebSocket', 'URLSearchParams', 'Blob', script!)(win, { search, protocol, host: 'relay:8080', pathname }, Worker, doc, url, Socket, URLSearchParams, Blob);
      // The worker starts from the source in the page, and its URL is let go at once.
      if (win.started === 'blob:Blob') expect(revoked).toEqual(['blob:Blob']);
      const early = win.__nowcastMediaSource as { mediaSource: object; url: string } | undefined;
      if (early) expect(video.src).toBe(early.url);
      const socket = win.__nowcastSocket as { ws: Socket; url: string; events: unknown[] } | undefined;
      if (socket) {
        expect(socket.ws.url).toBe(socket.url);
        expect(socket.ws.binaryType).toBe('arraybuffer');
      }
      // A worker is told the socket's URL at once: it opens the socket itself (a worker cannot take a page's).
      const told = win.told as { type: string; url: string } | undefined;
      if (told) expect(told.type).toBe('connect');
      return { worker: win.started as string | undefined, ms: early?.url, remotePlaybackOff: video.disableRemotePlayback, socket: socket?.url ?? told?.url, title: doc.title };
    };
    const chromium = { MediaSource: WorkerMS };
    const title = 'demo \u2014 Nowcast';
    expect(run('', chromium)).toEqual({ worker: 'blob:Blob', socket: 'ws://relay:8080/live/demo', title });
    expect(await lastBlob!.text()).toBe('self.onmessage = () => {}; /* </script> */'); // the build's mse-worker.js, whole
    expect(run('?target=300', chromium)).toEqual({ worker: 'blob:Blob', socket: 'ws://relay:8080/live/demo', title });
    expect(run('?mse=managed', chromium)).toEqual({ worker: 'blob:Blob', socket: 'ws://relay:8080/live/demo', title }); // no ManagedMediaSource to take
    expect(run('?worker=0', chromium)).toEqual({ ms: 'blob:WorkerMS', socket: 'ws://relay:8080/live/demo', title });
    expect(run('?debug&transport=hls', chromium)).toEqual({ title });
    // The stream is the page's path, checked as the relay checks names: anything else starts nothing.
    expect(run('', { MediaSource: MS }, 'http:', '/watch/cam-2/')).toEqual({ ms: 'blob:MS', socket: 'ws://relay:8080/live/cam-2', title: 'cam-2 \u2014 Nowcast' });
    for (const bad of ['/watch/a%20b', '/watch/%E0%A4%A', '/watch/', '/other/demo', `/watch/${'x'.repeat(65)}`]) expect(run('', { MediaSource: MS }, 'http:', bad)).toEqual({});
    expect(run('', { MediaSource: MS })).toEqual({ ms: 'blob:MS', socket: 'ws://relay:8080/live/demo', title }); // Firefox, WebKitGTK
    expect(run('?token=a%20b%26c&edge=e:1', { MediaSource: MS }, 'https:')).toEqual({ ms: 'blob:MS', socket: 'wss://relay:8080/live/demo?token=a%20b%26c', title });
    const safari = { MediaSource: WorkerMS, ManagedMediaSource: Managed };
    expect(run('?mse=managed', safari)).toEqual({ ms: 'blob:Managed', remotePlaybackOff: true, socket: 'ws://relay:8080/live/demo', title });
    expect(run('', { ManagedMediaSource: Managed })).toEqual({ ms: 'blob:Managed', remotePlaybackOff: true, socket: 'ws://relay:8080/live/demo', title }); // iPhone
    expect(run('?mse=classic', { ManagedMediaSource: Managed })).toEqual({ title });
    expect(run('', {})).toEqual({ title }); // LL-HLS: nothing to start
  });

  it('queues what the early socket hears, in order, and closes it past its bounds (1,000 messages, 16 MiB) when no player takes it', async () => {
    const page = await (await fetch(`${base}/watch/demo`)).text();
    const script = /<script>([\s\S]*?)<\/script>/.exec(page.slice(page.indexOf('<video')))![1]!;
    type Sock = { closed: number; onopen: () => void; onmessage: ((e: { data: unknown }) => void) | null; onclose: (e: { code: number; reason: string }) => void };
    const start = (): { ws: Sock; events: unknown[] } => {
      const sockets: Sock[] = [];
      const Socket = function (this: Sock) { this.closed = 0; sockets.push(this); (this as unknown as { close(): void }).close = () => { this.closed += 1; }; };
      const win: Record<string, unknown> = { MediaSource: class {} };
      new Function('window', 'location', 'Worker', 'document', 'URL', 'WebSocket', 'URLSearchParams', 'Blob', script)(
        win, { search: '', protocol: 'http:', host: 'h', pathname: '/watch/demo' }, undefined, { getElementById: () => ({}) }, { createObjectURL: () => 'blob:x' }, Socket, URLSearchParams, Blob);
      return { ws: sockets[0]!, events: (win.__nowcastSocket as { events: unknown[] }).events };
    };
    const big = start();
    big.ws.onmessage!({ data: new ArrayBuffer(8 << 20) });
    expect(big.ws.closed).toBe(0);
    big.ws.onmessage!({ data: new ArrayBuffer(8 << 20) });
    expect(big.ws.closed).toBe(1);
    expect(big.ws.onmessage).toBeNull();
    const { ws, events } = start();
    ws.onopen();
    ws.onmessage!({ data: '{"type":"hello"}' });
    ws.onmessage!({ data: 'b1' });
    expect(events).toEqual([['open'], ['message', '{"type":"hello"}'], ['message', 'b1']]);
    for (let i = 0; i < 2000 && ws.onmessage; i++) ws.onmessage({ data: i });
    expect(ws.closed).toBe(1);
    expect(events.length).toBe(1000); // bounded: the open and 999 messages
    ws.onclose({ code: 1005, reason: '' });
    expect(events[events.length - 1]).toEqual(['close', 1005, '']);
  });
});
