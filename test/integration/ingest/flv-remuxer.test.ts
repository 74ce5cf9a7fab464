import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlvErrorCode } from '../../../ingest/flv/reader.js';
import { FlvRemuxer } from '../../../ingest/flv/remuxer.js';
import { Fmp4Splitter } from '../../../ingest/fmp4/splitter.js';
import type { Chunk, Fmp4Unit, InitSegment } from '../../../media/types.js';
import { randomPieces } from '../../ingest/fmp4/fixtures.js';
import { errorOf } from '../../helpers/flv.js';

const run = promisify(execFile);

// ---- Media made by FFmpeg once for the file ----

const VIDEO = (size: string) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`];
const AUDIO = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30'];
const AAC = ['-c:a', 'aac', '-ac', '2', '-ar', '48000'];

const SOURCES = {
  av: [...VIDEO('640x360'), ...AUDIO, '-t', '3', ...X264, ...AAC],
  audio: [...AUDIO, '-t', '3', '-vn', ...AAC],
  video: [...VIDEO('640x360'), '-t', '3', ...X264, '-an'],
  small: [...VIDEO('320x240'), ...AUDIO, '-t', '1', ...X264, ...AAC],
  sorenson: [...VIDEO('320x240'), '-t', '3', '-c:v', 'flv1', '-an'], // > 60 tags: FLV_NO_TRACK
  sorensonAac: [...VIDEO('320x240'), ...AUDIO, '-t', '1', '-c:v', 'flv1', ...AAC],
  mp3: [...AUDIO, '-t', '3', '-vn', '-c:a', 'libmp3lame', '-ar', '44100'],
  h264Mp3: [...VIDEO('320x240'), ...AUDIO, '-t', '1', ...X264, '-c:a', 'libmp3lame', '-ar', '44100'],
  /** B-frames: composition offsets, pts != dts. */
  /** MPEG-4 Part 2 (FLV codec id 9, an FFmpeg extension): FFmpeg writes its sequence header before AAC's. */
  mpeg4Aac: [...VIDEO('320x240'), ...AUDIO, '-t', '1', '-c:v', 'mpeg4', '-strict', '-1', ...AAC],
  bframes: [...VIDEO('320x240'), ...AUDIO, '-t', '2', '-c:v', 'libx264', '-preset', 'superfast', '-bf', '2', '-g', '30', ...AAC],
  mono44: [...VIDEO('320x240'), ...AUDIO, '-t', '2', ...X264, '-c:a', 'aac', '-ac', '1', '-ar', '44100'],
} as const;
type SourceName = keyof typeof SOURCES;

let dir = '';
const flvs = {} as Record<SourceName, Buffer>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nowcast-flv-remuxer-'));
  await Promise.all((Object.keys(SOURCES) as SourceName[]).map(async (name) => {
    const file = join(dir, `${name}.flv`);
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...SOURCES[name], '-f', 'flv', file]);
    flvs[name] = await readFile(file);
  }));
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ---- What the FLV holds, read straight from its bytes ----

interface RawTag {
  start: number;
  end: number;
  type: number;
  timestamp: number;
  body: Buffer;
}

function rawTags(flv: Buffer, from = 13): RawTag[] {
  const tags: RawTag[] = [];
  for (let at = from; at < flv.length; ) {
    const size = flv.readUIntBE(at + 1, 3);
    const timestamp = (flv.readUIntBE(at + 4, 3) + flv[at + 7]! * 2 ** 24);
    tags.push({ start: at, end: at + 15 + size, type: flv[at]! & 0x1f, timestamp, body: flv.subarray(at + 11, at + 11 + size) });
    at += 15 + size;
  }
  return tags;
}

interface Media {
  /** H.264 frames (AVC packet type 1): decode time in ms, composition offset, keyframe, AVCC data. */
  video: Array<{ dts: number; cts: number; sync: boolean; data: Buffer }>;
  /** Raw AAC frames (AAC packet type 1). */
  audio: Array<{ ms: number; data: Buffer }>;
}

const isFrame = (t: RawTag): boolean => t.type === 9 && (t.body[0]! & 0x0f) === 7 && t.body[1] === 1;

function mediaOf(flv: Buffer, from = 13): Media {
  const tags = rawTags(flv, from);
  return {
    video: tags.filter(isFrame).map((t) => ({ dts: t.timestamp, cts: t.body.readIntBE(2, 3), sync: t.body[0]! >> 4 === 1, data: t.body.subarray(5) })),
    audio: tags.filter((t) => t.type === 8 && t.body[0]! >> 4 === 10 && t.body[1] === 1).map((t) => ({ ms: t.timestamp, data: t.body.subarray(2) })),
  };
}

/** One FLV tag: 11-byte header, body, PreviousTagSize. */
function flvTag(type: number, timestamp: number, body: Buffer): Buffer {
  const head = Buffer.alloc(11);
  head[0] = type;
  head.writeUIntBE(body.length, 1, 3);
  head.writeUIntBE(timestamp % 2 ** 24, 4, 3);
  head[7] = Math.floor(timestamp / 2 ** 24);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(11 + body.length);
  return Buffer.concat([head, body, trailer]);
}

/** `flv` with each tag's body replaced by `map` (null drops the tag), after `extra` tags. */
function rewrite(flv: Buffer, map: (t: RawTag) => Buffer | null, extra: Buffer[] = []): Buffer {
  const tags = rawTags(flv).flatMap((t) => {
    const body = map(t);
    return body ? [flvTag(t.type, t.timestamp, body)] : [];
  });
  return Buffer.concat([flv.subarray(0, 13), ...extra, ...tags]);
}

const isSequenceHeader = (t: RawTag, type: number): boolean => t.type === type && t.body[1] === 0;

/** Pieces as a publisher sends them: everything up to the second frame, then each frame with the tags after it. */
function frameBursts(flv: Buffer): Buffer[] {
  const starts = rawTags(flv).filter(isFrame).map((t) => t.start).slice(1);
  return [0, ...starts].map((s, i) => flv.subarray(s, starts[i] ?? flv.length));
}

// ---- Running the remuxer ----

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0, 250);

type Drive = 'flush after every push' | 'flush when ready';

interface Remuxed {
  out: Buffer[];
  warnings: string[];
}

function remux(pieces: Buffer[], drive: Drive, remuxer?: FlvRemuxer, warnings: string[] = []): Remuxed {
  const r = remuxer ?? new FlvRemuxer({ maxTagBytes: 1024 * 1024, warn: (m) => warnings.push(m), now: () => NOW });
  const out: Buffer[] = [];
  const emit = (b: Buffer): void => {
    out.push(b);
  };
  for (const piece of pieces) {
    r.push(piece, emit);
    if (drive === 'flush after every push' || r.ready()) r.flush(emit);
  }
  r.flush(emit, true); // the publisher left
  expect(r.pending).toBe(false);
  return { out, warnings };
}

function split(out: Buffer[]): Fmp4Unit[] {
  const splitter = new Fmp4Splitter();
  const units: Fmp4Unit[] = [];
  for (const b of out) {
    const before = units.length;
    splitter.push(b, (u) => units.push(u));
    // Every emitted buffer is exactly one whole unit.
    expect(units.length).toBe(before + 1);
    expect(units.at(-1)!.bytes.equals(b)).toBe(true);
  }
  expect(splitter.bufferedBytes).toBe(0);
  return units;
}

const initsOf = (units: Fmp4Unit[]) => units.filter((u): u is InitSegment => u.kind === 'init');
const chunksOf = (units: Fmp4Unit[]) => units.filter((u): u is Chunk => u.kind === 'chunk');

// ---- An independent reader of the chunks written (prft, moof, mdat) ----

interface Box {
  type: string;
  start: number;
  end: number;
}

function boxes(buf: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  for (let at = start; at < end; ) {
    const size = buf.readUInt32BE(at);
    if (size < 8 || at + size > end) throw new Error(`box at ${at} of size ${size} overruns ${end}`);
    out.push({ type: buf.toString('latin1', at + 4, at + 8), start: at, end: at + size });
    at += size;
  }
  return out;
}

interface OutSample {
  dts: number;
  duration: number;
  cts: number;
  sync: boolean;
  data: Buffer;
}

interface OutChunk {
  seq: number;
  prft: { trackId: number; mediaTime: number };
  /** Samples per track_ID, in order. */
  tracks: Map<number, OutSample[]>;
  /** Track IDs in traf order. */
  order: number[];
}

function parseChunk(bytes: Buffer): OutChunk {
  const top = boxes(bytes, 0, bytes.length);
  expect(top.map((b) => b.type)).toEqual(['prft', 'moof', 'mdat']);
  const [prft, moof, mdat] = top as [Box, Box, Box];
  expect(bytes[prft.start + 8]).toBe(1); // version 1: 64-bit media_time
  const prftInfo = { trackId: bytes.readUInt32BE(prft.start + 12), mediaTime: Number(bytes.readBigUInt64BE(prft.start + 24)) };
  const kids = boxes(bytes, moof.start + 8, moof.end);
  expect(kids[0]!.type).toBe('mfhd');
  const seq = bytes.readUInt32BE(kids[0]!.start + 12);
  const tracks = new Map<number, OutSample[]>();
  const order: number[] = [];
  for (const traf of kids.filter((k) => k.type === 'traf')) {
    const parts = boxes(bytes, traf.start + 8, traf.end);
    const tfhd = parts.find((p) => p.type === 'tfhd')!;
    const tfhdFlags = bytes.readUInt32BE(tfhd.start + 8) & 0xffffff;
    expect(tfhdFlags & 0x020001).toBe(0x020000); // default-base-is-moof, no base_data_offset
    const trackId = bytes.readUInt32BE(tfhd.start + 12);
    const tfdt = parts.find((p) => p.type === 'tfdt')!;
    let dts = bytes[tfdt.start + 8] === 1 ? Number(bytes.readBigUInt64BE(tfdt.start + 12)) : bytes.readUInt32BE(tfdt.start + 12);
    const trun = parts.find((p) => p.type === 'trun')!;
    const version = bytes[trun.start + 8]!;
    const flags = bytes.readUInt32BE(trun.start + 8) & 0xffffff;
    expect(flags & 0xf01).toBe(0xf01); // data offset; duration, size, flags, composition offset per sample
    const count = bytes.readUInt32BE(trun.start + 12);
    let dataAt = moof.start + bytes.readInt32BE(trun.start + 16);
    let p = trun.start + 20 + (flags & 0x4 ? 4 : 0);
    const samples: OutSample[] = [];
    for (let i = 0; i < count; i++) {
      const duration = bytes.readUInt32BE(p);
      const size = bytes.readUInt32BE(p + 4);
      const sampleFlags = bytes.readUInt32BE(p + 8);
      const cts = version === 1 ? bytes.readInt32BE(p + 12) : bytes.readUInt32BE(p + 12);
      p += 16;
      expect(dataAt).toBeGreaterThanOrEqual(mdat.start + 8);
      expect(dataAt + size).toBeLessThanOrEqual(mdat.end);
      samples.push({ dts, duration, cts, sync: (sampleFlags & 0x10000) === 0, data: bytes.subarray(dataAt, dataAt + size) });
      dataAt += size;
      dts += duration;
    }
    expect(p).toBe(trun.end);
    tracks.set(trackId, [...(tracks.get(trackId) ?? []), ...samples]);
    order.push(trackId);
  }
  return { seq, prft: prftInfo, tracks, order };
}

const VIDEO_ID = 1;
const AUDIO_ID = 2;

/** Checks every sample of `media` came out once, in order, with the FLV's timing. */
function expectSamples(chunks: OutChunk[], media: Media, audioRate: number): void {
  const video = chunks.flatMap((c) => c.tracks.get(VIDEO_ID) ?? []);
  const audio = chunks.flatMap((c) => c.tracks.get(AUDIO_ID) ?? []);
  expect(video.length).toBe(media.video.length);
  video.forEach((s, i) => {
    const want = media.video[i]!;
    expect({ dts: s.dts, cts: s.cts, sync: s.sync }).toEqual({ dts: want.dts, cts: want.cts, sync: want.sync });
    expect(s.data.equals(want.data)).toBe(true);
    expect(s.duration).toBeGreaterThan(0);
  });
  expect(audio.length).toBe(media.audio.length);
  audio.forEach((s, i) => {
    expect(s.data.equals(media.audio[i]!.data)).toBe(true);
    // AAC frames abut exactly: 1024 samples each, from the first frame's FLV time.
    expect(s.dts).toBe(Math.round((media.audio[0]!.ms * audioRate) / 1000) + i * 1024);
    expect({ duration: s.duration, cts: s.cts, sync: s.sync }).toEqual({ duration: 1024, cts: 0, sync: true });
  });
  chunks.forEach((c, i) => {
    expect(c.seq).toBe(i + 1);
    expect(c.order[0]).toBe(c.prft.trackId); // prft refers to the first traf's track
    const first = c.tracks.get(c.order[0]!)![0]!;
    expect(c.prft.mediaTime).toBe(first.dts + first.cts);
    if (c.order.length === 2) expect(c.order).toEqual([VIDEO_ID, AUDIO_ID]);
  });
}

async function probe(bytes: Buffer, name: string): Promise<Array<Record<string, string | number>>> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries',
    'stream=codec_name,width,height,nb_read_frames,sample_rate,channels', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: Array<Record<string, string | number>> }).streams;
}

async function decode(bytes: Buffer, name: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-']);
  return stderr;
}

async function packets(file: string, stream: 'v' | 'a'): Promise<string[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=pts,dts,size,flags', '-of', 'csv=p=0', file], { maxBuffer: 16 * 1024 * 1024 });
  // flags: K (keyframe), D (discard), C (corrupt); the second column is per-container noise.
  return stdout.trim().split('\n').map((line) => {
    const [pts, dts, size, flags = ''] = line.split(',');
    return `${pts} ${dts} ${size} ${flags.startsWith('K') ? 'K' : '-'}`;
  });
}

// ---- The tests ----

describe('FlvRemuxer on FFmpeg FLV with H.264 and AAC', () => {
  it('writes one init segment, then one chunk per video frame when each push is a frame and the audio after it', () => {
    const media = mediaOf(flvs.av);
    expect(media.video.length).toBe(90); // 3 s at 30 fps
    const units = split(remux(frameBursts(flvs.av), 'flush after every push').out);
    expect(units[0]!.kind).toBe('init');
    const [init] = initsOf(units);
    expect(initsOf(units)).toHaveLength(1);
    expect(init!.codecs).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    expect(init!.mime).toBe(`video/mp4; codecs="${init!.codecs}"`);
    expect(init!.tracks).toEqual([
      { id: 1, kind: 'video', codec: expect.stringMatching(/^avc1\./), timescale: 1000, width: 640, height: 360 },
      { id: 2, kind: 'audio', codec: 'mp4a.40.2', timescale: 48000, channels: 2, sampleRate: 48000 },
    ]);
    const chunks = chunksOf(units);
    expect(chunks).toHaveLength(media.video.length);
    expect(chunks.map((c) => c.keyframe)).toEqual(chunks.map((_, i) => i % 30 === 0));
    expect(chunks.map((c) => c.dts)).toEqual(media.video.map((v) => v.dts / 1000));
    chunks.forEach((c, i) => {
      expect(c.seq).toBe(i + 1);
      expect(c.prftMs).toBeDefined();
      expect(Math.abs(c.prftMs! - NOW)).toBeLessThanOrEqual(1);
      expect(c.duration).toBeGreaterThan(0);
      if (i > 0) expect(c.dts).toBeGreaterThan(chunks[i - 1]!.dts);
    });
    expectSamples(chunks.map((c) => parseChunk(c.bytes)), media, 48000);
  });

  const feeds: Array<[string, () => Buffer[], Drive]> = [
    ['whole', () => [flvs.av], 'flush when ready'],
    ['one tag at a time, flushing when ready', () => rawTags(flvs.av).map((t, i) => flvs.av.subarray(i ? t.start : 0, t.end)), 'flush when ready'],
    ...[1, 2, 3].map((seed): [string, () => Buffer[], Drive] => [`in random pieces (seed ${seed}), flushing when ready`, () => randomPieces(flvs.av, seed, 4000), 'flush when ready']),
    ...[4, 5].map((seed): [string, () => Buffer[], Drive] => [`in random pieces (seed ${seed}), flushing after every push`, () => randomPieces(flvs.av, seed, 4000), 'flush after every push']),
    ['in pieces of at most 64 bytes, flushing after every push', () => randomPieces(flvs.av, 6, 64), 'flush after every push'],
  ];

  it.each(feeds)('carries every sample once, in order and with the FLV timing, when fed %s', (_name, pieces, drive) => {
    // Flushing after every push can write audio alone that starts exactly where the last frame did.
    const media = mediaOf(flvs.av);
    const units = split(remux(pieces(), drive).out);
    expect(units.map((u) => u.kind).lastIndexOf('init')).toBe(0);
    const chunks = chunksOf(units);
    const parsed = chunks.map((c) => parseChunk(c.bytes));
    expectSamples(parsed, media, 48000);
    // A keyframe always starts a chunk, and only chunks that start with one are flagged.
    expect(chunks.filter((c) => c.keyframe)).toHaveLength(3);
    chunks.forEach((c, i) => {
      const firstVideo = parsed[i]!.tracks.get(VIDEO_ID)?.[0];
      expect(c.keyframe).toBe(parsed[i]!.order[0] === VIDEO_ID && firstVideo!.sync);
      expect(Math.abs(c.prftMs! - NOW)).toBeLessThanOrEqual(1);
      if (i === 0) return;
      if (drive === 'flush when ready') expect(c.dts).toBeGreaterThan(chunks[i - 1]!.dts);
      else expect(c.dts).toBeGreaterThanOrEqual(chunks[i - 1]!.dts);
    });
    for (const s of parsed.flatMap((p) => p.tracks.get(VIDEO_ID) ?? []).filter((s) => s.sync)) {
      const first = parsed.find((p) => p.tracks.get(VIDEO_ID)?.includes(s))!;
      expect(first.tracks.get(VIDEO_ID)![0]).toBe(s);
      expect(first.order[0]).toBe(VIDEO_ID);
    }
  });

  it('writes a file ffprobe reads as 640x360 H.264 with every frame and 48 kHz stereo AAC', async () => {
    const media = mediaOf(flvs.av);
    const out = Buffer.concat(remux(randomPieces(flvs.av, 8, 3000), 'flush when ready').out);
    const streams = await probe(out, 'av.mp4');
    expect(streams).toEqual([
      expect.objectContaining({ codec_name: 'h264', width: 640, height: 360, nb_read_frames: String(media.video.length) }),
      expect.objectContaining({ codec_name: 'aac', sample_rate: '48000', channels: 2, nb_read_frames: String(media.audio.length) }),
    ]);
  });

  it.each([
    ['without B-frames', 'av', 90],
    ['with B-frames (composition offsets)', 'bframes', 60],
  ] as const)('writes video packets FFmpeg demuxes with the same pts, dts, sizes and keyframes as the FLV, %s', async (_name, source, frames) => {
    const out = Buffer.concat(remux(randomPieces(flvs[source], 9, 3000), 'flush when ready').out);
    const mp4File = join(dir, `packets-${source}.mp4`);
    const flvFile = join(dir, `packets-${source}.flv`);
    await writeFile(mp4File, out);
    await writeFile(flvFile, flvs[source]);
    const [fromMp4, fromFlv] = await Promise.all([packets(mp4File, 'v'), packets(flvFile, 'v')]);
    expect(fromMp4.length).toBe(frames);
    expect(fromMp4).toEqual(fromFlv);
    if (source === 'bframes') expect(mediaOf(flvs[source]).video.some((v) => v.cts > 0)).toBe(true);
    // Audio: same frames; the mp4 counts in samples (1/48000 s), the FLV in whole ms.
    const [audioMp4, audioFlv] = await Promise.all([packets(mp4File, 'a'), packets(flvFile, 'a')]);
    expect(audioMp4.map((p) => p.split(' ')[2])).toEqual(audioFlv.map((p) => p.split(' ')[2]));
    const firstAudio = Math.round(mediaOf(flvs[source]).audio[0]!.ms * 48);
    expect(audioMp4.map((p) => Number(p.split(' ')[1]))).toEqual(audioMp4.map((_, i) => firstAudio + i * 1024));
    expect(await decode(out, `decode-${source}.mp4`)).toBe('');
  });

  it('times 44.1 kHz mono AAC in its own sample rate, frames abutting exactly', async () => {
    const media = mediaOf(flvs.mono44);
    const units = split(remux(randomPieces(flvs.mono44, 18, 2000), 'flush when ready').out);
    expect(initsOf(units)[0]!.tracks[1]).toEqual({ id: 2, kind: 'audio', codec: 'mp4a.40.2', timescale: 44100, channels: 1, sampleRate: 44100 });
    expectSamples(chunksOf(units).map((c) => parseChunk(c.bytes)), media, 44100);
    expect(await decode(Buffer.concat(units.map((u) => u.bytes)), 'decode-mono44.mp4')).toBe('');
  });

  it('writes a file FFmpeg decodes without a single error', async () => {
    const out = Buffer.concat(remux(randomPieces(flvs.av, 10, 3000), 'flush after every push').out);
    expect(await decode(out, 'decode-av.mp4')).toBe('');
  });

  it('keeps decode times increasing across the 32-bit wrap of FLV timestamps', async () => {
    const shift = 2 ** 32 - 1500; // wraps 1.5 s in
    const wrapped = Buffer.from(flvs.av);
    for (const t of rawTags(wrapped)) {
      const ts = (t.timestamp + shift) % 2 ** 32;
      wrapped.writeUIntBE(ts % 2 ** 24, t.start + 4, 3);
      wrapped[t.start + 7] = Math.floor(ts / 2 ** 24);
    }
    expect(rawTags(wrapped).some((t) => t.timestamp < 1000)).toBe(true);
    const chunks = chunksOf(split(remux(randomPieces(wrapped, 11, 3000), 'flush when ready').out));
    const media = mediaOf(flvs.av);
    const shifted: Media = { video: media.video.map((v) => ({ ...v, dts: v.dts + shift })), audio: media.audio.map((a) => ({ ...a, ms: a.ms + shift })) };
    expectSamples(chunks.map((c) => parseChunk(c.bytes)), shifted, 48000);
    chunks.forEach((c, i) => {
      if (i > 0) expect(c.dts).toBeGreaterThan(chunks[i - 1]!.dts);
    });
    expect(chunks.at(-1)!.dts).toBeGreaterThan(2 ** 32 / 1000);
    expect(await decode(Buffer.concat(remux([wrapped], 'flush when ready').out), 'decode-wrap.mp4')).toBe('');
  });

  it('rejects a frame over maxTagBytes with FLV_TAG_TOO_LARGE, from its tag header', () => {
    const largest = Math.max(...rawTags(flvs.av).map((t) => t.body.length));
    const remuxer = new FlvRemuxer({ maxTagBytes: largest - 1 });
    const err = errorOf(() => remux(randomPieces(flvs.av, 12, 2000), 'flush when ready', remuxer));
    expect(err.code).toBe('FLV_TAG_TOO_LARGE');
    expect(remuxer.bufferedBytes).toBeLessThan(2000 + 11);
    expect(errorOf(() => remuxer.push(Buffer.alloc(1), () => {}))).toBe(err);
  });
});

describe('FlvRemuxer on FFmpeg FLV with one track', () => {
  it('turns audio-only FLV (-vn) into an audio/mp4 init and keyframe chunks of every AAC frame', async () => {
    const media = mediaOf(flvs.audio);
    expect(media.video).toHaveLength(0);
    const units = split(remux(randomPieces(flvs.audio, 13, 500), 'flush when ready').out);
    const inits = initsOf(units);
    expect(inits).toHaveLength(1);
    expect(units[0]).toBe(inits[0]);
    expect(inits[0]!.mime).toBe('audio/mp4; codecs="mp4a.40.2"');
    expect(inits[0]!.tracks).toEqual([{ id: 2, kind: 'audio', codec: 'mp4a.40.2', timescale: 48000, channels: 2, sampleRate: 48000 }]);
    const chunks = chunksOf(units);
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.every((c) => c.keyframe && c.prftMs !== undefined)).toBe(true);
    expectSamples(chunks.map((c) => parseChunk(c.bytes)), media, 48000);
    const out = Buffer.concat(units.map((u) => u.bytes));
    expect(await probe(out, 'audio.mp4')).toEqual([expect.objectContaining({ codec_name: 'aac', sample_rate: '48000', nb_read_frames: String(media.audio.length) })]);
    expect(await decode(out, 'decode-audio.mp4')).toBe('');
  });

  it('turns video-only FLV (-an) into a video/mp4 init, the first 500 ms in one chunk (no audio header came), then one chunk per frame', async () => {
    const media = mediaOf(flvs.video);
    expect(media.audio).toHaveLength(0);
    const units = split(remux(frameBursts(flvs.video), 'flush when ready').out);
    const inits = initsOf(units);
    expect(inits).toHaveLength(1);
    expect(inits[0]!.mime).toMatch(/^video\/mp4; codecs="avc1\.[0-9a-f]{6}"$/);
    expect(inits[0]!.tracks).toEqual([{ id: 1, kind: 'video', codec: expect.stringMatching(/^avc1\./), timescale: 1000, width: 640, height: 360 }]);
    const chunks = chunksOf(units);
    const parsed = chunks.map((c) => parseChunk(c.bytes));
    const counts = parsed.map((c) => c.tracks.get(VIDEO_ID)!.length);
    const held = counts[0]!;
    expect(held).toBeGreaterThanOrEqual(15); // 15 × 33.3 ms ≥ 500 ms
    expect(held).toBeLessThanOrEqual(16);
    expect(counts.slice(1).every((n) => n === 1)).toBe(true);
    expect(chunks).toHaveLength(90 - held + 1);
    const firstFrame = (i: number): number => (held - 1) * Math.min(i, 1) + i;
    expect(chunks.map((c) => c.keyframe)).toEqual(chunks.map((_, i) => firstFrame(i) % 30 === 0));
    expectSamples(parsed, media, 48000);
    const out = Buffer.concat(units.map((u) => u.bytes));
    expect(await probe(out, 'video.mp4')).toEqual([expect.objectContaining({ codec_name: 'h264', width: 640, height: 360, nb_read_frames: '90' })]);
    expect(await decode(out, 'decode-video.mp4')).toBe('');
  });
});

describe('FlvRemuxer when the AVC sequence header changes mid-stream', () => {
  it('writes what came before under the old init, then a new init with the new picture size', async () => {
    // The second file's tags follow the first's (its 13-byte file header stripped); its clock restarts at 0.
    const second = flvs.small.subarray(13);
    const warnings: string[] = [];
    const remuxer = new FlvRemuxer({ maxTagBytes: 1024 * 1024, warn: (m) => warnings.push(m), now: () => NOW });
    const first = remux(randomPieces(flvs.av, 14, 3000), 'flush when ready', remuxer, warnings).out;
    const then = remux(randomPieces(second, 15, 3000), 'flush when ready', remuxer, warnings).out;
    const units = split([...first, ...then]);
    const inits = initsOf(units);
    expect(inits.map((i) => i.tracks.map((t) => [t.kind, t.width ?? t.sampleRate, t.height ?? t.channels]))).toEqual([
      [['video', 640, 360], ['audio', 48000, 2]],
      [['video', 320, 240], ['audio', 48000, 2]],
    ]);
    expect(warnings).toEqual([]);
    const at = units.indexOf(inits[1]!);
    const before = chunksOf(units.slice(0, at));
    const after = chunksOf(units.slice(at));
    const smallMedia = mediaOf(flvs.small);
    expectSamples(before.map((c) => parseChunk(c.bytes)), mediaOf(flvs.av), 48000);
    const afterParsed = after.map((c) => parseChunk(c.bytes));
    // The first chunk with video under the new init starts at its keyframe. (Audio the second
    // file sends before its first frame may go out alone first: its clock restarted below the
    // old video's end, so ready() counts it as extending what can be played.)
    const firstWithVideo = afterParsed.findIndex((c) => c.tracks.has(VIDEO_ID));
    expect(after[firstWithVideo]!.keyframe).toBe(true);
    expect(afterParsed[firstWithVideo]!.order[0]).toBe(VIDEO_ID);
    expect(afterParsed.slice(0, firstWithVideo).every((c) => c.order.join() === String(AUDIO_ID))).toBe(true);
    expect(afterParsed.flatMap((c) => c.tracks.get(VIDEO_ID) ?? []).map((s) => s.dts)).toEqual(smallMedia.video.map((v) => v.dts));
    expect(afterParsed.flatMap((c) => c.tracks.get(AUDIO_ID) ?? [])).toHaveLength(smallMedia.audio.length);
    // Each part plays on its own, as MSE plays it after its init segment.
    expect(await decode(Buffer.concat(units.slice(0, at).map((u) => u.bytes)), 'decode-part1.mp4')).toBe('');
    expect(await decode(Buffer.concat(units.slice(at).map((u) => u.bytes)), 'decode-part2.mp4')).toBe('');
    const probed = await probe(Buffer.concat(units.slice(at).map((u) => u.bytes)), 'part2.mp4');
    expect(probed[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240, nb_read_frames: String(smallMedia.video.length) });
  });

  it('writes no new init segment when the same sequence headers are sent again', () => {
    const tags = rawTags(flvs.av);
    const headers = tags.filter((t) => (t.type === 9 || t.type === 8) && t.body[1] === 0);
    expect(headers).toHaveLength(2);
    const frames = frameBursts(flvs.av);
    const again = Buffer.concat(headers.map((t) => flvs.av.subarray(t.start, t.end)));
    const pieces = [...frames.slice(0, 45), again, ...frames.slice(45)];
    const units = split(remux(pieces, 'flush after every push').out);
    expect(initsOf(units)).toHaveLength(1);
    expect(chunksOf(units)).toHaveLength(90);
  });
});

describe('FlvRemuxer on codecs it cannot carry', () => {
  it('drops H.264 frames that come before any AVC sequence header, warning once, and plays the audio', () => {
    const warnings: string[] = [];
    const flv = rewrite(flvs.av, (t) => (isSequenceHeader(t, 9) ? null : t.body));
    const units = split(remux(randomPieces(flv, 19, 3000), 'flush when ready', undefined, warnings).out);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/H\.264 frames before any AVC sequence header/);
    expect(initsOf(units).map((i) => i.mime)).toEqual(['audio/mp4; codecs="mp4a.40.2"']);
    expectSamples(chunksOf(units).map((c) => parseChunk(c.bytes)), { video: [], audio: mediaOf(flvs.av).audio }, 48000);
  });

  /** av with the 0x80 (enhanced RTMP) bit on every video tag; `audioFirst` moves the AAC sequence header first. */
  function enhanced(audioFirst: boolean): Buffer {
    const flv = rewrite(flvs.av, (t) => (t.type === 9 ? Buffer.concat([Buffer.from([t.body[0]! | 0x80]), t.body.subarray(1)]) : t.body));
    if (!audioFirst) return flv;
    const aacHeader = rawTags(flvs.av).find((t) => isSequenceHeader(t, 8))!;
    return rewrite(flv, (t) => (isSequenceHeader(t, 8) ? null : t.body), [flvTag(8, 0, aacHeader.body)]);
  }

  it('treats enhanced-RTMP video (the 0x80 bit) as unsupported, warning once, and plays the audio when its header comes first', () => {
    const warnings: string[] = [];
    const units = split(remux(randomPieces(enhanced(true), 20, 3000), 'flush when ready', undefined, warnings).out);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/enhanced RTMP/);
    expect(initsOf(units).map((i) => i.mime)).toEqual(['audio/mp4; codecs="mp4a.40.2"']);
    expectSamples(chunksOf(units).map((c) => parseChunk(c.bytes)), { video: [], audio: mediaOf(flvs.av).audio }, 48000);
  });

  // FFmpeg writes the video sequence header before the AAC one (stream order), so an unsupported
  // video tag must not be fatal while no configuration is known yet (enhanced-RTMP HEVC from
  // FFmpeg >= 6.1, or MPEG-4 Part 2, with AAC).
  it('plays the audio of enhanced-RTMP video whose sequence header precedes the AAC one (FFmpeg order)', () => {
    const warnings: string[] = [];
    const units = split(remux(randomPieces(enhanced(false), 20, 3000), 'flush when ready', undefined, warnings).out);
    expect(warnings).toHaveLength(1);
    expect(initsOf(units).map((i) => i.mime)).toEqual(['audio/mp4; codecs="mp4a.40.2"']);
  });

  it('plays the audio of an FFmpeg FLV with MPEG-4 Part 2 video and AAC (-c:v mpeg4 -strict -1)', () => {
    const tags = rawTags(flvs.mpeg4Aac);
    expect(tags[1]!.type).toBe(9); // FFmpeg's order: video sequence header (codec 9) first,
    expect(isSequenceHeader(tags[2]!, 8)).toBe(true); // then the AAC one
    const warnings: string[] = [];
    const units = split(remux(randomPieces(flvs.mpeg4Aac, 22, 1000), 'flush when ready', undefined, warnings).out);
    expect(warnings).toHaveLength(1);
    expect(initsOf(units).map((i) => i.mime)).toEqual(['audio/mp4; codecs="mp4a.40.2"']);
  });

  const cases: Array<[string, SourceName, FlvErrorCode | null, string, RegExp]> = [
    ['Sorenson H.263 video alone', 'sorenson', 'FLV_NO_TRACK', '', /video codec id 2 /],
    ['MP3 audio alone', 'mp3', 'FLV_NO_TRACK', '', /audio format 2 /],
    ['Sorenson H.263 video with AAC audio', 'sorensonAac', null, 'audio/mp4', /video codec id 2 .*video dropped/],
    ['H.264 video with MP3 audio', 'h264Mp3', null, 'video/mp4', /audio format 2 .*audio dropped/],
  ];

  it.each(cases)('handles %s: fails with the code, or plays the other track and warns once', (_name, source, code, mime, warning) => {
    const warnings: string[] = [];
    const remuxer = new FlvRemuxer({ maxTagBytes: 1024 * 1024, warn: (m) => warnings.push(m), now: () => NOW });
    if (code) {
      const err = errorOf(() => remux(randomPieces(flvs[source], 16, 1000), 'flush when ready', remuxer, warnings));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(warning);
      expect(warnings).toHaveLength(1);
      return;
    }
    const units = split(remux(randomPieces(flvs[source], 17, 1000), 'flush when ready', remuxer, warnings).out);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(warning);
    const inits = initsOf(units);
    expect(inits).toHaveLength(1);
    expect(inits[0]!.mime.split(';')[0]).toBe(mime);
    const chunks = chunksOf(units);
    const media = mediaOf(flvs[source]);
    expect(chunks.length).toBeGreaterThan(5);
    expectSamples(chunks.map((c) => parseChunk(c.bytes)), media, 48000);
    expect(media.video.length + media.audio.length).toBeGreaterThan(20);
  });
});

describe('FlvRemuxer on malformed media tags', () => {
  const hex = (h: string) => Buffer.from(h.replace(/ /g, ''), 'hex');
  const cases: Array<[string, number, Buffer]> = [
    ['a 1-byte AVC video tag', 9, hex('17')],
    ['a 4-byte AVC video tag', 9, hex('27 01 00 00')],
    ['an AVC sequence header that is not a configuration record (version 0)', 9, hex('17 00 000000 00 42c01e ffe1 0004 6742c01e')],
    ['an AVC sequence header whose SPS is cut short', 9, hex('17 00 000000 01 42c01e ffe1 0004 6742c01e')],
    ['an AVC sequence header with no SPS', 9, hex('17 00 000000 01 42c01e ffe0 01 0004 68ce3880')],
    ['a 1-byte AAC audio tag', 8, hex('af')],
    ['a 1-byte AudioSpecificConfig', 8, hex('af 00 11')],
    ['an AudioSpecificConfig with the reserved sampling frequency index 13', 8, hex('af 00 1690')],
  ];

  it.each(cases)('rejects %s with FLV_BAD_TAG', (_name, type, body) => {
    const flv = Buffer.concat([flvs.av.subarray(0, 13), flvTag(type, 0, body)]);
    expect(errorOf(() => remux([flv], 'flush when ready')).code).toBe('FLV_BAD_TAG');
  });

  // A 7-byte AVCDecoderConfigurationRecord ends inside the SPS length: FLV_BAD_TAG, not a
  // RangeError (RemuxTap would report REMUX_FAILED). Tag body: 17 00 000000 01 42 c0 1e ff e1 00.
  it('rejects an AVC sequence header whose record ends inside the SPS length with FLV_BAD_TAG', () => {
    const flv = Buffer.concat([flvs.av.subarray(0, 13), flvTag(9, 0, hex('17 00 000000 01 42c01e ffe1 00'))]);
    expect(errorOf(() => remux([flv], 'flush when ready')).code).toBe('FLV_BAD_TAG');
  });

  it('ignores empty tags, video info frames, end-of-sequence and unknown tag types around a valid stream', () => {
    const noise = [
      flvTag(9, 0, Buffer.alloc(0)),
      flvTag(8, 0, Buffer.alloc(0)),
      flvTag(9, 0, hex('5700')), // video info/command frame
      flvTag(9, 0, hex('1702000000')), // AVC end of sequence
      flvTag(18, 0, hex('0200')),
      flvTag(15, 0, hex('00')), // no such tag type
    ];
    const flv = rewrite(flvs.av, (t) => t.body, noise);
    const warnings: string[] = [];
    const units = split(remux(randomPieces(flv, 21, 3000), 'flush when ready', undefined, warnings).out);
    expect(warnings).toEqual([]);
    expect(initsOf(units)).toHaveLength(1);
    expectSamples(chunksOf(units).map((c) => parseChunk(c.bytes)), mediaOf(flvs.av), 48000);
  });
});

describe('FlvRemuxer timing rules', () => {
  /** The av source's sequence headers and first frames, re-timed: [AVC header, AAC header], frames. */
  function parts() {
    const tags = rawTags(flvs.av);
    const avc = tags.find((t) => isSequenceHeader(t, 9))!.body;
    const aac = tags.find((t) => isSequenceHeader(t, 8))!.body;
    const frames = tags.filter(isFrame).map((t) => t.body);
    const audio = tags.filter((t) => t.type === 8 && t.body[1] === 1).map((t) => t.body);
    return { avc, aac, frames, audio };
  }
  const header = (): Buffer => flvs.av.subarray(0, 13);

  it('writes each frame with twice the last interval, so a frame the encoder skipped is no MSE discontinuity', () => {
    const { avc, aac, frames } = parts();
    const times = [0, 33, 67, 100, 167, 200, 300, 333]; // 167 and 300: one and two frames skipped
    const pieces = [Buffer.concat([header(), flvTag(9, 0, avc), flvTag(8, 0, aac)]), ...times.map((t, i) => flvTag(9, t, frames[i]!))];
    const video = chunksOf(split(remux(pieces, 'flush after every push').out))
      .map((c) => parseChunk(c.bytes).tracks.get(VIDEO_ID)!).flat();
    expect(video.map((v) => v.dts)).toEqual(times);
    // Chromium's frame processor: a decode-time step over twice the last frame's duration is a
    // discontinuity, and frames are then dropped up to the next keyframe.
    for (let i = 1; i < video.length; i++) expect(video[i]!.dts - video[i - 1]!.dts).toBeLessThanOrEqual(2 * video[i - 1]!.duration);
    expect(video.map((v) => v.duration)).toEqual([66, 66, 68, 66, 134, 66, 200, 66]);
  });

  it('holds the first init segment until the second track\'s sequence header comes, so it has both tracks', () => {
    const { avc, aac, frames, audio } = parts();
    const r = new FlvRemuxer({ maxTagBytes: 1 << 20, now: () => NOW });
    const out: Buffer[] = [];
    const emit = (b: Buffer): void => { out.push(b); };
    r.push(Buffer.concat([header(), flvTag(9, 0, avc)]), emit);
    for (let i = 0; i < 5; i++) {
      r.push(flvTag(9, i * 33, frames[i]!), emit);
      r.flush(emit);
    }
    expect(out).toHaveLength(0); // 165 ms of video, and no AAC header yet
    r.push(Buffer.concat([flvTag(8, 0, aac), flvTag(8, 0, audio[0]!), flvTag(9, 165, frames[5]!)]), emit);
    r.flush(emit);
    const units = split(out);
    expect(initsOf(units).map((i) => i.codecs)).toEqual([expect.stringMatching(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/)]);
    const video = chunksOf(units).flatMap((c) => parseChunk(c.bytes).tracks.get(VIDEO_ID) ?? []);
    expect(video.map((v) => v.dts)).toEqual([0, 33, 66, 99, 132, 165]);
  });

  it('writes a video-only init segment once 500 ms of video came without an audio header', () => {
    const { avc, frames } = parts();
    const pieces = [Buffer.concat([header(), flvTag(9, 0, avc)]), ...frames.slice(0, 20).map((f, i) => flvTag(9, i * 33, f))];
    const r = new FlvRemuxer({ maxTagBytes: 1 << 20, now: () => NOW });
    const out: Buffer[] = [];
    let firstAt = -1;
    pieces.forEach((p, i) => {
      r.push(p, (b) => out.push(b));
      r.flush((b) => out.push(b));
      if (firstAt < 0 && out.length) firstAt = i - 1; // frames pushed so far
    });
    expect(firstAt).toBeGreaterThanOrEqual(15); // ≥ 500 ms at 33 ms
    expect(firstAt).toBeLessThanOrEqual(17);
    expect(initsOf(split(out)).map((i) => i.mime)).toEqual([expect.stringMatching(/^video\/mp4; codecs="avc1\.[0-9a-f]{6}"$/)]);
  });

  it('unwraps the 32-bit timestamp, also for a tag that straggles back across the wrap', () => {
    const { avc, aac, frames, audio } = parts();
    const w = 2 ** 32;
    const pieces = [
      Buffer.concat([header(), flvTag(9, 0, avc), flvTag(8, 0, aac)]),
      flvTag(9, w - 16, frames[0]!), flvTag(9, 5, frames[1]!), flvTag(8, w - 8, audio[0]!), flvTag(9, 38, frames[2]!), flvTag(9, 71, frames[3]!),
    ];
    const chunks = chunksOf(split(remux(pieces, 'flush after every push').out)).map((c) => parseChunk(c.bytes));
    expect(chunks.flatMap((c) => c.tracks.get(VIDEO_ID) ?? []).map((v) => v.dts)).toEqual([w - 16, w + 5, w + 38, w + 71]);
    expect(chunks.flatMap((c) => c.tracks.get(AUDIO_ID) ?? []).map((a) => a.dts)).toEqual([Math.round(((w - 8) * 48000) / 1000)]);
  });
});
