// The ABR ladder's cost (issue 23): CPU per rendition (each transcoder's FFmpeg, from
// /proc/PID/stat) and each rendition's glass-to-glass in headless Chromium, read from the
// pixels (bench/lib/pixel-clock.ts, its cells scaled with the rendition), with the source's
// glass-to-glass measured without ABR first, so "the source must not get slower" is a figure.
// Each rendition is watched pinned (?rendition=NAME). Run under the heavy lock:
//   npm run bench:abr [-- --seconds 20 --no-write]
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { startNowcast, type Running } from '../../test/helpers/nowcast.js';
import { Publisher } from '../../test/helpers/publisher.js';
import { launchChromium } from '../../test/helpers/browser.js';
import { pixelClockScript, pixelClockArgs, percentile, type GlassState } from '../lib/pixel-clock.js';
import { writeSection, machine } from '../lib/results.js';

const { values } = parseArgs({ options: {
  seconds: { type: 'string', default: '20' },
  'no-write': { type: 'boolean', default: false },
} });
const SECONDS = Number(values.seconds);
const SOURCE = { width: 1280, height: 720, kbps: 2500 };
// Heights that divide the source's, so the clock strip's 16 px cells stay whole (8 and 4 px).
const LADDER = [{ name: '360p', height: 360, videoBitrate: 800_000 }, { name: '180p', height: 180, videoBitrate: 250_000 }];
const TICKS = 100; // USER_HZ

interface Row { label: string; cpu: string; p50: number; p95: number; frames: number; unreadable: number; stalls: number }

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

async function glass(n: Running, query: string, cell: number): Promise<Omit<Row, 'label' | 'cpu'>> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.addInitScript({ content: pixelClockScript({ ...pixelClockArgs, cell }) });
    await page.goto(`${n.http}/watch/bench${query}`);
    await page.waitForFunction(() => ((window as unknown as { __glass?: GlassState }).__glass?.samples.length ?? 0) > 30, null, { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 3000)); // settle: the player's target, a switch done
    const from = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const g = await page.evaluate(() => (window as unknown as { __glass: GlassState }).__glass);
    const stalls = await page.evaluate(() => (window as unknown as { __nowcast: { player: { stats: { stalls: number } } } }).__nowcast.player.stats.stalls);
    const lat = g.samples.filter((s) => s.shownAt >= from).map((s) => s.latencyMs).sort((a, b) => a - b);
    return { p50: percentile(lat, 50), p95: percentile(lat, 95), frames: lat.length, unreadable: g.unreadable, stalls };
  } finally {
    await browser.close();
  }
}

async function run(abr: boolean): Promise<Row[]> {
  const n = await startNowcast({ srt: { listeners: [] }, abr: { enabled: abr, ladder: LADDER } });
  const pub = new Publisher({ url: n.rtmp('bench'), width: SOURCE.width, height: SOURCE.height, durationS: 600, videoKbps: SOURCE.kbps, cbr: true, clockStrip: true });
  try {
    const rows: Row[] = [];
    if (!abr) {
      rows.push({ label: 'source, ABR off', cpu: '—', ...(await glass(n, '', 16)) });
      return rows;
    }
    const deadline = Date.now() + 30_000;
    while (LADDER.some((r) => !n.app.abr!.pid('bench', r.name)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // CPU over a window of its own, with no page open (the page's decoder would share the cores).
    await new Promise((r) => setTimeout(r, 3000));
    const pids = LADDER.map((r) => n.app.abr!.pid('bench', r.name)!);
    const before = pids.map(cpuSeconds);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const cpu = pids.map((p, i) => (100 * (cpuSeconds(p) - before[i]!)) / ((Date.now() - t0) / 1000));
    rows.push({ label: 'source, ABR on', cpu: '—', ...(await glass(n, '?rendition=source', 16)) });
    for (const [i, r] of LADDER.entries()) {
      const cell = (16 * r.height) / SOURCE.height;
      rows.push({ label: `${r.name} (${r.videoBitrate / 1000} kbit/s)`, cpu: `${cpu[i]!.toFixed(0)} %`, ...(await glass(n, `?rendition=${r.name}`, cell)) });
    }
    return rows;
  } finally {
    await pub.stop();
    await n.app.close();
  }
}

const rows = [...(await run(false)), ...(await run(true))];
const table = [
  '| Rendition | CPU (% of one core) | glass-to-glass p50 | p95 | frames read | unreadable | stalls |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.label} | ${r.cpu} | ${r.p50.toFixed(0)} ms | ${r.p95.toFixed(0)} ms | ${r.frames} | ${r.unreadable} | ${r.stalls} |`),
].join('\n');
console.log(table);
if (!values['no-write']) {
  writeSection('ABR ladder: CPU and glass-to-glass per rendition (`npm run bench:abr`)', `${new Date().toISOString().slice(0, 10)}, ${machine()}. Command: \`npm run bench:abr\` (${SECONDS} s a row).

Source ${SOURCE.width}×${SOURCE.height}, ${SOURCE.kbps} kbit/s CBR x264 (the test source, clock strip burned in), RTMP; ladder ${LADDER.map((r) => `${r.name} ${r.videoBitrate / 1000} kbit/s`).join(', ')}, each one FFmpeg (x264 veryfast zerolatency, audio copied). CPU: each transcoder's utime+stime over ${SECONDS} s with no page open. Glass-to-glass: headless Chromium pinned to the rendition (?rendition=), from the pixels; the first row is the same source with ABR off.

${table}`);
}
