// TsRemuxer on real FFmpeg MPEG-TS (what an SRT caller sends): fed in random pieces, its fMP4
// must be what ffprobe reads back with the TS's frames and presentation times, to the ms.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fmp4Splitter } from '../../../ingest/fmp4/splitter.js';
import { PACKET, TsDemuxer } from '../../../ingest/ts/demux.js';
import { STREAM_H264 } from '../../../ingest/ts/elementary.js';
import { TsError, type TsErrorCode } from '../../../ingest/ts/errors.js';
import { TsRemuxer } from '../../../ingest/ts/remuxer.js';
import type { Fmp4Unit } from '../../../media/types.js';
import { prng, randomPieces } from '../../ingest/fmp4/fixtures.js';

const run = promisify(execFile);

// ---- MPEG-TS made by FFmpeg once for the file ----

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'];
const AUDIO = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30'];
const AAC = ['-c:a', 'aac', '-ac', '2', '-ar', '48000'];

const SOURCES = {
  /** FFmpeg's mpegts defaults (audio PES gathered up to 2,930 bytes, 1.4 s mux delay). */
  defaults: [...VIDEO, ...AUDIO, '-t', '3', ...X264, ...AAC],
  /** One audio frame per PES, timestamps from 0. */
  pesPayload0: [...VIDEO, ...AUDIO, '-t', '3', ...X264, ...AAC, '-pes_payload_size', '0', '-muxdelay', '0'],
  /** B-frames: PTS ≠ DTS. */
  bframes: [...VIDEO, ...AUDIO, '-t', '3', '-c:v', 'libx264', '-preset', 'superfast', '-bf', '2', '-g', '30', ...AAC],
  mono44: [...VIDEO, ...AUDIO, '-t', '2', ...X264, '-c:a', 'aac', '-ac', '1', '-ar', '44100'],
  audioOnly: [...AUDIO, '-t', '2', '-vn', ...AAC],
} as const;
type SourceName = keyof typeof SOURCES;

let dir = '';
const tss = {} as Record<SourceName, Buffer>;
let hevc: Buffer | null = null;
let opus: Buffer | null = null;

const ffmpeg = async (args: readonly string[], file: string): Promise<Buffer> => {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args, '-f', 'mpegts', file]);
  return readFile(file);
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nowcast-ts-remuxer-'));
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-encoders']);
  await Promise.all([
    ...(Object.keys(SOURCES) as SourceName[]).map(async (name) => {
      tss[name] = await ffmpeg(SOURCES[name], join(dir, `${name}.ts`));
    }),
    (async () => {
      // Opus in MPEG-TS is PES private data (stream_type 0x06) with an 'Opus' registration descriptor.
      if (/\bopus\b/.test(stdout)) opus = await ffmpeg([...VIDEO, ...AUDIO, '-t', '0.5', ...X264, '-c:a', 'opus', '-strict', '-2', '-ar', '48000'], join(dir, 'opus.ts'));
    })(),
    (async () => {
      if (!/\blibx265\b/.test(stdout)) return;
      hevc = await ffmpeg([...VIDEO, ...AUDIO, '-t', '0.5', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=none', ...AAC], join(dir, 'hevc.ts'));
    })(),
  ]);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ---- Running it, and reading back what it wrote ----

interface Remuxed {
  fmp4: Buffer;
  units: Fmp4Unit[];
  warnings: string[];
}

/** `eager`: write what is pending after every piece, as the tap does once a frame has waited chunkWaitMs for its audio. */
function remux(pieces: Buffer[], eager = false): Remuxed {
  const warnings: string[] = [];
  const r = new TsRemuxer({ maxPesBytes: 1 << 20, maxProbeBytes: 512 * 1024, warn: (m) => warnings.push(m) });
  const out: Buffer[] = [];
  const emit = (b: Buffer): void => {
    out.push(b);
  };
  for (const piece of pieces) {
    r.push(piece, emit);
    if (eager || r.ready()) r.flush(emit);
  }
  r.flush(emit, true); // the caller left
  expect(r.pending).toBe(false);
  const units: Fmp4Unit[] = [];
  const splitter = new Fmp4Splitter();
  for (const b of out) splitter.push(b, (u) => units.push(u));
  expect(splitter.bufferedBytes).toBe(0);
  return { fmp4: Buffer.concat(out), units, warnings };
}

interface Packet {
  /** ms */
  pts: number;
  dts: number;
  key: boolean;
}

/** The packets of a file's first video or audio stream, as ffprobe reads them, in decode order. */
async function packets(file: string, stream: 'v' | 'a'): Promise<Packet[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', `${stream}:0`, '-show_entries', 'stream=time_base:packet=pts,dts,flags', '-of', 'json', file], { maxBuffer: 16 << 20 });
  const j = JSON.parse(stdout) as { streams?: Array<{ time_base: string }>; packets?: Array<{ pts: number; dts: number; flags: string }> };
  const base = j.streams?.[0]?.time_base;
  if (!base) return [];
  const [num, den] = base.split('/').map(Number) as [number, number];
  return (j.packets ?? []).map((p) => ({ pts: (p.pts * num * 1000) / den, dts: (p.dts * num * 1000) / den, key: p.flags.startsWith('K') }));
}

async function streams(file: string): Promise<string[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate,channels', '-of', 'csv=p=0', file]);
  return stdout.trim().split('\n').filter(Boolean);
}

const increasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

function codeOf(fn: () => unknown): { code: TsErrorCode; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof TsError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a TsError');
}

// ---- The tests ----

describe('TsRemuxer on FFmpeg MPEG-TS with H.264 and AAC', () => {
  const random = (seed: number) => (ts: Buffer): Buffer[] => randomPieces(ts, seed, 4000);
  /** SRT's payloads: 7 TS packets each. */
  const srt = (ts: Buffer): Buffer[] => Array.from({ length: Math.ceil(ts.length / 1316) }, (_, i) => ts.subarray(i * 1316, (i + 1) * 1316));
  const cases: Array<[string, SourceName, (ts: Buffer) => Buffer[], string[]]> = [
    ['FFmpeg\'s mpegts defaults, in random pieces', 'defaults', random(1), ['h264', 'aac,48000,2']],
    ['FFmpeg\'s mpegts defaults, in 1316-byte SRT payloads', 'defaults', srt, ['h264', 'aac,48000,2']],
    ['-pes_payload_size 0 -muxdelay 0, in random pieces', 'pesPayload0', random(2), ['h264', 'aac,48000,2']],
    ['B-frames (-bf 2), in random pieces', 'bframes', random(3), ['h264', 'aac,48000,2']],
    ['mono AAC at 44.1 kHz, in random pieces', 'mono44', random(4), ['h264', 'aac,44100,1']],
    ['only audio, in random pieces', 'audioOnly', random(5), ['aac,48000,2']],
  ];

  it.each(cases)('remuxes %s, to fMP4 with the TS\'s frames and times', async (name, source, feed, codecs) => {
    const { fmp4, units, warnings } = remux(feed(tss[source]));
    expect(warnings).toEqual([]);
    expect(units.filter((u) => u.kind === 'init')).toHaveLength(1);
    // Chunks in decode order by their first sample, though FFmpeg's defaults send the audio late, in bursts.
    const dts = units.flatMap((u) => (u.kind === 'chunk' ? [u.dts] : []));
    expect(dts.every((x, i) => i === 0 || x >= dts[i - 1]!)).toBe(true);
    expect(units[0]!.kind).toBe('init');
    const tsFile = join(dir, `${source}.ts`);
    const out = join(dir, `${cases.findIndex((c) => c[0] === name)}.mp4`);
    await writeFile(out, fmp4);
    expect((await streams(out)).map((s) => s.replace(/,+$/, '').replace(/^h264.*/, 'h264'))).toEqual(codecs);

    const [tsVideo, mp4Video, tsAudio, mp4Audio] = await Promise.all([packets(tsFile, 'v'), packets(out, 'v'), packets(tsFile, 'a'), packets(out, 'a')]);
    expect(mp4Video.length).toBe(tsVideo.length);
    if (codecs[0] === 'h264') expect(tsVideo.length).toBeGreaterThanOrEqual(59);
    // Presentation times to the ms (the FLV tags between carry ms), keyframes where the TS has them.
    expect(mp4Video.map((p) => p.pts)).toEqual(tsVideo.map((p) => Math.round(p.pts)));
    expect(mp4Video.map((p) => p.key)).toEqual(tsVideo.map((p) => p.key));
    expect(increasing(mp4Video.map((p) => p.dts))).toBe(true);
    if (source === 'bframes') expect(mp4Video.filter((p) => p.pts !== p.dts).length).toBeGreaterThan(10);
    // Every AAC frame, abutting, within a ms of the TS's time.
    expect(mp4Audio.length).toBe(tsAudio.length);
    expect(mp4Audio.length).toBeGreaterThan(80);
    expect(increasing(mp4Audio.map((p) => p.dts))).toBe(true);
    mp4Audio.forEach((p, i) => expect(Math.abs(p.pts - tsAudio[i]!.pts)).toBeLessThanOrEqual(1));

    const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', out, '-f', 'null', '-']);
    expect(stderr).toBe('');
  });
});

describe('TsRemuxer chunk order', () => {
  it('keeps chunks in decode order when frames are written before their late audio (FFmpeg\'s defaults, the tap\'s timer)', () => {
    const pieces = Array.from({ length: Math.ceil(tss.defaults.length / 1316) }, (_, i) => tss.defaults.subarray(i * 1316, (i + 1) * 1316));
    const { units } = remux(pieces, true);
    const chunks = units.flatMap((u) => (u.kind === 'chunk' ? [u] : []));
    expect(chunks.length).toBeGreaterThan(60);
    // The last chunk is what was left when the caller left: late audio goes out alone then.
    const dts = chunks.slice(0, -1).map((c) => c.dts);
    expect(dts.filter((x, i) => i > 0 && x < dts[i - 1]!)).toEqual([]);
  });
});

describe('TsRemuxer refusals', () => {
  it('refuses HEVC with TS_CODEC at the PMT, before any media', (ctx) => {
    const ts = hevc;
    if (!ts) return ctx.skip('this FFmpeg has no libx265 encoder: no HEVC MPEG-TS to test with');
    const r = new TsRemuxer({ maxPesBytes: 1 << 20, maxProbeBytes: 512 * 1024 });
    let failedAt = -1;
    const err = codeOf(() => {
      for (let at = 0; at < ts.length; at += PACKET) {
        failedAt = at;
        r.push(ts.subarray(at, at + PACKET), () => {});
      }
    });
    expect(err.code).toBe('TS_CODEC');
    expect(err.message).toMatch(/HEVC/);
    const pkt = ts.subarray(failedAt, failedAt + PACKET);
    expect(((pkt[1]! & 0x1f) << 8) | pkt[2]!).toBe(0x1000); // FFmpeg's PMT PID
    expect(failedAt / PACKET).toBeLessThan(4);
  });

  it('refuses Opus (PES private data with an Opus registration descriptor) with TS_CODEC, so FFmpeg takes it', (ctx) => {
    const ts = opus;
    if (!ts) return ctx.skip('this FFmpeg has no Opus encoder');
    const r = new TsRemuxer({ maxPesBytes: 1 << 20, maxProbeBytes: 512 * 1024 });
    const err = codeOf(() => r.push(ts, () => {}));
    expect(err.code).toBe('TS_CODEC');
    expect(err.message).toMatch(/Opus/);
  });

  it('refuses 600 KiB of noise with TS_NO_PROGRAM once past maxProbeBytes (512 KiB)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = prng(seed);
      const noise = Buffer.from(Array.from({ length: 600 * 1024 }, () => Math.floor(rand() * 256)));
      const r = new TsRemuxer({ maxPesBytes: 1 << 20, maxProbeBytes: 512 * 1024 });
      let pushed = 0;
      const err = codeOf(() => {
        for (let at = 0; at < noise.length; at += 1316) {
          r.push(noise.subarray(at, at + 1316), () => {});
          pushed = at + 1316;
        }
      });
      expect(err.code, `seed ${seed}`).toBe('TS_NO_PROGRAM');
      expect(pushed).toBeGreaterThanOrEqual(512 * 1024 - 1316);
    }
  });
});

describe('where FFmpeg\'s video PES end', () => {
  /** How each video PES (unbounded) was completed, feeding one TS packet at a time. */
  function completions(ts: Buffer): { stuffing: number; nextStart: number; end: number } {
    let videoPid = -1;
    const d = new TsDemuxer({
      streamTypes: new Set([STREAM_H264]), maxPesBytes: 1 << 22,
      program: (s) => { for (const [pid, type] of s) if (type === STREAM_H264) videoPid = pid; },
    });
    const by = { stuffing: 0, nextStart: 0, end: 0 };
    let open = false;
    for (let at = 0; at + PACKET <= ts.length; at += PACKET) {
      const pkt = ts.subarray(at, at + PACKET);
      const n = d.push(pkt).length;
      if ((((pkt[1]! & 0x1f) << 8) | pkt[2]!) !== videoPid) {
        expect(n).toBe(0); // a PES ends only on a packet of its own PID
        continue;
      }
      if (pkt[1]! & 0x40) {
        // A PES start first completes the PES before it; a PES out beyond that is the new one, stuffed.
        const byStart: number = open && n > 0 ? 1 : 0;
        by.nextStart += byStart;
        by.stuffing += n - byStart;
        open = n - byStart === 0;
      } else if (n) {
        by.stuffing += n;
        open = false;
      }
    }
    by.end = d.end().length;
    return by;
  }

  const sources: SourceName[] = ['defaults', 'pesPayload0', 'bframes', 'mono44'];

  it.for(sources)('completes nearly every video PES of %s at its stuffed last packet, at once', async (source, ctx) => {
    const by = completions(tss[source]);
    await ctx.annotate(`${source}: ${by.stuffing} video PES completed by stuffing, ${by.nextStart} by the next PES start, ${by.end} at the end`);
    const frames = (await packets(join(dir, `${source}.ts`), 'v')).length;
    expect(by.stuffing + by.nextStart + by.end).toBe(frames);
    // Only a last packet exactly full (about 1 in 184) waits for the next PES start.
    expect(by.nextStart + by.end).toBeLessThanOrEqual(2);
  });
});
