// The watch page with ?transport=hls in real headless Chromium: the relay's LL-HLS playlist
// through hls.js (the second bundle, loaded on demand), fed by a real FFmpeg publisher.
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
  error: string | null;
  transport: string;
  latency: number;
  stalls: number;
  errors: string[];
  scripts: string[];
  glass: GlassState;
}

const report = (page: Page): Promise<PageReport> => page.evaluate(() => {
  const v = document.querySelector('video') as HTMLVideoElement;
  const w = window as unknown as { __nowcast: { player: { latency: number; transport: string; stats: { stalls: number } }; errors: Array<{ code: string }> }; __glass: GlassState };
  return {
    currentTime: v.currentTime,
    decoded: v.getVideoPlaybackQuality().totalVideoFrames,
    error: v.error ? `${v.error.code}: ${v.error.message}` : null,
    transport: w.__nowcast.player.transport,
    latency: w.__nowcast.player.latency,
    stalls: w.__nowcast.player.stats.stalls,
    errors: w.__nowcast.errors.map((e) => e.code),
    scripts: performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.includes('/player/')),
    glass: w.__glass,
  };
});

beforeAll(async () => {
  n = await startNowcast();
  pub = new Publisher({ url: n.rtmp('hlsb'), width: 640, height: 360, clockStrip: true, durationS: 120 });
  browser = await launchChromium();
  await new Promise((r) => setTimeout(r, 2_500)); // live before the viewer comes, as for real users
});

afterAll(async () => {
  await browser?.close();
  await pub?.stop();
  await n?.app.close();
});

describe('the watch page with ?transport=hls in Chromium', () => {
  it('plays through hls.js: frames decode, time advances, and glass-to-glass stays under 2 s', async () => {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
    await page.addInitScript({ content: pixelClockScript(pixelClockArgs) });
    await page.goto(`${n.http}/watch/hlsb?transport=hls`);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).currentTime > 0.5, null, { timeout: 20_000 });
    await page.waitForTimeout(2_000); // past the start and the jump to hls.js's target
    const a = await report(page);
    await page.waitForTimeout(4_000);
    const b = await report(page);

    expect(b.transport).toBe('hls');
    expect(b.error).toBeNull();
    expect(b.errors).toEqual([]);
    expect(b.scripts.some((u) => u.endsWith('/player/hls.js'))).toBe(true);
    const recent = expectPlayedBetween(a, b, 4);
    expect(b.stalls).toBe(0);
    // The player's own figure: wall clock minus PROGRAM-DATE-TIME of the position played...
    expect(b.latency).toBeGreaterThan(0.2);
    expect(b.latency).toBeLessThan(2);
    // ...and glass-to-glass read from the pixels of the frames presented over the last 4 s.
    expect(percentile(recent, 50)).toBeLessThan(2000);
    expect(percentile(recent, 95)).toBeLessThan(2000);
    await page.close();
  });

  it('keeps hls.js out of the WebSocket path: the default page never loads the second bundle', async () => {
    const page = await browser.newPage();
    await page.goto(`${n.http}/watch/hlsb`);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).currentTime > 0.5, null, { timeout: 20_000 });
    const r = await report(page);
    expect(r.transport).toBe('ws');
    expect(r.scripts.some((u) => u.endsWith('/player/hls.js'))).toBe(false);
    await page.close();
  });
});
