// The public pages: the player bundle is served with a validator, so a returning viewer gets a
// 304 (and keeps the browser's compiled code), and the watch page preloads it from its head.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import uWS from 'uWebSockets.js';
import { pino } from 'pino';
import { mountHttp } from '../../ops/http.js';

let base = '';
let listen: uWS.us_listen_socket | false = false;
const app = uWS.App();

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nowcast-player-'));
  writeFileSync(join(dir, 'watch.js'), 'console.log("player")');
  mountHttp(app, { playerDir: dir, log: pino({ level: 'silent' }), streams: () => [], ready: () => true });
  const port = await new Promise<number>((resolve, reject) => app.listen('127.0.0.1', 0, (s) => {
    if (!s) return reject(new Error('listen failed'));
    listen = s;
    resolve(uWS.us_socket_local_port(s));
  }));
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  if (listen) uWS.us_listen_socket_close(listen);
  app.close();
});

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

  it('starts the MSE worker from the head, where the browser plays a worker\'s MediaSource and the query allows it', async () => {
    const page = await (await fetch(`${base}/watch/demo`)).text();
    const head = page.slice(0, page.indexOf('</head>'));
    const script = /<script>([\s\S]*?)<\/script>/.exec(head)?.[1];
    expect(script).toBeDefined();
    const run = (search: string, canConstructInDedicatedWorker: boolean): string[] => {
      const started: string[] = [];
      const win: Record<string, unknown> = { MediaSource: { canConstructInDedicatedWorker } };
      const Worker = function (this: unknown, url: string) { started.push(url); } as unknown as new (url: string) => object;
      new Function('window', 'location', 'Worker', script!)(win, { search }, Worker);
      if (started.length) expect(win.__nowcastWorker).toBeDefined();
      return started;
    };
    expect(run('', true)).toEqual(['/player/mse-worker.js']);
    expect(run('?target=300', true)).toEqual(['/player/mse-worker.js']);
    expect(run('', false)).toEqual([]);
    expect(run('?worker=0', true)).toEqual([]);
    expect(run('?debug&transport=hls', true)).toEqual([]);
  });
});
