// The key watch-page cases in every engine this machine has (/work/shared/browsers.md):
// Chromium, Firefox ESR, WebKitGTK, and WebKitGTK forced onto ManagedMediaSource (?mse=managed,
// the iPhone's MSE). One real Nowcast and FFmpeg publishers for the file; one browser per engine
// at a time, each case a few seconds of playback.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { DropProxy } from '../helpers/drop-proxy.js';
import { ENGINES, openEngine, type Engine, type EngineName } from '../helpers/engines.js';
import { readWatch, sleep, waitForWatch, watch, type WatchReport } from '../helpers/watch-probe.js';
import { percentile } from '../../bench/lib/pixel-clock.js';

let n: Running;
let proxy: DropProxy;
const pubs: Publisher[] = [];
const publish = (o: ConstructorParameters<typeof Publisher>[0]): Publisher => { const p = new Publisher(o); pubs.push(p); return p; };

beforeAll(async () => {
  n = await startNowcast({ srt: { listeners: [] } });
  // One live stream for the whole file, with the capture clock in its pixels.
  publish({ url: n.rtmp('live'), width: 640, height: 360, clockStrip: true, durationS: 900 });
  proxy = new DropProxy(Number(new URL(n.http).port));
  await proxy.listen();
  await streamLive('live');
});

afterAll(async () => {
  proxy?.close();
  await Promise.all(pubs.map((p) => p.stop()));
  n?.app.close();
});

/**
 * Errors a viewer should not see (a muted autoplay refusal is the engine's policy, not ours).
 * WebKitGTK now and then refuses the first media of a stream that just (re)started ("Failed to
 * push buffer") and the player recovers by starting its MediaSource over: there only fatal
 * errors fail the case, and the recovered ones are logged.
 */
function faults(name: EngineName, r: WatchReport): string[] {
  const errors = r.errors.filter((e) => e.code !== 'AUTOPLAY_BLOCKED');
  const lenient = name.startsWith('webkit');
  for (const e of errors) if (lenient && !e.fatal) console.log(`${name}: recovered from ${e.code}: ${e.message}`);
  return errors.filter((e) => !lenient || e.fatal).map((e) => `${e.code}: ${e.message}${e.fatal ? ' (fatal)' : ''}`);
}

/**
 * WebKitGTK 2.50 (GStreamer MSE) refuses the first media after a stream starts over under the
 * page ("Failed to push buffer", a <video> error) in most switches here; the player recovers
 * with a new MediaSource, twice in a row where needed (player/recovery.ts: before 2026-12-06 the
 * second failure, 0.3-0.8 s after the first, was taken for the first and the player sat stuck;
 * with the fix 8 of 9 switch runs passed, 2 of them after two recoveries). It still deadlocks
 * now and then: its web process stops answering (the main thread blocked in gst_pad_push_event,
 * its webkitmediasrc thread waiting for it; 4 of 27 switches in an earlier loop, 1 of 9 after the
 * fix). On 2 × Intel Xeon (2026-12-07, 17 runs of this case in all four engines) 5 of the 68
 * cases failed, the one whose log was kept a WebKitGTK web process that stopped answering. So the case is
 * skipped there unless NOWCAST_MATRIX_WEBKIT_SWITCH=1: CI must not fail one run in seven;
 * Chromium and Firefox run it always.
 */
const WEBKIT_SWITCH = 'WebKitGTK deadlocks in 1 of 7 to 9 publisher switches here (GStreamer MSE, see above); NOWCAST_MATRIX_WEBKIT_SWITCH=1 runs it';

/** Until the relay has had a second of the stream: joining it is not what these cases test. */
async function streamLive(stream: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  const chunks = (): number => n.app.relay.summaries().find((s) => s.name === stream && s.state === 'live')?.chunks ?? 0;
  while (chunks() < 30) {
    if (Date.now() > deadline) throw new Error(`${stream} did not go live within 10 s`);
    await sleep(100);
  }
}

/** On the live page already (the previous case may have left it there), or navigated to it. */
async function onLive(e: Engine): Promise<WatchReport> {
  const r = await readWatch(e).catch(() => undefined);
  if (r?.probed && new URL(r.href).pathname === '/watch/live' && new URL(r.href).port === new URL(n.http).port && r.presented > 5) return r;
  return watch(e, `${n.http}/watch/live`);
}

describe.each(ENGINES.map((name) => [name]))('the watch page in %s', (name: EngineName) => {
  let e: Engine;
  let broken = false;

  beforeAll(async () => { e = await openEngine(name); });
  // A case that failed may leave its browser wedged: the next case gets a fresh one.
  beforeEach(async ({ onTestFailed }) => {
    onTestFailed(() => { broken = true; });
    if (!broken) return;
    broken = false;
    await e.close();
    e = await openEngine(name);
  });
  afterAll(async () => { await e?.close(); });

  it('plays the live stream: time advances and frames are decoded and presented, without errors', async () => {
    await onLive(e);
    const a = await readWatch(e);
    await sleep(3_000);
    const b = await readWatch(e);
    expect(faults(name, b)).toEqual([]);
    expect(b.currentTime - a.currentTime).toBeGreaterThan(2.4); // 3 s at a rate of 0.95–1.25
    // Of ~90 at 30 fps. WebKitGTK under Xvfb on a loaded machine presents every other frame
    // (CI, 2026-12-07: exactly 45): still playing; a picture that stood still would present ~0.
    expect(b.presented - a.presented).toBeGreaterThan(name.startsWith('webkit') ? 30 : 45);
    // WebKit's totalVideoFrames stalls around 10 (browsers.md): frames presented say it there.
    if (!name.startsWith('webkit')) expect(b.decoded - a.decoded).toBeGreaterThan(60);
    // ManagedMediaSource where asked for, and only there (where the player reports it at all).
    if (b.managed !== null) expect(b.managed).toBe(name === 'webkit-managed');
  });

  it('holds latency under a second, by the player\'s clock and by the pixels of presented frames', async () => {
    await onLive(e);
    const since = Date.now();
    const own: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await readWatch(e);
      if (r.latency !== null) own.push(r.latency);
      await sleep(250);
    }
    const glass = (await readWatch(e, since)).glass.sort((x, y) => x - y);
    expect(own.length).toBeGreaterThan(8);
    expect(Math.max(...own)).toBeLessThan(1);
    expect(glass.length).toBeGreaterThan(30); // of ~90
    expect(percentile(glass, 50)).toBeLessThan(1000);
    expect(percentile(glass, 95)).toBeLessThan(1000);
  });

  it('reconnects after its connection to the relay drops and plays on at live, in the same document', async () => {
    const before = await watch(e, `http://127.0.0.1:${proxy.port}/watch/live`);
    expect(proxy.drop()).toBeGreaterThan(0);
    await waitForWatch(e, 'a reconnect', (r) => r.reconnects > before.reconnects, 15_000);
    const back = await readWatch(e);
    const after = await waitForWatch(e, 'frames after the reconnect', (r) => r.presented > back.presented + 30 && r.latency !== null && r.latency < 1, 15_000);
    expect(after.probed).toBe(true);
    expect(faults(name, after)).toEqual([]);
  });

  it('plays on without a reload when the publisher comes back at another resolution', async ({ skip }) => {
    skip(name.startsWith('webkit') && !process.env.NOWCAST_MATRIX_WEBKIT_SWITCH, WEBKIT_SWITCH);
    const stream = `switch-${name}`;
    const first = publish({ url: n.rtmp(stream), width: 320, height: 240, durationS: 60 });
    await streamLive(stream);
    await watch(e, `${n.http}/watch/${stream}`);
    await waitForWatch(e, '320 px wide', (r) => r.width === 320, 10_000);
    await first.stop();
    const second = publish({ url: n.rtmp(stream), width: 640, height: 360, durationS: 60 });
    try {
      const wide = await waitForWatch(e, '640 px wide', (r) => r.width === 640, 20_000);
      const after = await waitForWatch(e, 'frames at 640', (r) => r.presented > wide.presented + 30, 10_000);
      expect(after.probed).toBe(true);
      expect(faults(name, after)).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it('resumes at live after the page was hidden for 4 s', async ({ annotate }) => {
    if (!e.setHidden) throw new Error(`${name} has no way to hide a page`);
    // How the page is hidden differs by engine, and is said here (engines.ts has the reasons).
    await annotate(`hidden by ${e.hiddenBy}`);
    await onLive(e);
    await e.setHidden(true);
    try {
      await waitForWatch(e, 'hidden', (r) => r.visibilityState === 'hidden', 3_000);
      await sleep(4_000);
    } finally {
      await e.setHidden(false);
    }
    const shown = await waitForWatch(e, 'visible again', (r) => r.visibilityState === 'visible', 3_000);
    const live = await waitForWatch(e, 'frames at live', (r) => r.presented > shown.presented + 15 && r.latency !== null && r.latency < 1, 5_000);
    const since = Date.now();
    await sleep(1_500);
    const glass = (await readWatch(e, since)).glass.sort((x, y) => x - y);
    expect(live.visibility).toEqual(expect.arrayContaining(['hidden', 'visible']));
    expect(glass.length).toBeGreaterThan(20);
    expect(percentile(glass, 95)).toBeLessThan(1000);
    expect(faults(name, live)).toEqual([]);
  });
});
