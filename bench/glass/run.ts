// Glass-to-glass latency and time to first frame in headless Chromium, read from the pixels:
// the publisher burns its capture wall clock into each frame, the page reads it back from
// every presented frame (requestVideoFrameCallback). Runs the in-process remux (remux.muxer
// nowcast), then the FFmpeg remux once per fragment duration, so the choice of remux.muxer and
// remux.fragmentUs rests on a measurement. Usage: npm run bench:glass [-- --seconds 30]
// With --transport hls the page plays the relay's LL-HLS playlist through hls.js instead
// (/watch/NAME?transport=hls), in-process remux only unless --fragments is given, and the
// figures go to a section of their own.
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { startNowcast } from '../../test/helpers/nowcast.js';
import { Publisher } from '../../test/helpers/publisher.js';
import { launchChromium } from '../../test/helpers/browser.js';
import { pixelClockScript, pixelClockArgs, percentile, type GlassState } from '../lib/pixel-clock.js';
import { writeSection, machine } from '../lib/results.js';
import { createRequire } from 'node:module';

const HLS_VERSION = (createRequire(import.meta.url)('hls.js/package.json') as { version: string }).version;

const { values } = parseArgs({ options: {
  seconds: { type: 'string', default: '30' },
  /** FFmpeg-remux rows (remux.muxer ffmpeg), by fragment duration in µs. */
  fragments: { type: 'string', default: '30000,66667,100000,200000' },
  /** Also the in-process remux row (remux.muxer nowcast, the default). */
  nowcast: { type: 'boolean', default: true },
  joins: { type: 'string', default: '5' },
  /** ws (the WebSocket, default) or hls (LL-HLS through hls.js). */
  transport: { type: 'string', default: 'ws' },
  'no-write': { type: 'boolean', default: false },
  /** rtmp (default) or srt: SRT rows (the README's example, FFmpeg's defaults, the low-latency
   *  settings) next to an RTMP row, in one run. */
  ingest: { type: 'string', default: 'rtmp' },
} });
const seconds = Number(values.seconds);
const transport = values.transport === 'hls' ? 'hls' : 'ws';
if (values.transport !== transport) throw new Error(`--transport must be ws or hls, got ${values.transport}`);
const hls = transport === 'hls';
const given = process.argv.includes('--fragments');
const fragments = hls && !given ? [] : values.fragments!.split(',').filter(Boolean).map(Number);
const watch = (n: { http: string }): string => `${n.http}/watch/glass${hls ? '?transport=hls' : ''}`;
const joins = Number(values.joins);

const srtMode = values.ingest === 'srt';
if (!srtMode && values.ingest !== 'rtmp') throw new Error(`--ingest must be rtmp or srt, got ${values.ingest}`);
/** How an SRT row's publisher calls (its URL query and MPEG-TS muxer options), and who remuxes its MPEG-TS. */
interface SrtCaller {
  label: string; query: string; tsArgs: string[]; muxer: 'nowcast' | 'ffmpeg'; audioKbps?: number;
  /** The listener's srt.latencyMs (120 unless given): what a caller that asks for no latency of its own gets. */
  latencyMs?: number;
}
const README_TS = ['-pes_payload_size', '0', '-muxdelay', '0'];
const SRT_CALLERS: SrtCaller[] = [
  { label: 'SRT, FFmpeg\'s MPEG-TS defaults (no latency given: libsrt\'s 120 ms), AAC at the test source\'s 96 kb/s, in-process remux', query: 'mode=caller', tsArgs: [], muxer: 'nowcast' },
  { label: 'SRT, the same, one FFmpeg remux per caller (remux.muxer ffmpeg; before)', query: 'mode=caller', tsArgs: [], muxer: 'ffmpeg' },
  { label: 'SRT, FFmpeg\'s defaults throughout (AAC at FFmpeg\'s default 128 kb/s stereo), in-process remux', query: 'mode=caller', tsArgs: [], muxer: 'nowcast', audioKbps: 128 },
  // A caller that sets no latency proposes none (libsrt's SRTO_PEERLATENCY is 0): the listener's applies.
  { label: 'SRT, FFmpeg\'s defaults throughout, into a listener with srt.latencyMs 20 (a clean path), in-process remux', query: 'mode=caller', tsArgs: [], muxer: 'nowcast', audioKbps: 128, latencyMs: 20 },
  { label: 'SRT, the README\'s example (-pes_payload_size 0 -muxdelay 0, latency=120000), in-process remux', query: 'mode=caller&latency=120000&pkt_size=1316', tsArgs: README_TS, muxer: 'nowcast' },
  { label: 'SRT, the README\'s example, one FFmpeg remux per caller (remux.muxer ffmpeg; before)', query: 'mode=caller&latency=120000&pkt_size=1316', tsArgs: README_TS, muxer: 'ffmpeg' },
  // OBS's SRT output muxes with FFmpeg's MPEG-TS defaults (obs-ffmpeg-mpegts.c sets no muxer
  // option): its PES hold is 2,930 bytes of AAC, shorter at a higher audio bitrate.
  { label: 'SRT, FFmpeg\'s defaults with AAC at 160 kb/s (OBS\'s SRT output at its default audio bitrate), in-process remux', query: 'mode=caller', tsArgs: [], muxer: 'nowcast', audioKbps: 160 },
  { label: 'SRT, FFmpeg\'s defaults with AAC at 320 kb/s (OBS\'s highest), in-process remux', query: 'mode=caller', tsArgs: [], muxer: 'nowcast', audioKbps: 320 },
];

interface Row { label: string; p50: number; p95: number; p99: number; max: number; frames: number; stalls: number; stallMs: number; firstFrame: number[]; }

async function openWatch(page: Page, url: string): Promise<number> {
  await page.addInitScript({ content: pixelClockScript(pixelClockArgs) });
  await page.addInitScript(() => {
    const w = window as unknown as { __stalls: { n: number; ms: number; since: number } };
    w.__stalls = { n: 0, ms: 0, since: 0 };
    document.addEventListener('DOMContentLoaded', () => {
      const v = document.querySelector('video')!;
      v.addEventListener('waiting', () => { if (v.currentTime > 0 && !w.__stalls.since) { w.__stalls.n++; w.__stalls.since = performance.now(); } });
      v.addEventListener('playing', () => { if (w.__stalls.since) { w.__stalls.ms += performance.now() - w.__stalls.since; w.__stalls.since = 0; } });
    });
  });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __glass: GlassState }).__glass?.firstFrameAt > 0, null, { timeout: 20_000 });
  const first = await page.evaluate(() => (window as unknown as { __glass: GlassState }).__glass.firstFrameAt);
  return first - t0;
}

/** One row: fragmentUs 0 is the in-process remux (one chunk per frame and its audio). */
async function measure(fragmentUs: number, srt?: SrtCaller): Promise<Row> {
  const remux = fragmentUs ? { muxer: 'ffmpeg' as const, fragmentUs } : { muxer: srt?.muxer ?? 'nowcast' };
  const n = await startNowcast({ remux, ...(srt ? { srtStreams: ['glass'], srt: { latencyMs: srt.latencyMs ?? 120 } } : { srt: { listeners: [] } }) });
  const url = srt ? `srt://127.0.0.1:${n.srtPorts[0]}?${srt.query}` : n.rtmp('glass');
  const pub = new Publisher({ url, width: 640, height: 360, clockStrip: true, durationS: seconds + 60, ...(srt ? { format: 'mpegts' as const, tsArgs: srt.tsArgs, audioKbps: srt.audioKbps } : {}) });
  const browser = await launchChromium();
  try {
    await new Promise((r) => setTimeout(r, 2_500)); // the stream is live before viewers arrive, as for real users
    const firstFrame: number[] = [];
    for (let i = 0; i < joins; i++) {
      const p = await browser.newPage();
      firstFrame.push(await openWatch(p, watch(n)));
      await p.close();
    }
    const page = await browser.newPage();
    await openWatch(page, watch(n));
    await page.waitForTimeout(3_000); // settle: the controller converges from the join point (LL-HLS: the jump to hls.js's target)
    const stallsNow = (): Promise<{ n: number; ms: number }> => page.evaluate(() => ({ ...(window as unknown as { __stalls: { n: number; ms: number } }).__stalls }));
    const before = await stallsNow();
    const from = Date.now();
    await page.waitForTimeout(seconds * 1000);
    const after = await stallsNow();
    const r = await page.evaluate((since) => {
      const w = window as unknown as { __glass: GlassState };
      return { lat: w.__glass.samples.filter((s) => s.shownAt >= since).map((s) => s.latencyMs), stalls: { n: 0, ms: 0 } };
    }, from);
    r.stalls = { n: after.n - before.n, ms: after.ms - before.ms };
    const lat = r.lat.sort((a, b) => a - b);
    const label = srt ? srt.label : (fragmentUs ? `FFmpeg remux, ${(fragmentUs / 1000).toFixed(1)} ms fragments` : 'in process (**default**), a chunk per frame and its audio') + (hls ? ', LL-HLS through hls.js' : '');
    return { label, p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat.at(-1) ?? NaN,
      frames: lat.length, stalls: r.stalls.n, stallMs: Math.round(r.stalls.ms), firstFrame };
  } finally {
    await browser.close();
    await pub.stop();
    n.app.close();
  }
}

const rows: Row[] = [];
if (srtMode) {
  // RTMP first, as the reference, then each SRT caller; one run, one machine state.
  for (const c of [undefined, ...SRT_CALLERS]) {
    const row = await measure(0, c);
    if (!c) row.label = 'RTMP, in-process remux (reference)';
    console.log(JSON.stringify(row));
    rows.push(row);
  }
} else {
  for (const f of [...(values.nowcast ? [0] : []), ...fragments]) {
    const row = await measure(f);
    console.log(JSON.stringify(row));
    rows.push(row);
  }
}
const ms = (x: number): string => (Number.isFinite(x) ? String(Math.round(x)) : '–');
const med = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
const table = [
  '| remux (remux.muxer, remux.fragmentUs) | glass-to-glass p50 | p95 | p99 | max | frames read | stalls (count / ms) | time to first frame (median of joins, min–max) |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.label} | ${ms(r.p50)} ms | ${ms(r.p95)} ms | ${ms(r.p99)} ms | ${ms(r.max)} ms | ${r.frames} | ${r.stalls} / ${r.stallMs} | ${ms(med(r.firstFrame))} ms (${ms(Math.min(...r.firstFrame))}–${ms(Math.max(...r.firstFrame))}) |`),
].join('\n');
console.log(table);
if (!values['no-write'] && srtMode) {
  writeSection('Glass-to-glass over SRT next to RTMP (npm run bench:glass -- --ingest srt)', `
Date: ${new Date().toISOString()}. Machine: ${machine()}.
Command: \`flock /tmp/nowcast-heavy.lock npm run bench:glass -- --ingest srt --seconds ${seconds} --joins ${joins}\`

Source and method as in the WebSocket section: testsrc2 640×360 30 fps with the clock strip, x264 ultrafast zerolatency,
keyframe every 1 s, AAC 96 kb/s 48 kHz (unless a row says otherwise); over SRT the publisher is an FFmpeg caller on loopback into the SRT gateway
(srt.latencyMs 120), each caller's MPEG-TS remuxed in process (ingest/ts, the default) or, in the rows that say so, by its
own FFmpeg (remux.muxer ffmpeg, as before the in-process remux). Latency and stalls window: ${seconds} s per row,
after 3 s of settling; ${joins} joins per row for the time to first frame.

${table.replace('remux (remux.muxer, remux.fragmentUs)', 'ingest')}
`);
} else if (!values['no-write'] && hls) {
  writeSection('Glass-to-glass through LL-HLS (npm run bench:glass -- --transport hls)', `
Date: ${new Date().toISOString()}. Machine: ${machine()}.
Command: \`flock /tmp/nowcast-heavy.lock npm run bench:glass -- --transport hls --seconds ${seconds}${fragments.length ? ` --fragments ${fragments.join(',')}` : ''} --joins ${joins}\`

Source, clock strip and method as in the WebSocket section above; the page is \`/watch/glass?transport=hls\`: hls.js ${HLS_VERSION} (lowLatencyMode)
plays the relay's \`/hls/glass/index.m3u8\` (parts of ~0.2 s, PART-HOLD-BACK 0.6 s, blocking reload over HTTP/1.1 on loopback),
so the figure covers encode → RTMP → remux → relay → part assembly → playlist and part requests → hls.js → MSE → decode → display.
Time to first frame includes loading the hls.js bundle (370 KB). Latency and stalls window: ${seconds} s per row, after 3 s of settling.

${table}
`);
} else if (!values['no-write']) {
  writeSection('Glass-to-glass and time to first frame (npm run bench:glass)', `
Date: ${new Date().toISOString()}. Machine: ${machine()}.
Command: \`npm run bench:glass -- --seconds ${seconds} --fragments ${fragments.join(',')} --joins ${joins}\`

Source: FFmpeg testsrc2 640×360 30 fps, x264 ultrafast zerolatency, keyframe every 1 s, AAC 96 kb/s, published over RTMP on loopback.
Each frame carries its capture wall clock as a 20-bit strip of pixels; the page reads it from every presented frame
(requestVideoFrameCallback, expectedDisplayTime), so the figure covers encode → RTMP → remux → relay → WebSocket → MSE → decode → display.
Time to first frame: from navigation start to the first presented frame, joining a stream that is already live; ${joins} joins per row.
Latency and stalls window: ${seconds} s per row, after 3 s of settling, one tab. A stall is a \`waiting\` event after playback started.

${table}
`);
}
process.exit(0);
