// The watch page's stats panel (player/panel.ts) in headless Chromium, fed by a stand-in player
// whose stats change over time: the rows show the values and the latency graph is drawn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';

let browser: Browser;
let bundle: string;

beforeAll(async () => {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('../../player/panel.ts', import.meta.url))],
    bundle: true, format: 'iife', globalName: 'panel', write: false, platform: 'browser', target: 'es2020',
  });
  bundle = out.outputFiles[0]!.text;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe('the stats panel', () => {
  it('renders latency, target, buffer, rate, bitrate, stalls and frames, and graphs latency over time', async () => {
    const page = await browser.newPage();
    await page.setContent('<div id="stats"></div>');
    await page.addScriptTag({ content: bundle });
    await page.evaluate(() => {
      const t0 = performance.now();
      const listeners = new Set<() => void>();
      const player = {
        get stats() {
          const t = (performance.now() - t0) / 1000;
          return { state: 'live', latency: 0.2 + 0.05 * Math.sin(t * 4), targetLatency: 0.2, buffer: 0.15, playbackRate: 1.05,
            bitrate: 1_500_000, stalls: 1, stallMs: 320, droppedFrames: 2, decodedFrames: 900 };
        },
        on: (_e: 'state', fn: () => void) => listeners.add(fn),
        off: (_e: 'state', fn: () => void) => listeners.delete(fn),
        listeners,
      };
      const w = window as unknown as { panel: { mountStatsPanel: (el: HTMLElement, p: unknown) => { destroy(): void } }; p: typeof player; handle: { destroy(): void } };
      w.p = player;
      w.handle = w.panel.mountStatsPanel(document.getElementById('stats')!, player);
    });
    await page.waitForTimeout(1_200);
    const text = await page.locator('#stats').innerText();
    expect(text).toMatch(/state\s+live/);
    expect(text).toMatch(/latency\s+\d+ ms/);
    expect(text).toMatch(/target\s+200 ms/);
    expect(text).toMatch(/buffer\s+150 ms/);
    expect(text).toMatch(/rate\s+1\.05×/);
    expect(text).toMatch(/bitrate\s+1500 kb\/s/);
    expect(text).toMatch(/stalls\s+1 \(320 ms\)/);
    expect(text).toMatch(/frames\s+2 dropped \/ 900/);
    // The graph has ~5 samples by now: count the latency line's green pixels.
    const green = await page.evaluate(() => {
      const c = document.querySelector('#stats canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 1]! > 150 && d[i]! < 180 && d[i + 2]! < 180 && d[i + 3]! > 0) n++;
      return n;
    });
    expect(green).toBeGreaterThan(5);
    const after = await page.evaluate(() => {
      const w = window as unknown as { handle: { destroy(): void }; p: { listeners: Set<unknown> } };
      w.handle.destroy();
      return { html: document.getElementById('stats')!.innerHTML, listeners: w.p.listeners.size };
    });
    expect(after).toEqual({ html: '', listeners: 0 });
  });
});
