// One live stream, every engine on this machine in turn: glass-to-glass read from the pixels
// (bench/lib/pixel-clock.ts, as bench:glass reads it), stalls, and time to first frame, for
// Chromium, Firefox ESR, WebKitGTK, WebKitGTK on ManagedMediaSource, and LL-HLS through hls.js
// in Chromium. Rows run one after another on the same stream, one viewer at a time: two
// cores shared by two browsers would measure the machine, not the engines.
// Usage: npm run bench:browsers [-- --seconds 20 --joins 6 --rows chromium,firefox,webkit,webkit-managed,chromium-hls --path rtt=80,mbps=8]
// (--path: through a phone-like path, bench/lib/phone-path.ts; --source srt-defaults: an SRT caller
// with FFmpeg's MPEG-TS defaults, whose audio comes in bursts; each written to a section of its own)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { startNowcast } from '../../test/helpers/nowcast.js';
import { Publisher } from '../../test/helpers/publisher.js';
import { PhonePath, parsePhonePath } from '../lib/phone-path.js';
import { openEngine, type Engine, type EngineName } from '../../test/helpers/engines.js';
import { PROBE_SCRIPT, readWatch, sleep, type WatchReport } from '../../test/helpers/watch-probe.js';
import { percentile } from '../lib/pixel-clock.js';
import { writeSection, machine } from '../lib/results.js';
import type { StartupTimes } from '../../player/events.js';

const ROWS: Record<string, { engine: EngineName; query: string; label: string }> = {
  'chromium': { engine: 'chromium', query: '', label: 'Chromium' },
  'firefox': { engine: 'firefox', query: '', label: 'Firefox ESR' },
  'webkit': { engine: 'webkit', query: '', label: 'WebKitGTK (MiniBrowser)' },
  'webkit-managed': { engine: 'webkit-managed', query: '', label: 'WebKitGTK, ManagedMediaSource (`?mse=managed`)' },
  'chromium-hls': { engine: 'chromium', query: '?transport=hls', label: 'Chromium, LL-HLS through hls.js (`?transport=hls`)' },
  // Not in the default run: the player's Safari safe mode forced off, for comparison.
  'webkit-safari-off': { engine: 'webkit', query: '?safari=off', label: 'WebKitGTK, `?safari=off`' },
  'webkit-seek': { engine: 'webkit', query: '?safari=seek', label: 'WebKitGTK, `?safari=seek` (jumps only)' },
  'webkit-coarse': { engine: 'webkit', query: '?safari=coarse', label: 'WebKitGTK, `?safari=coarse`' },
};
const DEFAULT_ROWS = ['chromium', 'firefox', 'webkit', 'webkit-managed', 'chromium-hls'];

const { values } = parseArgs({ options: {
  seconds: { type: 'string', default: '20' },
  joins: { type: 'string', default: '6' },
  rows: { type: 'string', default: DEFAULT_ROWS.join(',') },
  'no-write': { type: 'boolean', default: false },
  // rtt=MS,mbps=N: every browser reaches the relay through a phone-like path (bench/lib/phone-path.ts).
  path: { type: 'string', default: '' },
  // rtmp, or srt-defaults: an FFmpeg SRT caller with its MPEG-TS defaults and 128 kb/s AAC, so
  // frames come in bursts, one per ~0.18 s audio PES (docs/srt.md).
  source: { type: 'string', default: 'rtmp' },
} });
const srtSource = values.source === 'srt-defaults';
if (!srtSource && values.source !== 'rtmp') throw new Error(`--source must be rtmp or srt-defaults, got ${values.source}`);
const seconds = Number(values.seconds);
const joins = Number(values.joins);
const rowNames = values.rows!.split(',').filter(Boolean);
for (const r of rowNames) if (!ROWS[r]) throw new Error(`--rows: unknown row ${r}; known: ${Object.keys(ROWS).join(', ')}`);
if (!(seconds > 0 && seconds <= 600) || !(joins >= 1 && joins <= 20)) throw new Error('--seconds must be 1–600 and --joins 1–20');

const ms = (x: number): string => (Number.isFinite(x) ? String(Math.round(x)) : '–');

/** Every wait is bounded: a page that never plays ends its row, not the benchmark. */
const FIRST_FRAME_MS = 20_000;
const ROW_MS = 120_000 + seconds * 1000;

interface Row {
  label: string;
  available: boolean;
  note: string;
  p50: number; p95: number; p99: number; max: number;
  frames: number;
  stalls: number; stallMs: number;
  firstFrame: number[];
  /** The untimed first join of a freshly started browser (ms; NaN when not measured). */
  cold: number;
  /** The player's stats.startup of each timed join: where the time went. */
  stages: StartupTimes[];
  /** Joins whose first frame was shown before the probe could be installed (WebKit: no init scripts). */
  missedJoins: number;
}

const empty = (label: string, note: string): Row => ({ label, available: false, note, p50: NaN, p95: NaN, p99: NaN, max: NaN,
  frames: 0, stalls: 0, stallMs: 0, firstFrame: [], cold: NaN, stages: [], missedJoins: 0 });

async function until(e: Engine, ok: (r: WatchReport) => boolean, ms: number): Promise<WatchReport | undefined> {
  const deadline = Date.now() + ms;
  for (let r = await readWatch(e); ; r = await readWatch(e)) {
    if (ok(r)) return r;
    if (Date.now() > deadline) return undefined;
    await sleep(100);
  }
}

/** One join: navigation start (performance.timeOrigin) to the first presented frame, or undefined if the probe came too late. */
async function join(e: Engine, url: string): Promise<{ ms: number | undefined; report: WatchReport } | undefined> {
  // WebKitGTK's WebDriver now and then answers a navigation with "unknown error": once more.
  await e.goto(url).catch(async (err: unknown) => {
    console.error(`[browsers] navigation failed (${String(err).slice(0, 160)}); once more`);
    await sleep(500);
    await e.goto(url);
  });
  let late = false;
  if (!e.addInitScript) {
    // After the load event, so the check and the install run as one script in the page: a
    // frame already shown (the player's startupMs known) means this join cannot be timed.
    late = await e.evaluate<boolean>(`(() => {
      const s = window.__nowcast && window.__nowcast.player.stats;
      const late = !!s && Number.isFinite(s.startupMs);
      ${PROBE_SCRIPT};
      return late;
    })()`);
  }
  const r = await until(e, (x) => x.firstFrameAt > 0, FIRST_FRAME_MS);
  if (!r) return undefined;
  return { ms: late ? undefined : r.firstFrameAt - r.timeOrigin, report: r };
}

/** The row's browser, so a row that runs out of time can still be closed. */
let current: Engine | undefined;

async function measure(name: string): Promise<Row> {
  const spec = ROWS[name]!;
  const url = `${base}/watch/glass${spec.query}`;
  let e: Engine;
  try {
    e = current = await openEngine(spec.engine);
  } catch (err) {
    return empty(spec.label, `not available: the browser did not start (${String(err).slice(0, 120)})`);
  }
  try {
    if (e.addInitScript) await e.addInitScript(PROBE_SCRIPT); // installed before the page's scripts: the first frame is seen
    const firstFrame: number[] = [];
    const stages: StartupTimes[] = [];
    let missed = 0;
    let last: WatchReport | undefined;
    let cold = NaN;
    // Join 0 warms the browser (its processes, caches, code cache) and is reported apart: the
    // issue's figure is a warm browser's; a browser's first page pays its own start-up.
    for (let i = 0; i <= joins; i++) {
      const j = await join(e, url);
      if (!j) {
        const r = await readWatch(e).catch(() => undefined);
        const why = r ? `state ${r.state}, transport ${r.transport ?? '–'}, errors ${r.errors.map((x) => x.code).join(', ') || 'none'}` : 'page not answering';
        return empty(spec.label, `not available: no frame presented within ${FIRST_FRAME_MS / 1000} s of navigation (${why})`);
      }
      if (i === 0) {
        cold = j.ms ?? NaN;
        continue;
      }
      if (j.ms === undefined) missed++;
      else firstFrame.push(j.ms);
      const st = await e.evaluate<StartupTimes | null>('(() => { const s = window.__nowcast && window.__nowcast.player.stats; return s && s.startup ? s.startup : null; })()');
      if (st) stages.push(st);
      last = j.report;
    }
    const notes: string[] = [];
    if (spec.query.includes('transport=hls')) {
      if (last!.transport !== 'hls') return empty(spec.label, `not available: the page played over ${last!.transport ?? 'an unknown transport'}, not LL-HLS`);
      const v = (createRequire(import.meta.url)('hls.js/package.json') as { version: string }).version;
      notes.push(`hls.js ${v}`);
    }
    if (spec.engine === 'webkit-managed') notes.push(`ManagedMediaSource in use: ${last!.managed === null ? 'not reported by this player' : last!.managed ? 'yes' : '**no**'}`);
    if (stages.length) notes.push(`stages (median ms after navigation): ${stageSummary(stages)}`);
    if (missed) notes.push(`first frame timed on ${firstFrame.length} of ${joins} joins (on ${missed} it was shown before the probe could be installed after the load event)`);

    await sleep(3_000); // settle: the controller converges from the join point
    const before = await readWatch(e);
    const from = Date.now();
    // The player's own figure next to the pixels' (prft wall clock of the frame shown), twice a second.
    const own: number[] = [];
    const buffers: number[] = [];
    const rates: number[] = [];
    for (let i = 0; i < seconds * 2 && Date.now() - from < seconds * 1000; i++) {
      await sleep(Math.max(0, from + (i + 1) * 500 - Date.now()));
      const l = (await readWatch(e)).latency;
      if (l !== null) own.push(l * 1000);
      const b = await e.evaluate<{ buffer: number; rate: number } | null>(
        '(() => { const s = window.__nowcast && window.__nowcast.player.stats; return s ? { buffer: s.buffer, rate: s.playbackRate } : null; })()');
      if (b && Number.isFinite(b.buffer)) { buffers.push(b.buffer * 1000); rates.push(b.rate); }
    }
    const after = await readWatch(e, from);
    const ctl = await e.evaluate<{ target: number; safeMode: string; maxRate: number; rateVerdict?: string; jumps: number } | null>(
      `(() => { const s = window.__nowcast && window.__nowcast.player.stats; return s ? { target: s.targetLatency, safeMode: s.safeMode, maxRate: s.maxRate, rateVerdict: s.rateVerdict, jumps: s.jumps } : null; })()`);
    if (ctl) {
      notes.push(`player: ${ms(percentile(own.sort((a, b) => a - b), 50))} ms p50 by its own clock, target ${ms(ctl.target * 1000)} ms, safe mode ${ctl.safeMode}`
        + `${ctl.rateVerdict ? ` (rate ${ctl.rateVerdict})` : ''}, rate up to ${ctl.maxRate.toFixed(2)}× (median ${percentile(rates.sort((a, b) => a - b), 50).toFixed(2)}×),`
        + ` buffer p50 ${ms(percentile(buffers.sort((a, b) => a - b), 50))} ms, ${ctl.jumps} jumps`);
    }
    const lat = after.glass.sort((a, b) => a - b);
    const faults = after.errors.filter((x) => x.code !== 'AUTOPLAY_BLOCKED');
    if (faults.length) notes.push(`player errors: ${faults.map((x) => `${x.code}${x.fatal ? ' (fatal)' : ''}`).join(', ')}`);
    return {
      label: spec.label, available: lat.length > 0, note: lat.length ? notes.join('; ') : 'not available: no readable frame in the window',
      p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat.at(-1) ?? NaN,
      frames: lat.length,
      stalls: after.stalls.n - before.stalls.n, stallMs: Math.round(after.stalls.ms - before.stalls.ms),
      firstFrame, cold, stages, missedJoins: missed,
    };
  } finally {
    await e.close();
  }
}

const med = (xs: number[]): number => (xs.length ? percentile([...xs].sort((a, b) => a - b), 50) : NaN);

/** The player's stages, median of the joins: player created, socket open, first media, burst appended, first frame. */
function stageSummary(st: StartupTimes[]): string {
  const m = (k: keyof StartupTimes): string => ms(med(st.map((x) => x[k]).filter(Number.isFinite)));
  return `player ${m('player')}, socket open ${m('open')}, first media ${m('media')}, burst appended ${m('appended')}, first frame ${m('frame')}`;
}

/** The distribution and the cores this process may use: machine() names the CPU, not these. */
function system(): string {
  let os = 'Linux';
  try { os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os; } catch { /* not Linux */ }
  return `${availableParallelism()} cores, ${os}`;
}

function version(cmd: string, args: string[]): string {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return '?'; }
}

const n = await startNowcast(srtSource ? { srtStreams: ['glass'], srt: { latencyMs: 120 } } : { srt: { listeners: [] } });
const pathSpec = values.path ? parsePhonePath(values.path, { host: '127.0.0.1', port: Number(new URL(n.http).port) }) : undefined;
const phone = pathSpec ? new PhonePath(pathSpec) : undefined;
const base = phone ? `http://127.0.0.1:${await phone.listen()}` : n.http;
const budget = (seconds + 40) * rowNames.length + 120;
const pub = new Publisher({ url: srtSource ? `srt://127.0.0.1:${n.srtPorts[0]}?mode=caller` : n.rtmp('glass'), width: 640, height: 360, clockStrip: true, durationS: budget,
  ...(srtSource ? { format: 'mpegts' as const, tsArgs: [], audioKbps: 128 } : {}) });
const rows: Row[] = [];
try {
  // The stream is live before viewers arrive, as for real users (and over SRT, long enough for
  // the relay to have measured its bursts for hello.jitterMs).
  await sleep(srtSource ? 8_000 : 2_500);
  for (const name of rowNames) {
    const row = await Promise.race([
      // A driver that fails for good costs its row, not the run.
      measure(name).catch((err: unknown) => empty(ROWS[name]!.label, `not available: the browser's driver failed (${String(err).slice(0, 160)})`)),
      sleep(ROW_MS).then(() => empty(ROWS[name]!.label, `not available: the row took over ${ROW_MS / 1000} s`)),
    ]);
    await current?.close(); // closed already unless the row ran out of time
    console.log(JSON.stringify(row));
    rows.push(row);
  }
} finally {
  await pub.stop();
  phone?.close();
  n.app.close();
}


const ttff = (r: Row): string => (r.firstFrame.length ? `${ms(med(r.firstFrame))} ms (${ms(Math.min(...r.firstFrame))}–${ms(Math.max(...r.firstFrame))}); cold ${ms(r.cold)} ms` : '–');
const table = [
  '| engine (page) | glass-to-glass p50 | p95 | p99 | max | frames read | stalls (count / ms) | time to first frame (median of warm joins, min–max; the browser\'s first join) | notes |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => (r.available
    ? `| ${r.label} | ${ms(r.p50)} ms | ${ms(r.p95)} ms | ${ms(r.p99)} ms | ${ms(r.max)} ms | ${r.frames} | ${r.stalls} / ${r.stallMs} | ${ttff(r)} | ${r.note} |`
    : `| ${r.label} | – | – | – | – | – | – | – | ${r.note} |`)),
].join('\n');
console.log(table);

if (!values['no-write']) {
  const versions = [
    `Chromium ${version('dpkg-query', ['-W', '-f', '${Version}', 'chromium'])}`,
    version('/usr/bin/firefox-esr', ['--version']).replace('Mozilla ', ''),
    `WebKitGTK ${version('dpkg-query', ['-W', '-f', '${Version}', 'libwebkit2gtk-4.1-0'])} (MiniBrowser under Xvfb)`,
  ].join(', ');
  const title = srtSource ? 'Every engine on an SRT caller with FFmpeg\'s defaults (npm run bench:browsers -- --source srt-defaults)'
    : pathSpec ? 'Every engine over a phone-like path (npm run bench:browsers -- --path)' : 'Every engine on one stream (npm run bench:browsers)';
  writeSection(title, `
Date: ${new Date().toISOString()}. Machine: ${machine()}; ${system()}.
Command: \`npm run bench:browsers -- --seconds ${seconds} --joins ${joins} --rows ${rowNames.join(',')}${values.path ? ` --path ${values.path}` : ''}${srtSource ? ' --source srt-defaults' : ''}\`${pathSpec ? `
Path: every browser reaches the relay (pages, scripts and the WebSocket) through bench/lib/phone-path.ts: ${pathSpec.rttMs} ms round trip (and one more before a new connection's first bytes), one ${pathSpec.mbps} Mbit/s downlink shared by all connections. Glass-to-glass includes the path.` : ''}
Engines: ${versions} (Debian packages, driven as test/helpers/engines.ts does).

Source: FFmpeg testsrc2 640×360 30 fps with its capture clock in the pixels, x264 ultrafast zerolatency, keyframe every 1 s, AAC, ${srtSource ? 'an SRT caller on loopback with FFmpeg\'s MPEG-TS defaults and AAC at 128 kb/s (so frames come in bursts, one per ~0.18 s audio PES; srt.latencyMs 120)' : 'RTMP on loopback'}; default watch page.
The rows take turns on the same live stream, one browser at a time. Glass-to-glass is read from the pixels of every presented frame (requestVideoFrameCallback, as bench:glass).
Time to first frame: from navigation start (the page's performance.timeOrigin) to the first presented frame; per row, a first join that warms the freshly started browser (shown as "cold"), then the median of ${joins} joins. Chromium and Firefox install the reader before the page's scripts;
WebKit's classic WebDriver cannot, so there it is installed after the load event, and a join whose first frame was already shown is left out (the notes say how many).
The stages in the notes are the player's own \`stats.startup\` (ms after navigation, as the page heard them), the median over the warm joins.
Window: ${seconds} s per row after 3 s of settling. A stall is a \`waiting\` event after playback started, until \`playing\`.
WebKitGTK is WebKit with a GStreamer media backend, not Safari (AVFoundation): its figures say nothing certain about Safari.

${table}
`);
}
process.exit(0);
