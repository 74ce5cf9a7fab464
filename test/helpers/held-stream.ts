// What the catch-up and outage browser tests share: a relay whose streams announce a 200 ms
// target, a 3 s ceiling and a rate cap, one live FFmpeg stream, headless Chromium, and a
// HoldingProxy in front of the relay that can hold back everything it sends, as an outage would.
import type { Browser } from 'playwright-core';
import { startNowcast, type Running } from './nowcast.js';
import { Publisher } from './publisher.js';
import { launchChromium } from './browser.js';
import { HoldingProxy } from './holding-proxy.js';

export interface HeldStream {
  n: Running;
  pub: Publisher;
  proxy: HoldingProxy;
  browser: Browser;
  /** The watch page of the stream, through the proxy. */
  url: string;
  /**
   * Holds everything the relay sends for `holdMs`, releases it at once, then calls `sample`
   * every `everyMs` for `forMs`. Returns the bytes released, the release time and the samples.
   */
  outage<T>(holdMs: number, forMs: number, everyMs: number, sample: () => Promise<T>): Promise<{ released: number; releasedAt: number; samples: T[] }>;
  close(): Promise<void>;
}

export async function startHeldStream(stream: string, maxRate: number): Promise<HeldStream> {
  const n = await startNowcast({
    srt: { listeners: [] },
    latency: { default: { targetMs: 200, minMs: 100, maxMs: 3000, minRate: 0.95, maxRate, pinned: false } },
  });
  const pub = new Publisher({ url: n.rtmp(stream), durationS: 120 });
  const proxy = new HoldingProxy(Number(new URL(n.http).port));
  await proxy.listen();
  const browser = await launchChromium();
  return {
    n, pub, proxy, browser, url: `http://127.0.0.1:${proxy.port}/watch/${stream}`,
    async outage(holdMs, forMs, everyMs, sample) {
      proxy.hold();
      await new Promise((r) => setTimeout(r, holdMs));
      const released = proxy.release();
      const releasedAt = Date.now();
      const samples = [];
      while (Date.now() - releasedAt < forMs) {
        samples.push(await sample());
        await new Promise((r) => setTimeout(r, everyMs));
      }
      return { released, releasedAt, samples };
    },
    async close() {
      await browser.close();
      proxy.close();
      await pub.stop();
      n.app.close();
    },
  };
}
