// Kill the edge a browser is watching (SIGKILL, like a crashed pod): the player, given the
// list of edges, reconnects to another one and plays on at live.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { NatsServer } from '../helpers/nats-server.js';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { launchChromium } from '../helpers/browser.js';
import { startApp, type AppProcess } from '../helpers/app-process.js';
import { freeTcpPort } from '../helpers/ports.js';

let nats: NatsServer;
let ingest: Running;
const edges: AppProcess[] = [];
let pub: Publisher;
let browser: Browser;

beforeAll(async () => {
  nats = await new NatsServer().start();
  ingest = await startNowcast({ cluster: { role: 'ingest-only', natsServers: [nats.url] } });
  pub = new Publisher({ url: ingest.rtmp('cam'), durationS: 120 });
  for (let i = 0; i < 3; i++) {
    edges.push(await startApp({ httpPort: await freeTcpPort(), rtmpPort: await freeTcpPort(), env: {
      NOWCAST_CLUSTER_ROLE: 'edge-only', NOWCAST_CLUSTER_NATS_SERVERS: JSON.stringify([nats.url]), NOWCAST_LOG_LEVEL: 'warn',
    } }));
  }
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const e of edges) e.proc.kill('SIGKILL');
  await pub?.stop();
  await ingest?.app.close();
  await nats?.close();
});

interface Probe { frames: number; latency: number; state: string; reconnects: number; url: string }

describe('edge failover in the browser', () => {
  it('reconnects to another edge and resumes at live within 2 s when its edge is killed', async () => {
    const host = (e: AppProcess): string => e.http.replace('http://', '');
    const page = await browser.newPage();
    await page.goto(`${edges[0]!.http}/watch/cam?edge=${host(edges[1]!)}&edge=${host(edges[2]!)}`);
    const probe = (): Promise<Probe> => page.evaluate(() => {
      const w = window as unknown as { __nowcast: { player: { stats: { latency: number; state: string; reconnects: number } } } };
      const v = document.querySelector('video') as HTMLVideoElement;
      const s = w.__nowcast.player.stats;
      return { frames: v.getVideoPlaybackQuality().totalVideoFrames, latency: s.latency, state: s.state, reconnects: s.reconnects, url: '' };
    });
    // Playing at live on the first edge.
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames > 60, null, { timeout: 20_000 });
    await page.waitForTimeout(2_000);
    const before = await probe();
    expect(before.latency).toBeLessThan(0.5);

    const killedAt = Date.now();
    edges[0]!.proc.kill('SIGKILL');
    // Resumed: the player reconnected and new frames are presented at a live latency.
    let resumedMs = NaN;
    const base = (await probe()).frames;
    while (Date.now() - killedAt < 10_000) {
      const p = await probe();
      if (p.reconnects >= 1 && p.frames > base + 10 && p.state === 'live' && p.latency < 0.5) {
        resumedMs = Date.now() - killedAt;
        break;
      }
      await page.waitForTimeout(25);
    }
    console.log(`edge failover: resumed at live ${resumedMs} ms after the kill`);
    expect(resumedMs).toBeLessThan(2_000);
    await page.waitForTimeout(2_000);
    const after = await probe();
    expect(after.state).toBe('live');
    expect(after.latency).toBeLessThan(0.5);
    expect(after.frames).toBeGreaterThan(base + 60);
    await page.close();
  }, 60_000);
});
