// Chunks as the in-process remux writes them (ingest/flv/remuxer.ts), made with its own box
// writer: one frame per chunk at ms timestamps, the frame's duration twice the last interval,
// the AAC frames that start within it, a prft with the wall clock. And a reader of a part's
// moofs that does not use hls/boxes.ts, so tests do not trust the code under test.
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID, chunk, type TrackRun } from '../../ingest/flv/mp4-writer.js';
import type { Chunk, InitSegment } from '../../media/types.js';
import type { TrackInfo } from '../../protocol/messages.js';

export const VIDEO: TrackInfo = { id: VIDEO_TRACK_ID, kind: 'video', codec: 'avc1.42c01e', timescale: 1000, width: 320, height: 240 };
export const AUDIO: TrackInfo = { id: AUDIO_TRACK_ID, kind: 'audio', codec: 'mp4a.40.2', timescale: 48000, channels: 2, sampleRate: 48000 };

export function initOf(tracks: TrackInfo[] = [VIDEO, AUDIO], tag = 'a'): InitSegment {
  const bytes = Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.from('ftypisom'), Buffer.from([0, 0, 0, 0]), Buffer.from(tag)]);
  const mime = `${tracks.some((t) => t.kind === 'video') ? 'video' : 'audio'}/mp4; codecs="${tracks.map((t) => t.codec).join(',')}"`;
  return { kind: 'init', bytes, codecs: tracks.map((t) => t.codec).join(','), mime, tracks };
}

export interface RemuxOptions {
  fps?: number;
  /** A keyframe every this many frames. */
  gop?: number;
  audio?: boolean;
  /** Media time of the first frame (ms). */
  startMs?: number;
  /** Wall clock of the first chunk's prft (ms). */
  wallMs?: number;
  /** Frame indices the encoder skipped (no chunk; the next frame's interval is longer). */
  skip?: number[];
  firstSeq?: number;
}

const AAC = 1024;

/** `n` frames' chunks, in order. */
export function remuxChunks(n: number, o: RemuxOptions = {}): Chunk[] {
  const fps = o.fps ?? 30;
  const gop = o.gop ?? 30;
  const start = o.startMs ?? 0;
  const wall = o.wallMs ?? 1_800_000_000_000;
  const skip = new Set(o.skip ?? []);
  const ms = (i: number): number => start + Math.round((i * 1000) / fps);
  const out: Chunk[] = [];
  let lastMs = NaN;
  let audioNext = Math.round((start * 48) / AAC);
  let seq = o.firstSeq ?? 1;
  for (let i = 0; i < n + skip.size; i++) {
    if (skip.has(i)) continue;
    const t = ms(i);
    const interval = Number.isFinite(lastMs) ? t - lastMs : 33;
    lastMs = t;
    const keyframe = i % gop === 0;
    const runs: TrackRun[] = [{ trackId: VIDEO_TRACK_ID, dts: t, samples: [{ data: Buffer.alloc(keyframe ? 900 : 120, i & 0xff), duration: 2 * interval, cts: 0, sync: keyframe }] }];
    if (o.audio ?? true) {
      const end = (ms(i + 1) * 48000) / 1000;
      const first = audioNext;
      const samples = [];
      while (audioNext * AAC < end) { samples.push({ data: Buffer.alloc(20, 0xaa), duration: AAC, cts: 0, sync: true }); audioNext++; }
      if (samples.length) runs.push({ trackId: AUDIO_TRACK_ID, dts: first * AAC, samples });
    }
    const bytes = chunk(seq, runs, { refTrackId: VIDEO_TRACK_ID, unixMs: wall + (t - start), mediaTime: t });
    out.push({ kind: 'chunk', bytes, seq: seq++, dts: t / 1000, duration: (2 * interval) / 1000, keyframe, prftMs: wall + (t - start) });
  }
  return out;
}

/** Audio-only chunks of `frames` AAC frames each (every chunk counts as a keyframe). */
export function audioChunks(n: number, frames = 2): Chunk[] {
  const out: Chunk[] = [];
  for (let i = 0; i < n; i++) {
    const dts = i * frames * AAC;
    const samples = Array.from({ length: frames }, () => ({ data: Buffer.alloc(20, 0xaa), duration: AAC, cts: 0, sync: true }));
    const bytes = chunk(i + 1, [{ trackId: AUDIO_TRACK_ID, dts, samples }], { refTrackId: AUDIO_TRACK_ID, unixMs: 1_800_000_000_000 + dts / 48, mediaTime: dts });
    out.push({ kind: 'chunk', bytes, seq: i + 1, dts: dts / 48000, duration: (frames * AAC) / 48000, keyframe: true, prftMs: 1_800_000_000_000 + dts / 48 });
  }
  return out;
}

export interface MoofTrack { trackId: number; dts: number; durations: number[] }

/** Every moof of a part or segment, in order: each track's decode time and sample durations. */
export function readMoofs(b: Buffer): MoofTrack[][] {
  const out: MoofTrack[][] = [];
  for (let at = 0; at < b.length;) {
    const size = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    if (type === 'moof') {
      const tracks: MoofTrack[] = [];
      for (let t = at + 8; t < at + size;) {
        const tsize = b.readUInt32BE(t);
        if (b.toString('latin1', t + 4, t + 8) === 'traf') {
          // Our writer's layout: tfhd (16 bytes), tfdt v1 (20), trun with 16-byte samples after 8 bytes of count and offset.
          const trackId = b.readUInt32BE(t + 8 + 12);
          const dts = Number(b.readBigUInt64BE(t + 8 + 16 + 12));
          const trun = t + 8 + 16 + 20;
          const count = b.readUInt32BE(trun + 12);
          const durations = Array.from({ length: count }, (_, k) => b.readUInt32BE(trun + 20 + k * 16));
          tracks.push({ trackId, dts, durations });
        }
        t += tsize;
      }
      out.push(tracks);
    }
    at += size;
  }
  return out;
}

/** The top-level box types of a buffer, in order. */
export function topBoxes(b: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < b.length; at += b.readUInt32BE(at)) out.push(b.toString('latin1', at + 4, at + 8));
  return out;
}
