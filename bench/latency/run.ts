// Latency control under network trouble (issue 3): several headless Chromium tabs watch one
// synthetic 30 fps stream through a modelled network, and each presented frame's capture
// time is read back from its pixels. Per policy × scenario: glass-to-glass percentiles,
// stalls, freezes, seeks, rates, recovery after a 2 s backlog, and the spread across viewers.
// Needs root (network namespace). Run under the shared lock:
//   flock /tmp/nowcast-heavy.lock npm run bench:latency [-- --seconds 24 --policies nowcast,none --scenarios clean,backlog]
// Network model and definitions: bench/latency/README.md.
import type { Muxer } from '../../ingest/config.js';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startNowcast, type Running } from '../../test/helpers/nowcast.js';
import { defaults as appDefaults, type LatencyService } from '../../app/config.js';
import { Publisher } from '../../test/helpers/publisher.js';
import { CHROMIUM_PATH } from '../../test/helpers/browser.js';
import { pixelClockScript, pixelClockArgs, type GlassState } from '../lib/pixel-clock.js';
import { writeSection, machine } from '../lib/results.js';
import { NetLab } from './netns.js';
import { demoteHelpers, isRtPriority, MAX_RT, serverRealtime } from './sched.js';
import { GAP_MS, ImpairedProxy, NO_IMPAIRMENT, type Impairment } from './proxy.js';
import { latencyProbeScript, type LatState } from './page.js';
import { intakeGaps, intakeLog, recordIntake } from './intake.js';
import { isNice, MAX_NICE } from '../../util/threads.js';
import { reduce, BAND_MS, FREEZE_MS, HOLD_MS, type RowMetrics, type TabData } from './metrics.js';

const { values } = parseArgs({ options: {
  seconds: { type: 'string' },
  warmup: { type: 'string', default: '3' },
  policies: { type: 'string', default: 'nowcast,pinned,none,seek,mpegts' },
  scenarios: { type: 'string', default: 'clean,jitter,loss,bandwidth,backlog' },
  tabs: { type: 'string', default: '3' },
  browsers: { type: 'string', default: 'per-tab' },
  target: { type: 'string' },
  long: { type: 'boolean', default: false },
  /** Scenarios of the 10-minute runs --long adds (first policy). */
  'long-scenarios': { type: 'string', default: 'clean' },
  'no-write': { type: 'boolean', default: false },
  /** Keep the rows of an earlier run's JSON (bench/latency/out/) that this run does not redo. */
  merge: { type: 'string' },
  /** Extra watch-page query for every tab, e.g. 'minBuffer=120'. */
  query: { type: 'string' },
  /** JSON merged over the relay's announced latency.default, e.g. '{"maxMs":3000}'. */
  service: { type: 'string' },
  /**
   * Priority of the viewers' Chromiums (0: the server side's): the nice of their scheduler
   * autogroup and of every thread. At equal shares they preempted the relay, ingest and encoder
   * on these 2 cores, and every viewer stalled at the same intake gaps (bench/latency/README.md).
   */
  'viewer-nice': { type: 'string', default: '10' },
  /**
   * SCHED_RR priority of the server side: this process's main thread (relay, proxies) and the
   * FFmpegs it starts (encoder, remux); its helper threads and the viewers' Chromiums stay
   * SCHED_OTHER. It stands in for the server's own machine on these 2 shared cores (0: off).
   */
  'server-rt': { type: 'string', default: '0' },
  /** The bandwidth cut: to this many kbit/s per viewer (default: 1.5× the stream's rate), for this long (ms); and the publisher's video rate (bench:network's bottleneck). */
  'cut-kbps': { type: 'string' },
  'cut-ms': { type: 'string' },
  'video-kbps': { type: 'string' },
  /** An ABR ladder (abr.enabled) with one 180p rendition at this many kbit/s (bench:network's with-ABR row); 180 px keeps the clock strip's cells whole (8 px). */
  'abr-kbps': { type: 'string' },
  /** Who writes the RTMP publish's fMP4 (remux.muxer): nowcast (in process) or ffmpeg. */
  muxer: { type: 'string', default: appDefaults.remux.muxer },
} });

// ---- scenarios and policies ---------------------------------------------------------------

type ScenarioName = 'clean' | 'jitter' | 'loss' | 'bandwidth' | 'backlog';
interface Scenario { label: string; imp: Impairment; event?: 'cut' | 'pause' }
const SCENARIOS: Record<ScenarioName, Scenario> = {
  clean: { label: 'clean', imp: NO_IMPAIRMENT },
  jitter: { label: '50 ± 20 ms', imp: { ...NO_IMPAIRMENT, delayMs: 50, jitterMs: 20 } },
  loss: { label: '1% loss (HOL)', imp: { ...NO_IMPAIRMENT, loss: 0.01 } },
  bandwidth: { label: '1.5× bitrate for 10 s', imp: NO_IMPAIRMENT, event: 'cut' },
  backlog: { label: '2 s backlog', imp: NO_IMPAIRMENT, event: 'pause' },
};
/** Events start this long into the measured window (the window before is the reference). */
const EVENT_AT_MS = 4_000;
const CUT_MS = Number(values['cut-ms'] ?? 10_000);
const CUT_FACTOR = 1.5;
const PAUSE_MS = 2_000;

/** Page query per policy; `pinned` is the nowcast policy in pinned mode. */
const VARIANTS: Record<string, string> = {
  nowcast: 'policy=nowcast',
  pinned: 'policy=nowcast&pinned=1',
  none: 'policy=none',
  seek: 'policy=seek',
  mpegts: 'policy=mpegts',
};

const scenarios = values.scenarios!.split(',').map((s) => s.trim()).filter(Boolean) as ScenarioName[];
for (const s of scenarios) if (!(s in SCENARIOS)) throw new Error(`unknown scenario ${s} (known: ${Object.keys(SCENARIOS).join(', ')})`);
let variants = values.policies!.split(',').map((s) => s.trim()).filter(Boolean);
for (const v of variants) if (!(v in VARIANTS)) throw new Error(`unknown policy ${v} (known: ${Object.keys(VARIANTS).join(', ')})`);
const tabsN = Math.max(1, Math.min(6, Number(values.tabs)));
const warmupMs = Number(values.warmup) * 1000;
if (values.browsers !== 'per-tab' && values.browsers !== 'shared') throw new Error('--browsers is per-tab or shared');
/** One Chromium per viewer (as real viewers are), or all tabs in one Chromium. */
const perTabBrowser = values.browsers === 'per-tab';
const targetQuery = (values.target ? `&target=${Number(values.target)}` : '') + (values.query ? `&${values.query}` : '');
const serviceOverride = values.service ? (JSON.parse(values.service) as Partial<LatencyService>) : {};
const service: LatencyService = { ...appDefaults.latency.default, ...serviceOverride };
const STREAM = 'latbench';

if (process.getuid?.() !== 0) {
  console.error('bench:latency needs root: it creates a network namespace and a veth pair.');
  process.exit(1);
}

// ---- lifetime: everything we start is stopped on every exit path ----------------------------

recordIntake();
const net = new NetLab();
const proxies: ImpairedProxy[] = [];
let nowcast: Running | undefined;
let publisher: Publisher | undefined;
let browser: Browser | undefined;
/** Extra browsers when each viewer gets its own Chromium (--browsers per-tab). */
const extraBrowsers = new Set<Browser>();
let cleaning: Promise<void> | undefined;

function cleanupSync(): void {
  net.unshape();
  net.destroy();
  if (publisher && publisher.child.exitCode === null) publisher.child.kill('SIGKILL');
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    const bounded = <T>(p: Promise<T>): Promise<unknown> => Promise.race([p.catch(() => undefined), sleep(5_000)]);
    if (browser) await bounded(browser.close());
    browser = undefined;
    for (const b of extraBrowsers) await bounded(b.close());
    extraBrowsers.clear();
    for (const p of proxies) await bounded(p.close());
    if (publisher) await bounded(publisher.stop());
    nowcast?.app.close();
    cleanupSync();
  })();
  return cleaning;
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('uncaughtException', (e) => {
  console.error(e);
  void cleanup().finally(() => process.exit(1));
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

function sleepUntil(at: number): Promise<void> {
  return sleep(at - Date.now());
}

/** Machine-wide busy/total ticks, and the ticks of this process and all its descendants (Chromium, FFmpeg). */
function cpuTicks(): { busy: number; total: number; mine: Map<number, number> } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
    } catch { /* exited */ }
  }
  const mine = new Map<number, number>();
  for (const [pid, p] of procs) {
    let q: number | undefined = pid;
    for (let hop = 0; hop < 64 && q && q !== 1; hop++) {
      if (q === process.pid) { mine.set(pid, p.ticks); break; }
      q = procs.get(q)?.ppid;
    }
  }
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total, mine };
}

/** % of the whole machine (all cores) over [a, b]: busy, and the part that is this benchmark's own processes. */
function cpuShare(a: ReturnType<typeof cpuTicks>, b: ReturnType<typeof cpuTicks>): { all: number; mine: number } {
  const total = Math.max(1, b.total - a.total);
  let mine = 0;
  for (const [pid, t] of b.mine) mine += t - (a.mine.get(pid) ?? 0);
  return { all: (100 * (b.busy - a.busy)) / total, mine: (100 * mine) / total };
}

// ---- browser side -----------------------------------------------------------------------

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: net.chromiumWrapper,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-quic', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
    timeout: 30_000,
  });
}

async function openTab(b: Browser, url: string): Promise<{ page: Page; firstFrameMs: number }> {
  const page = await b.newPage({ viewport: { width: 640, height: 360 } });
  await page.addInitScript({ content: pixelClockScript({ ...pixelClockArgs, ...(values['abr-kbps'] ? { sourceHeight: 360 } : {}) }) });
  await page.addInitScript({ content: latencyProbeScript(100) });
  const t0 = Date.now();
  await page.goto(url, { timeout: 15_000 });
  await page.waitForFunction(() => ((window as unknown as { __glass?: GlassState }).__glass?.firstFrameAt ?? 0) > 0, null, { timeout: 20_000 });
  const first = await page.evaluate(() => (window as unknown as { __glass: GlassState }).__glass.firstFrameAt);
  return { page, firstFrameMs: first - t0 };
}

async function collect(page: Page, from: number, to: number): Promise<Omit<TabData, 'firstFrameMs'>> {
  return page.evaluate(([a, z]) => {
    const w = window as unknown as { __glass: GlassState; __lat: LatState };
    return { glass: w.__glass.samples.filter((s) => s.shownAt >= a! && s.shownAt <= z!), unreadable: w.__glass.unreadable, lat: w.__lat };
  }, [from, to]);
}

const url = (i: number, query: string): string => `http://${net.o.hostIp}:${ports[i]}/watch/${STREAM}?${query}${targetQuery}`;

const series: unknown[] = [];
const fmtS = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '—');

// ---- one run ------------------------------------------------------------------------------

interface Row extends RowMetrics {
  scenario: ScenarioName;
  variant: string;
  query: string;
  seconds: number;
  cpuPct: number;
  cpuOwnPct: number;
  load: string;
  firstFrameMs: number[];
  unreadable: number;
  streamKbps?: number;
  shapedKbps?: number;
  /** The relay's skips by rule in the window (relay/drop-policy.ts). */
  relaySkips?: { ack: number; bytes: number };
  lossEvents: number;
  note: string;
  /** When the row was measured (ISO). */
  at?: string;
}

async function run(variant: string, scenario: ScenarioName, seconds: number): Promise<Row> {
  const sc = SCENARIOS[scenario];
  const query = VARIANTS[variant]!;
  for (const p of proxies) { p.reset(); p.impairment = { ...sc.imp }; }
  if (serverRt) demoteHelpers();
  browser = await launch();
  const firstFrameMs: number[] = [];
  const pages: Page[] = [];
  let note = '';
  try {
    // Every Chromium starts before the first tab joins: a launch takes ~1 s of both cores, and
    // launched between joins it made the tabs already playing stall (join stalls raise the target).
    const browsers: Browser[] = [browser];
    for (let i = 1; i < tabsN && perTabBrowser; i++) { const b = await launch(); extraBrowsers.add(b); browsers.push(b); }
    for (let i = 0; i < tabsN; i++) {
      const t = await openTab(browsers[i] ?? browser, url(i, query));
      pages.push(t.page);
      firstFrameMs.push(t.firstFrameMs);
    }
    await sleep(warmupMs);
    const from = Date.now();
    const c0 = cpuTicks();
    const skips0 = { ...nowcast!.app.relay.skipsByRule };
    // This process runs the relay, the ingest and the proxies: its own stalls reach every viewer.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    let pauseAt: number | undefined, resumeAt: number | undefined, streamKbps: number | undefined, shapedKbps: number | undefined;
    let cutAt: number | undefined, cutEndAt: number | undefined;
    if (sc.event === 'cut') {
      await sleepUntil(from + EVENT_AT_MS);
      // Per-viewer stream rate over the 4 s before the cut (all tabs have been playing ≥ warmup + 4 s).
      streamKbps = proxies.reduce((a, p) => a + (p.downRate(4_000) * 8) / 1000, 0) / proxies.length;
      shapedKbps = values['cut-kbps'] ? Number(values['cut-kbps']) : CUT_FACTOR * streamKbps;
      net.shape(ports, shapedKbps);
      cutAt = Date.now();
      await sleepUntil(from + EVENT_AT_MS + CUT_MS);
      const stats = net.shapeStats();
      net.unshape();
      cutEndAt = Date.now();
      const drops = [...stats.matchAll(/dropped (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
      console.log(`[latency] cut at ${cutAt} ms, ended at ${cutEndAt} ms (epoch; for the relay's debug log, NOWCAST_TEST_LOG=debug)`);
      note = `cut to ${Math.round(shapedKbps)} kbit/s per viewer (stream ${Math.round(streamKbps)} kbit/s), ${drops} packets dropped by the shaper`;
    } else if (sc.event === 'pause') {
      await sleepUntil(from + EVENT_AT_MS);
      pauseAt = Date.now();
      for (const p of proxies) p.pause(PAUSE_MS);
      resumeAt = pauseAt + PAUSE_MS;
    }
    await sleepUntil(from + seconds * 1000);
    const to = Date.now();
    const c1 = cpuTicks();
    loop.disable();
    const tabs: TabData[] = [];
    for (const [i, p] of pages.entries()) tabs.push({ ...(await collect(p, from, to)), firstFrameMs: firstFrameMs[i]! });
    const m = reduce(tabs, { from, to, pauseAt, resumeAt, cutAt, cutEndAt });
    const lossEvents = proxies.reduce((a, p) => a + p.counters.lossEvents, 0);
    const reads = proxies.reduce((a, p) => a + p.counters.reads, 0);
    if (scenario === 'loss') note = `${lossEvents} of ${reads} server → viewer reads (${Math.round((lossEvents / Math.max(1, reads)) * 1000) / 10}%, join and warm-up included) waited one RTO with everything behind them`;
    if (scenario === 'backlog') note = `back within ±${BAND_MS} ms per viewer: ${m.recoveryS.map(fmtS).join(' / ')} s of the player's target on the pixel scale (pixel − player latency offset ${m.offsetMs.map((x) => Math.round(x)).join(' / ')} ms), ${m.recoveryRefS.map(fmtS).join(' / ')} s of the pre-outage median (${m.referenceMs.map((x) => Math.round(x)).join(' / ')} ms), ${m.recoveryPlayerS.map(fmtS).join(' / ')} s on the player's own figures; peak after resume ${Math.round(m.peakMs)} ms`;
    // Where delivery stopped for every viewer at once: the relay's reads (upstream: FFmpeg, the
    // relay, this event loop) or the proxy's timers (this event loop).
    const gapTimes = [...new Set(proxies.flatMap((p) => p.counters.readGaps).filter((t) => t >= from && t <= to).map((t) => Math.round((t - from) / 100) / 10))].sort((a, b) => a - b);
    const upstream = `relay → proxy read gaps > ${GAP_MS} ms: ${gapTimes.length ? `at ${gapTimes.slice(0, 12).join(', ')}${gapTimes.length > 12 ? ', …' : ''} s` : 'none'} (longest ${Math.round(Math.max(...proxies.map((p) => p.counters.maxReadGapMs)))} ms, join included); proxy releases late by up to ${Math.round(Math.max(...proxies.map((p) => p.counters.maxReleaseLateMs)))} ms; bench event loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(0)} / max ${(loop.max / 1e6).toFixed(0)} ms`;
    note += `${note ? '; ' : ''}${upstream}; relay intake gaps > ${GAP_MS} ms: ${intakeGaps(from, to, GAP_MS)}`;
    if (m.unstalls) note += `${note ? '; ' : ''}${m.unstalls} of the seeks were stall-breaking seeks in place`;
    if (m.joinStalls) note += `${note ? '; ' : ''}${m.joinStalls} stall(s) while joining / warming up (not counted)`;
    if (m.targets.length > 1) note += `${note ? '; ' : ''}player targets seen in the window ${m.targets.join(' / ')} ms`;
    series.push({ scenario, variant, from, to, pauseAt, tabs: tabs.map((t) => ({
      poll: t.lat.poll.filter((p) => p.t >= from - warmupMs - 5_000).map((p) => [p.t - from, p.rate, p.latency, p.targetLatency, p.buffer, p.stalls, p.jitter]),
      stalls: t.lat.stalls.map(([a, z]) => [a - from, z ? z - from : null]), seeks: t.lat.seeks.map((x) => x - from),
      glass: t.glass.map((g) => [Math.round(g.shownAt - from), Math.round(g.latencyMs)]) })) });
    return {
      ...m, scenario, variant, query, seconds: (to - from) / 1000, at: new Date().toISOString(),
      cpuPct: cpuShare(c0, c1).all, cpuOwnPct: cpuShare(c0, c1).mine, load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      firstFrameMs, unreadable: tabs.reduce((a, t) => a + t.unreadable, 0), streamKbps, shapedKbps, lossEvents, note,
      relaySkips: { ack: nowcast!.app.relay.skipsByRule.ack - skips0.ack, bytes: nowcast!.app.relay.skipsByRule.bytes - skips0.bytes },
    };
  } finally {
    net.unshape();
    for (const x of extraBrowsers) await Promise.race([x.close().catch(() => undefined), sleep(5_000)]);
    extraBrowsers.clear();
    const b = browser;
    browser = undefined;
    await Promise.race([b.close().catch(() => undefined), sleep(5_000)]);
    for (const p of proxies) p.reset();
  }
}

// ---- main ---------------------------------------------------------------------------------

const viewerNice = Number(values['viewer-nice']);
if (!isNice(viewerNice)) throw new Error(`--viewer-nice: an integer from 0 to ${MAX_NICE}`);
const serverRt = Number(values['server-rt']);
if (!isRtPriority(serverRt)) throw new Error(`--server-rt: an integer from 0 (off) to ${MAX_RT}`);
// Before anything starts: the FFmpegs spawned later inherit the main thread's policy.
if (serverRt) serverRealtime(serverRt);
net.create(CHROMIUM_PATH, viewerNice, serverRt > 0);
nowcast = await startNowcast({ srt: { listeners: [] }, remux: { muxer: values.muxer as Muxer }, latency: { default: service, streams: [] },
  ...(values['abr-kbps'] ? { abr: { enabled: true, ladder: [{ name: '180p', height: 180, videoBitrate: Number(values['abr-kbps']) * 1000 }] } } : {}) });
const ports: number[] = [];
for (let i = 0; i < tabsN; i++) {
  const p = new ImpairedProxy({ host: '127.0.0.1', port: nowcast.app.httpPort });
  proxies.push(p);
  ports.push(await p.listen(net.o.hostIp));
}

// Does the player take ?policy= yet? Ask it, and run only what it can do.
// One publisher for the whole benchmark, bounded by the longest plan the flags allow.
const perRunOverheadS = 12 + warmupMs / 1000;
const maxSeconds = Number(values.seconds ?? 60);
const longScenarios = values['long-scenarios']!.split(',').map((x) => x.trim()).filter(Boolean) as ScenarioName[];
for (const s of longScenarios) if (!(s in SCENARIOS) || SCENARIOS[s].event) throw new Error(`--long-scenarios: ${s} is not a steady scenario`);
const maxBudgetS = 30 + scenarios.length * variants.length * (maxSeconds + perRunOverheadS) + (values.long ? longScenarios.length * (600 + perRunOverheadS) : 0);
publisher = new Publisher({ url: nowcast.rtmp(STREAM), width: 640, height: 360, fps: 30, clockStrip: true, ...(values['video-kbps'] ? { videoKbps: Number(values['video-kbps']) } : {}), durationS: Math.ceil(maxBudgetS * 1.5 + 120) });
await sleep(2_500);
let landed = false;
let statsKeys: string[] = [];
{
  browser = await launch();
  try {
    const { page } = await openTab(browser, url(0, 'policy=none&pinned=1'));
    await sleep(1_500);
    const s = await page.evaluate(() => {
      const w = window as unknown as { __nowcast?: { player: { stats: Record<string, unknown> } } };
      return w.__nowcast?.player.stats ?? {};
    });
    statsKeys = Object.keys(s);
    landed = s.policy === 'none';
    console.log(`player stats keys: ${statsKeys.join(', ')}; policy reported for ?policy=none: ${JSON.stringify(s.policy)}; pinned: ${JSON.stringify(s.pinned)}`);
  } finally {
    await browser.close().catch(() => undefined);
    browser = undefined;
  }
}
if (!landed) {
  console.log('The player does not report a policy yet (it ignores ?policy=): running the default player once per scenario.');
  variants = ['nowcast'];
}
const seconds = Number(values.seconds ?? (variants.length > 2 ? 20 : 60));
if (scenarios.includes('backlog') && seconds * 1000 < EVENT_AT_MS + PAUSE_MS + HOLD_MS + 9_000) console.warn(`warning: --seconds ${seconds} leaves under 9 s + ${HOLD_MS / 1000} s to see a recovery after the backlog`);
if (scenarios.includes('bandwidth') && seconds * 1000 < EVENT_AT_MS + CUT_MS + 2_000) console.warn(`warning: --seconds ${seconds} ends before the bandwidth cut is over`);

const plan: Array<{ variant: string; scenario: ScenarioName; seconds: number }> = [];
for (const scenario of scenarios) for (const variant of variants) plan.push({ variant, scenario, seconds });
if (values.long) for (const s of longScenarios) plan.push({ variant: variants[0]!, scenario: s, seconds: 600 });
const budgetS = plan.reduce((a, p) => a + p.seconds + perRunOverheadS, 0);
console.log(`plan: ${plan.length} runs, ≈ ${Math.round(budgetS / 60)} min`);
// A bound on the whole benchmark, whatever happens inside.
const watchdog = setTimeout(() => {
  console.error('bench:latency: over its time budget, stopping');
  void cleanup().finally(() => process.exit(2));
}, (budgetS * 1.5 + 120) * 1000);
watchdog.unref();

const rows: Row[] = [];
/** Rows of an earlier run kept by --merge (those this plan does not redo), and where they came from. */
let kept: Row[] = [];
let keptFrom = '';
if (values.merge) {
  const prev = JSON.parse(readFileSync(values.merge, 'utf8')) as { rows: Row[] };
  const stampOf = /latency-(\d{4}-\d\d-\d\dT\d\d)-(\d\d)/.exec(values.merge);
  keptFrom = stampOf ? `${stampOf[1]!.replace('T', ' ')}:${stampOf[2]} UTC` : values.merge;
  kept = prev.rows.filter((r) => !plan.some((p) => p.variant === r.variant && p.scenario === r.scenario && (p.seconds >= 300) === (r.seconds >= 300)));
}
/** When the kept rows were measured, e.g. "00:27–00:38 UTC". */
function keptTimes(): string {
  const t = kept.map((r) => r.at?.slice(11, 16)).filter((x): x is string => !!x).sort();
  return t.length ? `${t[0]}${t.at(-1) !== t[0] ? `–${t.at(-1)}` : ''} UTC` : keptFrom;
}
const ORDER_S = Object.keys(SCENARIOS);
const ORDER_V = Object.keys(VARIANTS);
/** This run's rows and the kept ones, in scenario then policy order. */
function allRows(): Row[] {
  return [...kept, ...rows].sort((a, b) => ORDER_S.indexOf(a.scenario) - ORDER_S.indexOf(b.scenario)
    || (a.seconds >= 300 ? 1 : 0) - (b.seconds >= 300 ? 1 : 0) || ORDER_V.indexOf(a.variant) - ORDER_V.indexOf(b.variant));
}
const outDir = fileURLToPath(new URL('./out/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');

// ---- report -------------------------------------------------------------------------------

/** Prints the tables and (re)writes the RESULTS.md section; called after every run, so a cut-short benchmark still leaves its rows. */
function report(final: boolean): void {
  const rows = allRows();
  const variants = ORDER_V.filter((v) => rows.some((r) => r.variant === v));
  const at = (r: Row): string => (kept.includes(r) ? ' †' : '');
  const ms = (x: number): string => (Number.isFinite(x) ? String(Math.round(x)) : '–');
  const worst = (xs: number[]): number => (xs.length && xs.every(Number.isFinite) ? Math.max(...xs) : NaN);
  const ran = (r: Row): string => `${r.variant}${landed ? '' : ' (default player: ?policy ignored)'} → ${r.policies.join('/')}${r.pinned.some((x) => x !== '?') ? `, pinned ${r.pinned.join('/')}` : ''}`;
  const per10min = (r: Row): number => (r.stalls / tabsN) * (600 / r.seconds);
  const table = [
    '| scenario | policy asked → reported | g2g p50 / p95 / p99 (ms) | stalls n / ms | freezes > 200 ms n / ms | seeks | rate min–max | back within ±50 ms after backlog, worst viewer: pixels (player’s own) | viewer spread p50 / p95 / max (ms) | CPU: all / ours (% of 2 cores) | frames read |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${SCENARIOS[r.scenario].label}${r.seconds > 300 ? ` (${Math.round(r.seconds)} s)` : ''}${at(r)} | ${ran(r)} | ${ms(r.p50)} / ${ms(r.p95)} / ${ms(r.p99)} | ${r.stalls} / ${r.stallMs} | ${r.freezes} / ${r.freezeMs} | ${r.seeks} | ${r.minRate.toFixed(2)}–${r.maxRate.toFixed(2)} | ${r.scenario === 'backlog' ? `${Number.isFinite(worst(r.recoveryS)) ? `${worst(r.recoveryS).toFixed(1)} s` : 'not in window'} (player: ${Number.isFinite(worst(r.recoveryPlayerS)) ? `${worst(r.recoveryPlayerS).toFixed(1)} s` : '–'})` : ''} | ${ms(r.spreadP50)} / ${ms(r.spreadP95)} / ${ms(r.spreadMax)} | ${Math.round(r.cpuPct)} / ${Math.round(r.cpuOwnPct)} | ${r.frames} |`),
  ].join('\n');
  const notes = rows.filter((r) => r.note).map((r) => `- ${SCENARIOS[r.scenario].label}${r.seconds > 300 ? ` (${Math.round(r.seconds)} s)` : ''} × ${r.variant}: ${r.note}.`).join('\n');

  const check = (ok: boolean | undefined): string => (ok === undefined ? '–' : ok ? 'yes' : '**no**');
  const find = (v: string, s: ScenarioName): Row | undefined => rows.find((r) => r.variant === v && r.scenario === s && r.seconds < 300);
  const targetRows = variants.map((v) => {
    const clean = find(v, 'clean'), jit = find(v, 'jitter'), back = find(v, 'backlog');
    const long = rows.find((r) => r.variant === v && r.scenario === 'clean' && r.seconds >= 300);
    const jitLong = rows.find((r) => r.variant === v && r.scenario === 'jitter' && r.seconds >= 300);
    const spreadRow = v === 'pinned' ? clean : undefined;
    return `| ${v} | ${check(clean && clean.p50 <= 200)} (${ms(clean?.p50 ?? NaN)}) | ${check(clean && clean.p99 <= 350)} (${ms(clean?.p99 ?? NaN)}) | ${long ? `${check(long.stalls === 0)} (${long.stalls} in ${Math.round(long.seconds / 60)} min)` : clean ? `${check(clean.stalls === 0)} (${clean.stalls} in ${Math.round(clean.seconds)} s)` : '–'} | ${back ? `${check(worst(back.recoveryS) <= 9)} (${Number.isFinite(worst(back.recoveryS)) ? worst(back.recoveryS).toFixed(1) + ' s' : 'never'})` : '–'} | ${back ? `${check(back.maxRate <= 1.25)} (${back.maxRate.toFixed(2)}×)` : '–'} | ${back ? `${check(back.stalls === 0)} (${back.stalls})` : '–'} | ${check(jit && jit.p50 <= 400)} (${ms(jit?.p50 ?? NaN)}) | ${jitLong ? `${check(per10min(jitLong) <= 1)} (${per10min(jitLong).toFixed(1)}, ${Math.round(jitLong.seconds / 60)}-min run)` : jit ? `${check(per10min(jit) <= 1)} (${per10min(jit).toFixed(1)})` : '–'} | ${spreadRow ? `${check(spreadRow.spreadMax <= 50)} (p95 ${ms(spreadRow.spreadP95)}, max ${ms(spreadRow.spreadMax)})` : '–'} |`;
  });
  const targets = [
    '| policy | clean p50 ≤ 200 | clean p99 ≤ 350 | clean 0 stalls | backlog: back in ±50 ms ≤ 9 s | backlog: rate ≤ 1.25× | backlog: 0 stalls | jitter p50 ≤ 400 | jitter ≤ 1 stall / 10 min / viewer | pinned: viewers within ±50 ms |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...targetRows,
  ].join('\n');
  if (final) console.log(table + '\n\n' + notes + '\n\n' + targets);

  const command = `flock /tmp/nowcast-heavy.lock npm run bench:latency -- --seconds ${seconds} --warmup ${warmupMs / 1000} --policies ${values.policies} --scenarios ${scenarios.join(',')} --tabs ${tabsN} --browsers ${values.browsers}${values.long ? ` --long${values['long-scenarios'] !== 'clean' ? ` --long-scenarios ${values['long-scenarios']}` : ''}` : ''}${values.target ? ` --target ${values.target}` : ''}${values.query ? ` --query '${values.query}'` : ''}${values.service ? ` --service '${values.service}'` : ''}${viewerNice !== 10 ? ` --viewer-nice ${viewerNice}` : ''}${serverRt ? ` --server-rt ${serverRt}` : ''}${values.merge ? ` --merge ${values.merge.replace(/^.*\/bench\//, 'bench/')}` : ''}`;
  if (!values['no-write'] && rows.length) {
    writeSection('Latency control (npm run bench:latency)', `
Date: ${new Date().toISOString()}${final ? '' : ` (partial: ${rows.length - kept.length} of ${plan.length} runs so far)`}. Machine: ${machine()}.${kept.length ? ` Rows marked † are kept from earlier runs (\`--merge\`, measured ${keptTimes()}); the others were measured in this run. The player may have changed between runs: a kept row measured the player as built at its time.` : ''}
Command: \`${command}\`

Relay's announced latency service (\`hello.service\`): \`${JSON.stringify(service)}\`${values.service ? ' (app default with `--service` applied)' : ' (the app default)'}.

${tabsN} viewers (${perTabBrowser ? 'each its own headless Chromium' : 'tabs of one headless Chromium'}${viewerNice ? `, their scheduler autogroup and every thread at nice ${viewerNice} (bench/latency/README.md)` : ''}${serverRt ? `; the server side (the relay's and proxies' event loop, the encoder and remux FFmpeg) at SCHED_RR ${serverRt}, standing in for its own machine (bench/latency/README.md)` : ''}) in their own network namespace watch one stream (FFmpeg testsrc2 640×360 30 fps, x264 ultrafast zerolatency 1.5 Mb/s, keyframe every 1 s, AAC 96 kb/s, RTMP → ${values.muxer === 'ffmpeg' ? 'FFmpeg pull, 30 ms fMP4 chunks' : 'fMP4 chunks written in process as each frame and audio packet arrive (remux.muxer nowcast)'} → relay) through a user-space proxy that models delay, jitter, TCP head-of-line stalls from loss and a 2 s outage, and HTB on the veth for the bandwidth cut (model: bench/latency/README.md).
Glass-to-glass is read from the pixels of every presented frame (capture wall clock burned in by the source). Each row: ${warmupMs / 1000} s warm-up after the tabs join, then a ${seconds} s window; events start ${EVENT_AT_MS / 1000} s into it. Figures pool all viewers; stalls, freezes and seeks are summed over the ${tabsN} viewers. In the backlog row the outage's own stall and freeze are not counted.
Policies: ${landed ? `the player reports \`stats.policy\`; the column shows what it reported for the policy asked` : `**the player does not implement \`?policy=\` yet (stats has no \`policy\`), so only the default player ran**`}. Player stats keys seen: ${statsKeys.map((k) => `\`${k}\``).join(', ')}.
"Back within ±50 ms": from resume until every later 250 ms median of the pixel latency stays within ±${BAND_MS} ms of the player's own target (\`stats.targetLatency\`) put on the pixel scale by adding that viewer's median (pixel latency − \`stats.latency\`), and holds for ≥ ${HOLD_MS / 1000} s; in brackets the same on the player's own figures only. Spread: per 100 ms of wall time, max − min of the viewers' mean latency. Freeze: a gap > ${FREEZE_MS} ms between presented frames.
CPU: busy share of the whole machine (both cores) over the window / the share of this benchmark's own processes (Chromium, both FFmpegs, Node with relay and proxies); the difference is other jobs on the shared machine (load average at the end of each row in the JSON: ${[...new Set(rows.map((r) => r.load.split(' ')[0]))].join(', ')}).

${table}

${notes}

Targets (issue 3):

${targets}
`);
  }
}

for (const [k, p] of plan.entries()) {
  console.log(`[${k + 1}/${plan.length}] ${p.scenario} × ${p.variant} (${p.seconds} s)`);
  let row: Row;
  try {
    row = await run(p.variant, p.scenario, p.seconds);
  } catch (e) {
    console.error(`  failed: ${(e as Error).message}`);
    continue;
  }
  rows.push(row);
  const { tabP50, ...brief } = row;
  console.log('  ' + JSON.stringify({ ...brief, tabP50: tabP50.map(Math.round) }));
  writeFileSync(`${outDir}/latency-${stamp}.json`, JSON.stringify({ statsKeys, landed, rows: allRows(), series, intake: intakeLog() }));
  report(false);
  if (publisher.child.exitCode !== null) { console.error('publisher exited early'); break; }
}

report(true);
clearTimeout(watchdog);
await cleanup();
process.exit(0);
