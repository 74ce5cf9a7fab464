// Where the server-side latency goes, before any browser: the publisher burns its capture wall
// clock into each frame (bench/lib/pixel-clock.ts), and we read it back by decoding what arrived.
//   1. the publisher alone: its FLV output on a pipe (encode and its interleaver);
//   2. per remux.muxer: what a WebSocket viewer of the relay receives. A frame can play only once
//      the audio covering it is in too (MSE plays up to the earlier of the two ends), so both
//      the frame's arrival and "frame and its audio" are reported.
//   3. the same over SRT (--srt, default on): an FFmpeg caller with the README's MPEG-TS settings
//      and one with FFmpeg's defaults, alone on a pipe (PES arrival read by ingest/ts) and through
//      the SRT gateway and each remux, with the server side's CPU (gateway and remux FFmpeg included).
//   4. the in-process remux's throughput on one core (--throughput, default on; throughput.ts).
// Usage: npm run bench:ingest [-- --seconds 20 --muxers nowcast,ffmpeg --no-srt --no-throughput --no-write]
import { MUXERS, type Muxer } from '../../ingest/config.js';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startNowcast } from '../../test/helpers/nowcast.js';
import { remuxesOf, srtGateway } from '../../test/helpers/processes.js';
import { Publisher } from '../../test/helpers/publisher.js';
import { Viewer } from '../../test/helpers/viewer.js';
import { CLOCK_BITS, CLOCK_CELL, testSourceArgs } from '../../ingest/ffmpeg-args.js';
import { childBoxes, parseMoov, parseTfdt, parseTfhd, parseTrun, type BoxRef, type MoovTrack } from '../../ingest/fmp4/boxes.js';
import { percentile } from '../lib/pixel-clock.js';
import { TsDemuxer } from '../../ingest/ts/demux.js';
import { STREAM_AAC_ADTS, STREAM_H264 } from '../../ingest/ts/elementary.js';
import { machine, writeSection } from '../lib/results.js';
import { TIMED_RUNS, remuxThroughput } from './throughput.js';
import { defaults } from '../../app/config.js';

const { values } = parseArgs({ options: {
  seconds: { type: 'string', default: '20' },
  muxers: { type: 'string', default: 'nowcast,ffmpeg' },
  srt: { type: 'boolean', default: true },
  throughput: { type: 'boolean', default: true },
  'no-write': { type: 'boolean', default: false },
} });
const seconds = Number(values.seconds);
const muxers = values.muxers!.split(',').map((m) => {
  if (!(MUXERS as readonly string[]).includes(m)) throw new Error(`--muxers: ${m} is not one of ${MUXERS.join(', ')}`);
  return m as Muxer;
});
const SOURCE = { width: 640, height: 360, fps: 30, clockStrip: true } as const;
/** SRT callers' MPEG-TS muxer settings: the README's example, and FFmpeg's defaults. */
const TS_SETTINGS = [
  { what: 'the README\'s -pes_payload_size 0 -muxdelay 0', args: ['-pes_payload_size', '0', '-muxdelay', '0'] },
  { what: 'FFmpeg\'s MPEG-TS defaults', args: [] as string[] },
];
/** Frames before this are not counted (the join's GOP and the encoder's start). */
const SKIP = 60;
const W = CLOCK_BITS * CLOCK_CELL;
const MOD = 2 ** CLOCK_BITS;

/** Capture wall clock (ms mod 2^20) of every frame in a media file, in decode order. */
function clocks(bytes: Buffer): number[] {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-vf', `crop=${W}:${CLOCK_CELL}:0:0,format=gray`, '-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1'],
    { input: bytes, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ffmpeg could not decode: ${r.stderr.toString()}`);
  const out: number[] = [];
  for (let f = 0; (f + 1) * W * CLOCK_CELL <= r.stdout.length; f++) {
    let v = 0;
    for (let b = 0; b < CLOCK_BITS; b++) v = v * 2 + (r.stdout[f * W * CLOCK_CELL + (CLOCK_CELL >> 1) * W + b * CLOCK_CELL + (CLOCK_CELL >> 1)]! >= 128 ? 1 : 0);
    out.push(v);
  }
  return out;
}

const since = (at: number, clock: number): number => (((Math.round(at) % MOD) - clock) % MOD + MOD) % MOD;
const fmt = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `${Math.round(percentile(s, 50))} / ${Math.round(percentile(s, 95))} / ${Math.round(percentile(s, 99))}`;
};

interface Row { what: string; frame: string; withAudio: string; units: string; cpu: string }

/** Machine CPU busy over a window, % of all cores (the encoder is the same in every row). */
function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}
const cpuSince = (a: { busy: number; total: number }): string => {
  const b = cpuTimes();
  return `${Math.round((100 * (b.busy - a.busy)) / (b.total - a.total))} %`;
};

/** 1: the publisher's FLV on a pipe; its tags' arrival against the clock in their frames. */
async function publisherAlone(): Promise<Row> {
  const args = testSourceArgs({ ...SOURCE, url: 'pipe:1', durationS: seconds + 2 });
  const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const parts: Buffer[] = [];
  let buf = Buffer.alloc(0);
  let off = 13;
  const video: Arrival[] = [];
  const audio: AudioArrival[] = [];
  const cpu = cpuTimes();
  ff.stdout.on('data', (d: Buffer) => {
    const at = Date.now();
    parts.push(d);
    buf = Buffer.concat([buf, d]);
    while (buf.length >= off + 11) {
      const size = buf.readUIntBE(off + 1, 3);
      if (buf.length < off + 15 + size) break;
      const ts = buf.readUIntBE(off + 4, 3) | (buf[off + 7]! << 24);
      if (buf[off + 12] === 1) { // not sequence headers
        if (buf[off] === 9) video.push({ at, ts });
        else audio.push({ at, ts, end: ts + 1024 / 48 });
      }
      off += 15 + size;
    }
  });
  await new Promise((r) => ff.once('exit', r));
  const cpuPct = cpuSince(cpu);
  const { frame, withAudio } = aloneLatencies(clocks(Buffer.concat(parts)), video, audio);
  return { what: 'publisher alone (FFmpeg x264 + AAC → FLV on a pipe)', frame, withAudio, units: `${video.length} frames, ${audio.length} AAC packets`, cpu: cpuPct };
}

interface Arrival { at: number; ts: number }
interface AudioArrival extends Arrival { end: number }

/** A publisher's output read on a pipe: each frame's arrival, and its audio's, against the capture clock `c` in its pixels. */
function aloneLatencies(c: number[], video: Arrival[], audio: AudioArrival[]): { frame: string; withAudio: string } {
  const frame = video.slice(SKIP, c.length).map((v, i) => since(v.at, c[i + SKIP]!));
  // Capture time of media time t: from the frames, whose capture and media times are both known.
  const offsets = video.slice(SKIP, c.length).map((v, i) => v.at - frame[i]! - v.ts).sort((a, b) => a - b);
  const base = percentile(offsets, 50);
  // A frame [ts, ts + 33) has its audio once audio ending at or after ts + 33 is out.
  const withAudio = video.slice(SKIP, c.length).map((v) => {
    const a = audio.find((x) => x.end >= v.ts + 1000 / SOURCE.fps);
    return a ? Math.max(v.at, a.at) - (base + v.ts) : NaN;
  }).filter(Number.isFinite);
  return { frame: fmt(frame), withAudio: fmt(withAudio) };
}

/** 1 over MPEG-TS: the caller's TS on a pipe; each PES's arrival (ingest/ts) against the clock in its frame. */
async function tsPublisherAlone(ts: (typeof TS_SETTINGS)[number]): Promise<Row> {
  const args = testSourceArgs({ ...SOURCE, url: 'pipe:1', durationS: seconds + 2, format: 'mpegts', tsArgs: ts.args });
  const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const parts: Buffer[] = [];
  const video: Arrival[] = [];
  const audio: AudioArrival[] = [];
  const demux = new TsDemuxer({ streamTypes: new Set([STREAM_H264, STREAM_AAC_ADTS]), maxPesBytes: 4 << 20 });
  const cpu = cpuTimes();
  ff.stdout.on('data', (d: Buffer) => {
    const at = Date.now();
    parts.push(d);
    for (const p of demux.push(d)) {
      if (p.streamType === STREAM_H264) video.push({ at, ts: p.dts / 90 });
      else audio.push({ at, ts: p.pts / 90, end: p.pts / 90 + (adtsFrames(p.data) * 1024) / 48 });
    }
  });
  await new Promise((r) => ff.once('exit', r));
  const cpuPct = cpuSince(cpu);
  const { frame, withAudio } = aloneLatencies(clocks(Buffer.concat(parts)), video, audio);
  const perPes = audio.length ? ((audio.at(-1)!.end - audio[0]!.ts) / audio.length).toFixed(0) : '–';
  return { what: `SRT caller alone (FFmpeg x264 + AAC → MPEG-TS on a pipe, ${ts.what})`, frame, withAudio,
    units: `${video.length} frames, ${audio.length} audio PES (${perPes} ms of audio each)`, cpu: cpuPct };
}

/** ADTS frames in a PES (48 kHz here: 1024 samples each). */
function adtsFrames(d: Buffer): number {
  let n = 0;
  for (let i = 0; i + 7 <= d.length; n++) {
    const len = ((d[i + 3]! & 0x03) << 11) | (d[i + 4]! << 3) | (d[i + 5]! >> 5);
    if (d[i] !== 0xff || len < 7) break;
    i += len;
  }
  return n;
}

interface Unit { at: number; video: number[]; audioEnd: number }

/** The units a viewer received: per chunk, its video samples' decode times and where its audio ends (s). */
function unitsOf(v: Viewer): { units: Unit[]; bytes: Buffer } {
  let tracks = new Map<number, MoovTrack>();
  const units: Unit[] = [];
  for (const r of v.received) {
    if (r.kind !== 'binary') continue;
    const b = r.bytes;
    const root: BoxRef = { type: 'root', start: 0, headerSize: 0, end: b.length };
    for (const top of childBoxes(b, root)) {
      if (top.type === 'moov') tracks = parseMoov(b, top);
      if (top.type !== 'moof') continue;
      const u: Unit = { at: r.at, video: [], audioEnd: NaN };
      for (const traf of childBoxes(b, top).filter((x) => x.type === 'traf')) {
        const kids = childBoxes(b, traf);
        const tfhd = parseTfhd(b, kids.find((k) => k.type === 'tfhd')!);
        const t = tracks.get(tfhd.trackId)!;
        const dts = parseTfdt(b, kids.find((k) => k.type === 'tfdt')!);
        const trun = parseTrun(b, kids.find((k) => k.type === 'trun')!, tfhd.defaultDuration ?? t.defaultDuration);
        if (t.handler === 'vide') for (let i = 0; i < trun.sampleCount; i++) u.video.push(dts / t.timescale + (i * trun.duration) / trun.sampleCount / t.timescale);
        else u.audioEnd = (dts + trun.duration) / t.timescale;
      }
      units.push(u);
    }
  }
  return { units, bytes: v.concat(0) };
}

/** CPU seconds a process has used (utime + stime), from /proc; 0 when it is gone. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** 2 and 3: an RTMP publish or an SRT caller (with these MPEG-TS settings) → relay → a WebSocket viewer, with the given remux.muxer. */
async function throughRelay(muxer: Muxer, ts?: (typeof TS_SETTINGS)[number]): Promise<Row> {
  const n = await startNowcast(ts ? { srtStreams: ['stages'], srt: { latencyMs: 120 }, remux: { muxer } } : { srt: { listeners: [] }, remux: { muxer } });
  const viewer = new Viewer(n.ws('stages'));
  await viewer.opened;
  const url = ts ? `srt://127.0.0.1:${n.srtPorts[0]}?mode=caller&latency=120000&pkt_size=1316` : n.rtmp('stages');
  const pub = new Publisher({ ...SOURCE, url, durationS: seconds + 5, ...(ts ? { format: 'mpegts' as const, tsArgs: ts.args } : {}) });
  const cpu = cpuTimes();
  const own = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  // The server side: this process (relay, RTMP server, in-process remux, and the one viewer)
  // plus the remux FFmpeg when there is one and the SRT gateway (their whole lives, about the window).
  const gateway = ts ? srtGateway(n.srtPorts[0]!)?.pid : undefined;
  const helpers = [...remuxesOf('stages'), ...(gateway ? [gateway] : [])];
  const used = process.cpuUsage(own);
  const ownS = (used.user + used.system) / 1e6;
  const serverS = ownS + helpers.reduce((t, p) => t + cpuOf(p), 0);
  const cpuPct = `${cpuSince(cpu)} (server side ${Math.round((100 * serverS) / seconds)} % of a core)`;
  viewer.close();
  await pub.stop();
  n.app.close();
  const { units, bytes } = unitsOf(viewer);
  const c = clocks(bytes);
  const frames = units.flatMap((u) => u.video.map((dts) => ({ at: u.at, dts })));
  const frame: number[] = [];
  const withAudio: number[] = [];
  for (let i = SKIP; i < Math.min(frames.length, c.length); i++) {
    const f = frames[i]!;
    frame.push(since(f.at, c[i]!));
    const a = units.find((u) => u.audioEnd >= f.dts + 1 / SOURCE.fps - 0.0005);
    if (a) withAudio.push(since(Math.max(f.at, a.at), c[i]!));
  }
  const what = ts ? `SRT caller (${ts.what}, latency 120 ms) → gateway → relay → WebSocket viewer, remux.muxer ${muxer}` : `RTMP → relay → WebSocket viewer, remux.muxer ${muxer}`;
  return { what, frame: fmt(frame), withAudio: fmt(withAudio),
    units: `${frames.length} frames in ${units.length} chunks (${(units.length / Math.max(1, frames.length)).toFixed(2)} per frame)`, cpu: cpuPct };
}

// First, alone on the machine: it times one core.
const speed = values.throughput ? remuxThroughput() : [];
for (const r of speed) console.log(JSON.stringify(r));
const rows: Row[] = [await publisherAlone()];
console.log(JSON.stringify(rows[0]));
for (const m of muxers) {
  rows.push(await throughRelay(m));
  console.log(JSON.stringify(rows.at(-1)));
}
for (const ts of values.srt ? TS_SETTINGS : []) {
  rows.push(await tsPublisherAlone(ts));
  console.log(JSON.stringify(rows.at(-1)));
  for (const m of muxers) {
    rows.push(await throughRelay(m, ts));
    console.log(JSON.stringify(rows.at(-1)));
  }
}
const table = [
  '| stage | capture → frame in, p50 / p95 / p99 (ms) | capture → frame and the audio covering it in (ms) | units | machine CPU |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.what} | ${r.frame} | ${r.withAudio} | ${r.units} | ${r.cpu} |`),
].join('\n');
console.log(table);
const speedTable = speed.length ? [
  '',
  'The in-process remux\'s throughput on one core (the relay\'s thread runs it): 720p30 x264 at 8 Mbit/s with AAC 128 kb/s, 20 s made by FFmpeg,',
  `then fed from memory; median of ${TIMED_RUNS} runs after a warm-up. "At the cap" is what one publisher at limits.maxPublishBitrate (${defaults.limits.maxPublishBitrate / 1e6} Mbit/s) costs that thread.`,
  '',
  '| input → remux | media read per second of one core | chunks written per second | one core at the cap |',
  '|---|---|---|---|',
  ...speed.map((r) => `| ${r.what} | ${(r.mbitPerS / 1000).toFixed(2)} Gbit/s | ${Math.round(r.chunksPerS).toLocaleString('en')} | ${(r.capShare * 100).toFixed(1)} % |`),
].join('\n') : '';
console.log(speedTable);
if (!values['no-write']) {
  writeSection('Ingest stages (npm run bench:ingest)', `
Date: ${new Date().toISOString()}. Machine: ${machine()}.
Command: \`npm run bench:ingest -- --seconds ${seconds} --muxers ${muxers.join(',')}${values.srt ? '' : ' --no-srt'}${values.throughput ? '' : ' --no-throughput'}\`

Source: FFmpeg testsrc2 640×360 30 fps with the burned-in capture clock, x264 ultrafast zerolatency, AAC 48 kHz 96 kb/s, keyframe every 1 s.
The received stream is decoded with FFmpeg and each frame's clock read back; "frame in" is when its chunk (or FLV tag) arrived,
"and the audio covering it" when audio reaching the frame's end had arrived too, which is when MSE can play it. The first ${SKIP} frames are not counted.
For the publisher alone, the audio's capture times are estimated from the frames' median capture − FLV time offset, which varies by ±20 ms (the clock is drawn when the filter runs), so that row's second column is approximate.
Machine CPU is all of it (2 cores), the publisher's encoder included. Over SRT the caller uses libsrt's 120 ms latency (the
receiver holds every packet that long), and the "alone" rows read the caller's MPEG-TS on a pipe, each PES timed as ingest/ts completes it.

${table}
${speedTable}
`);
}
process.exit(0);
