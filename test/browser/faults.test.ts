// Faults a viewer lives through, in real Chromium: a codec it cannot play, a publisher that
// comes back at another resolution, and a relay restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { launchChromium } from '../helpers/browser.js';
import { startApp } from '../helpers/app-process.js';
import { freeTcpPort } from '../helpers/ports.js';

let n: Running;
let browser: Browser;
const pubs: Publisher[] = [];
const publish = (o: ConstructorParameters<typeof Publisher>[0]): Publisher => { const p = new Publisher(o); pubs.push(p); return p; };

interface Snapshot { decoded: number; width: number; currentTime: number; marker: boolean; errors: Array<{ code: string; message: string }>; reconnects: number; latency: number }
const snap = (page: Page): Promise<Snapshot> => page.evaluate(() => {
  const v = document.querySelector('video') as HTMLVideoElement;
  const w = window as unknown as { __marker?: boolean; __nowcast?: { player: { stats: { reconnects: number; latency: number } }; errors: Array<{ code: string; message: string }> } };
  return {
    decoded: v.getVideoPlaybackQuality().totalVideoFrames, width: v.videoWidth, currentTime: v.currentTime, marker: w.__marker === true,
    errors: (w.__nowcast?.errors ?? []).map((e) => ({ code: e.code, message: e.message })),
    reconnects: w.__nowcast?.player.stats.reconnects ?? 0, latency: w.__nowcast?.player.stats.latency ?? NaN,
  };
});

async function watch(name: string, base = n.http): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base}/watch/${name}`);
  await page.evaluate(() => { (window as unknown as { __marker: boolean }).__marker = true; });
  return page;
}

async function playing(page: Page, ms = 20_000): Promise<void> {
  const start = (await snap(page)).decoded;
  await page.waitForFunction((d) => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames > d + 30, start, { timeout: ms });
}

beforeAll(async () => {
  n = await startNowcast({ srtStreams: ['hevc'] });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(pubs.map((p) => p.stop()));
  n?.app.close();
});

describe('faults in the browser', () => {
  it('says clearly that the browser cannot play HEVC, while another stream plays on', async () => {
    publish({ url: n.srt(n.srtPorts[0]!), format: 'mpegts', videoCodec: 'hevc' });
    publish({ url: n.rtmp('h264') });
    const bad = await watch('hevc');
    const good = await watch('h264');
    await bad.waitForFunction(() => ((window as unknown as { __nowcast?: { errors: unknown[] } }).__nowcast?.errors.length ?? 0) > 0, null, { timeout: 20_000 });
    const s = await snap(bad);
    expect(s.errors[0]!.code).toBe('CODEC_UNSUPPORTED');
    expect(s.errors[0]!.message).toMatch(/hev1|hvc1/);
    // The overlay re-renders on the next stats tick (every 250 ms): wait for it, don't sample once.
    await bad.waitForFunction(() => document.getElementById('stats')?.textContent?.includes('CODEC_UNSUPPORTED') === true, null, { timeout: 5_000 });
    await playing(good);
    expect((await snap(good)).errors).toHaveLength(0);
    await bad.close();
    await good.close();
  });

  it('continues without a page reload when the publisher comes back at another resolution', async () => {
    const p1 = publish({ url: n.rtmp('switch'), width: 320, height: 240 });
    const page = await watch('switch');
    await playing(page);
    expect((await snap(page)).width).toBe(320);
    await p1.stop();
    publish({ url: n.rtmp('switch'), width: 640, height: 360 });
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).videoWidth === 640, null, { timeout: 20_000 });
    await playing(page);
    const s = await snap(page);
    expect(s.marker).toBe(true); // same document: no reload
    expect(s.errors.filter((e) => e.code !== 'AUTOPLAY_BLOCKED')).toHaveLength(0);
    await page.close();
  });

  it('reconnects after the relay process restarts and resumes at live', async () => {
    const httpPort = await freeTcpPort();
    const rtmpPort = await freeTcpPort();
    const rtmp = `rtmp://127.0.0.1:${rtmpPort}/live/restart`;
    const a = await startApp({ httpPort, rtmpPort });
    const first = publish({ url: rtmp });
    const page = await watch('restart', a.http);
    await playing(page);
    a.proc.kill('SIGKILL');
    await a.exited;
    await first.stop();
    const b = await startApp({ httpPort, rtmpPort });
    try {
      publish({ url: rtmp });
      await page.waitForFunction(() => ((window as unknown as { __nowcast: { player: { stats: { reconnects: number } } } }).__nowcast.player.stats.reconnects) >= 1, null, { timeout: 20_000 });
      await playing(page);
      await page.waitForTimeout(3_000);
      const s = await snap(page);
      expect(s.marker).toBe(true);
      expect(s.latency).toBeGreaterThan(0);
      expect(s.latency).toBeLessThan(1);
    } finally {
      await page.close();
      b.proc.kill('SIGKILL');
    }
  });
});
