// Recovery at live in real headless Chromium (player/outage.ts): a real relay and FFmpeg
// publisher, the watch page through a proxy that holds everything the relay sends for 2 s and
// then releases it at once, as a network outage would. The picture stands still for ~2 s; when
// the data returns the player must resume at its target at once (a seek, reason 'outage'),
// not replay the stale backlog fast-forwarded for ~8 s as it did before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHeldStream, type HeldStream } from '../helpers/held-stream.js';

interface Sample { at: number; latency: number; target: number; stalls: number; seeks: Array<{ reason: string; from: number; to: number }> }

const HOLD_MS = 2000;
/**
 * The figure (target 1.5 s after the data returns) lives in bench:network, which measured 1.29–3.91 s
 * here: the outage can come back in two parts (the held backlog, then the relay's resume at a
 * keyframe), and then takes a second seek. This bound only tells the rule from none: draining
 * the backlog by rate alone took 10.1 s.
 */
const BOUND_MS = 7000;

let h: HeldStream;

beforeAll(async () => { h = await startHeldStream('outage', 1.25); });
afterAll(async () => { await h?.close(); });

describe('recovery at live in Chromium', () => {
  // One retry: a real Chromium on two cores. Seen 2026-12-07: in a clean-clone CI run, no
  // outage seek (the relay's resumed media landed after the rule's window, then 1 s, now 2.5 s);
  // once in 13 local runs, no stall registered at all. The figure itself is bench:network's.
  it('resumes at its target when a 2 s outage\'s data returns, with a seek, and stays there', { retry: 1 }, async () => {
    const page = await h.browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
    await page.goto(h.url);
    await page.waitForFunction(() => {
      const s = (window as unknown as { __nowcast?: { player: { stats: { latency: number; targetLatency: number } } } }).__nowcast?.player.stats;
      return !!s && Math.abs(s.latency - s.targetLatency) < 0.05;
    }, null, { timeout: 40_000, polling: 100 });
    await page.evaluate(() => {
      const w = window as unknown as { __seeks: unknown[]; __nowcast: { player: { on(e: string, f: (x: unknown) => void): void } } };
      w.__seeks = [];
      w.__nowcast.player.on('seek', (e) => w.__seeks.push(e));
    });
    const stats = (): Promise<Sample> => page.evaluate(() => {
      const w = window as unknown as { __seeks: Sample['seeks']; __nowcast: { player: { stats: Record<string, number> } } };
      const s = w.__nowcast.player.stats;
      return { at: Date.now(), latency: s.latency!, target: s.targetLatency!, stalls: s.stalls!, seeks: w.__seeks.slice() };
    });
    const before = await stats();

    const { released, releasedAt, samples } = await h.outage(HOLD_MS, 8_000, 50, stats);
    expect(released).toBeGreaterThan(0);
    const video = await page.evaluate(() => {
      const v = document.querySelector('video')!;
      const r: string[] = [];
      for (let i = 0; i < v.buffered.length; i++) r.push(`${v.buffered.start(i).toFixed(2)}-${v.buffered.end(i).toFixed(2)}`);
      return `t ${v.currentTime.toFixed(2)} readyState ${v.readyState} seeking ${v.seeking} paused ${v.paused} buffered ${r.join(',')}`;
    });
    console.log(`outage: video ${video}; relay skips ${JSON.stringify(h.n.app.relay.skipsByRule)}, stale acks ${h.n.app.relay.staleAcks}, bad ${h.n.app.relay.badMessages}`);
    const inBand = (s: Sample): boolean => Math.abs(s.latency - s.target) <= 0.05;
    let settled = -1;
    for (let i = samples.length - 1; i >= 0 && inBand(samples[i]!); i--) settled = i;
    const last = samples.at(-1)!;
    const tookMs = settled >= 0 ? samples[settled]!.at - releasedAt : Infinity;
    console.log(`outage: ${released} bytes held; back within ±50 ms of target ${tookMs} ms after the data returned; ` +
      `seeks ${JSON.stringify(last.seeks.map((s) => `${s.reason} ${s.from.toFixed(2)}->${s.to.toFixed(2)}`))}, stalls ${last.stalls - before.stalls}; ` +
      `latency / target (ms) every 0.25 s: ${samples.filter((_s, i) => i % 5 === 0).map((s) => `${Math.round(s.latency * 1000)}/${Math.round(s.target * 1000)}`).join(' ')}`);
    expect(last.stalls).toBeGreaterThan(before.stalls); // the picture did stand still
    expect(last.seeks.some((s) => s.reason === 'outage')).toBe(true);
    expect(settled).toBeGreaterThanOrEqual(0);
    expect(tookMs).toBeLessThan(BOUND_MS);
    await page.close();
  });
});
