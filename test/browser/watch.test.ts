// The watch page in real headless Chromium, fed by a real FFmpeg publisher through the relay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { expectPlayedBetween, launchChromium } from '../helpers/browser.js';
import { pixelClockScript, pixelClockArgs, percentile, type GlassState } from '../../bench/lib/pixel-clock.js';

let n: Running;
let pub: Publisher;
let browser: Browser;

interface PageReport {
  currentTime: number;
  decoded: number;
  dropped: number;
  error: string | null;
  latency: number;
  glass: GlassState;
}

const report = (page: Page): Promise<PageReport> => page.evaluate(() => {
  const v = document.querySelector('video') as HTMLVideoElement;
  const q = v.getVideoPlaybackQuality();
  const w = window as unknown as { __nowcast?: { player: { latency: number } }; __errors?: string[]; __glass: GlassState };
  return {
    currentTime: v.currentTime,
    decoded: q.totalVideoFrames,
    dropped: q.droppedVideoFrames,
    error: v.error ? `${v.error.code}: ${v.error.message}` : (w.__errors?.[0] ?? null),
    latency: w.__nowcast?.player.latency ?? NaN,
    glass: w.__glass,
  };
});

beforeAll(async () => {
  n = await startNowcast();
  pub = new Publisher({ url: n.rtmp('browser'), width: 640, height: 360, clockStrip: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await pub?.stop();
  n?.app.close();
});

describe('the watch page in Chromium', () => {
  it('plays the stream: frames decode, time advances, no MSE error, and latency stays under a second', async () => {
    const page = await browser.newPage();
    await page.addInitScript(() => {
      (window as unknown as { __errors: string[] }).__errors = [];
      window.addEventListener('error', (e) => (window as unknown as { __errors: string[] }).__errors.push(String(e.message)));
    });
    await page.addInitScript({ content: pixelClockScript(pixelClockArgs) });
    page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
    await page.goto(`${n.http}/watch/browser`);

    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).currentTime > 0.5, null, { timeout: 20_000 });
    const a = await report(page);
    await page.waitForTimeout(4_000);
    const b = await report(page);

    expect(b.error).toBeNull();
    const recent = expectPlayedBetween(a, b, 4);
    // The player's own figure (prft wall clock of the frame shown)...
    expect(b.latency).toBeGreaterThan(0);
    expect(b.latency).toBeLessThan(1);
    // ...and glass-to-glass read from the pixels of presented frames over the last 4 s.
    expect(percentile(recent, 50)).toBeLessThan(1000);
    expect(percentile(recent, 95)).toBeLessThan(1000);
    await page.close();
  });

  // The MSE worker is the default where Chromium supports it; ?worker=0 keeps it on the page.
  it.each([
    ['', true],
    ['?worker=0', false],
  ])('with the query "%s" the engine runs in a worker: %s, and the stream\'s one socket opens before the player\'s bundle has loaded; its queued media plays', async (query, inWorker) => {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
    // The page's inline script opens the stream's socket, or has the MSE worker it starts open
    // it, and the player takes it over (ops/pages.ts): hold watch.js back 1.5 s to tell that from
    // the player opening its own, and to make the queue that waits for it long.
    const t0 = Date.now();
    let released = Infinity;
    await page.route('**/player/watch.js', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      released = Date.now() - t0;
      await route.continue();
    });
    const sockets: Array<{ url: string; at: number }> = [];
    page.on('websocket', (ws) => sockets.push({ url: ws.url(), at: Date.now() - t0 }));
    await page.goto(`${n.http}/watch/browser${query}`);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).currentTime > 0.5, null, { timeout: 20_000 });
    const a = await report(page);
    await page.waitForTimeout(2_000);
    const b = await report(page);
    const stats = await page.evaluate(() => {
      const w = window as unknown as { __nowcast: { player: { stats: { mseWorker: boolean; chunks: number } } } };
      return w.__nowcast.player.stats;
    });
    expect(stats.mseWorker).toBe(inWorker);
    expect(sockets.map((x) => x.url)).toEqual([`${n.http.replace('http:', 'ws:')}/live/browser`]);
    expect(sockets[0]!.at).toBeLessThan(released);
    expect(b.error).toBeNull();
    expect(b.decoded).toBeGreaterThan(a.decoded + 40);
    expect(b.latency).toBeLessThan(1);
    await page.close();
  });
});
