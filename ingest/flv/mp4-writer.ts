// Writes the fragmented MP4 the relay carries: an init segment (ftyp+moov, empty sample
// tables, mvex) for one H.264 and/or one AAC track, and one chunk (prft, moof, mdat) at a time.
import type { AacConfig, AvcConfig } from './codecs.js';

export const VIDEO_TRACK_ID = 1;
export const AUDIO_TRACK_ID = 2;
/** Video timescale: FLV timestamps are whole milliseconds. */
export const VIDEO_TIMESCALE = 1000;

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2208988800;
const UNITY_MATRIX = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000];

// sample_flags (ISO/IEC 14496-12 8.8.3.1): sample_depends_on 2 = an I-frame; 1 plus
// sample_is_non_sync_sample for the rest.
const FLAGS_SYNC = 0x02000000;
const FLAGS_NON_SYNC = 0x01010000;

function u32s(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

function box(type: string, ...parts: Buffer[]): Buffer {
  const size = 8 + parts.reduce((n, p) => n + p.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...parts], size);
}

function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  return box(type, u32s([(version << 24) | flags]), ...parts);
}

function zeros(n: number): Buffer {
  return Buffer.alloc(n);
}

export interface InitTracks {
  video?: AvcConfig;
  audio?: AacConfig;
}

function tkhd(id: number, audio: boolean, width = 0, height = 0): Buffer {
  const b = Buffer.alloc(80);
  // creation, modification = 0; track_ID; reserved; duration 0 (fragmented).
  b.writeUInt32BE(id, 8);
  b.writeUInt16BE(audio ? 0x0100 : 0, 32); // volume (after layer, alternate_group)
  u32s(UNITY_MATRIX).copy(b, 36);
  b.writeUInt32BE(width * 0x10000, 72);
  b.writeUInt32BE(height * 0x10000, 76);
  return fullBox('tkhd', 0, 0x3, b); // enabled | in movie
}

function mdhd(timescale: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32BE(timescale, 8);
  b.writeUInt16BE(0x55c4, 16); // language 'und'
  return fullBox('mdhd', 0, 0, b);
}

function hdlr(handler: 'vide' | 'soun', name: string): Buffer {
  return fullBox('hdlr', 0, 0, zeros(4), Buffer.from(handler, 'latin1'), zeros(12), Buffer.from(`${name}\0`, 'latin1'));
}

function stbl(entry: Buffer): Buffer {
  return box('stbl',
    fullBox('stsd', 0, 0, u32s([1]), entry),
    fullBox('stts', 0, 0, u32s([0])),
    fullBox('stsc', 0, 0, u32s([0])),
    fullBox('stsz', 0, 0, u32s([0, 0])),
    fullBox('stco', 0, 0, u32s([0])));
}

const dinf = (): Buffer => box('dinf', fullBox('dref', 0, 0, u32s([1]), fullBox('url ', 0, 1)));

function avc1(v: AvcConfig): Buffer {
  const b = Buffer.alloc(78);
  b.writeUInt16BE(1, 6); // data_reference_index
  b.writeUInt16BE(v.width, 24);
  b.writeUInt16BE(v.height, 26);
  b.writeUInt32BE(0x00480000, 28); // 72 dpi
  b.writeUInt32BE(0x00480000, 32);
  b.writeUInt16BE(1, 40); // frame_count
  b.writeUInt16BE(0x0018, 74); // depth
  b.writeInt16BE(-1, 76);
  return box('avc1', b, box('avcC', v.record));
}

/** An MPEG-4 descriptor (ISO/IEC 14496-1 8.3.3): tag, length in 7-bit groups, body. */
function descriptor(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const len: number[] = [body.length & 0x7f];
  for (let n = body.length >> 7; n > 0; n >>= 7) len.unshift(0x80 | (n & 0x7f));
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

function mp4a(a: AacConfig): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 6); // data_reference_index
  b.writeUInt16BE(a.channels, 16);
  b.writeUInt16BE(16, 18); // samplesize
  b.writeUInt32BE(a.sampleRate < 0x10000 ? a.sampleRate * 0x10000 : 0, 24);
  const decoderConfig = Buffer.alloc(13);
  decoderConfig[0] = 0x40; // objectTypeIndication: MPEG-4 Audio
  decoderConfig[1] = 0x15; // streamType audio (5) << 2 | 1
  const esds = fullBox('esds', 0, 0, descriptor(3,
    Buffer.from([0, AUDIO_TRACK_ID, 0]), // ES_ID, flags
    descriptor(4, decoderConfig, descriptor(5, a.asc)),
    descriptor(6, Buffer.from([2]))));
  return box('mp4a', b, esds);
}

function trak(id: number, handler: 'vide' | 'soun', timescale: number, entry: Buffer, width = 0, height = 0): Buffer {
  const audio = handler === 'soun';
  const mediaHeader = audio ? fullBox('smhd', 0, 0, zeros(4)) : fullBox('vmhd', 0, 1, zeros(8));
  return box('trak', tkhd(id, audio, width, height),
    box('mdia', mdhd(timescale), hdlr(handler, audio ? 'SoundHandler' : 'VideoHandler'),
      box('minf', mediaHeader, dinf(), stbl(entry))));
}

/** ftyp + moov for the given tracks (video is track 1, audio track 2). */
export function initSegment(t: InitTracks): Buffer {
  const ftyp = box('ftyp', Buffer.from('iso5', 'latin1'), u32s([512]), Buffer.from('iso5iso6mp41', 'latin1'));
  const mvhd = Buffer.alloc(96);
  mvhd.writeUInt32BE(1000, 8); // timescale
  mvhd.writeUInt32BE(0x00010000, 16); // rate 1.0
  mvhd.writeUInt16BE(0x0100, 20); // volume 1.0
  u32s(UNITY_MATRIX).copy(mvhd, 32);
  mvhd.writeUInt32BE(3, 92); // next_track_ID
  const traks: Buffer[] = [];
  const trex: Buffer[] = [];
  if (t.video) {
    traks.push(trak(VIDEO_TRACK_ID, 'vide', VIDEO_TIMESCALE, avc1(t.video), t.video.width, t.video.height));
    trex.push(fullBox('trex', 0, 0, u32s([VIDEO_TRACK_ID, 1, 0, 0, 0])));
  }
  if (t.audio) {
    traks.push(trak(AUDIO_TRACK_ID, 'soun', t.audio.sampleRate, mp4a(t.audio)));
    trex.push(fullBox('trex', 0, 0, u32s([AUDIO_TRACK_ID, 1, 0, 0, 0])));
  }
  return Buffer.concat([ftyp, box('moov', fullBox('mvhd', 0, 0, mvhd), ...traks, box('mvex', ...trex))]);
}

export interface Sample {
  data: Buffer;
  /** In the track's timescale. */
  duration: number;
  /** Composition offset (pts − dts) in the track's timescale; may be negative. */
  cts: number;
  sync: boolean;
}

export interface TrackRun {
  trackId: number;
  /** baseMediaDecodeTime: decode time of the first sample, in the track's timescale. */
  dts: number;
  samples: Sample[];
}

const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800; // offset, duration, size, flags, cts

function traf(run: TrackRun, dataOffset: number): Buffer {
  const tfdt = Buffer.alloc(8);
  tfdt.writeUInt32BE(Math.floor(run.dts / 2 ** 32), 0);
  tfdt.writeUInt32BE(run.dts % 2 ** 32, 4);
  const t = Buffer.alloc(8 + run.samples.length * 16);
  t.writeUInt32BE(run.samples.length, 0);
  t.writeInt32BE(dataOffset, 4);
  run.samples.forEach((s, i) => {
    const at = 8 + i * 16;
    t.writeUInt32BE(s.duration, at);
    t.writeUInt32BE(s.data.length, at + 4);
    t.writeUInt32BE(s.sync ? FLAGS_SYNC : FLAGS_NON_SYNC, at + 8);
    t.writeInt32BE(s.cts, at + 12);
  });
  return box('traf',
    fullBox('tfhd', 0, 0x020000, u32s([run.trackId])), // default-base-is-moof
    fullBox('tfdt', 1, 0, tfdt),
    fullBox('trun', 1, TRUN_FLAGS, t)); // version 1: signed composition offsets
}

/** Size of a traf for `n` samples, so data offsets are known before writing. */
const trafSize = (n: number): number => 8 + 16 + 20 + (12 + 8 + n * 16);

/**
 * prft (wall clock `unixMs` for `mediaTime` of track `refTrackId`), moof and mdat for `runs`,
 * as one buffer: the samples are copied once, into it.
 */
export function chunk(seq: number, runs: TrackRun[], prft: { refTrackId: number; unixMs: number; mediaTime: number }): Buffer {
  const moofSize = 8 + 16 + runs.reduce((n, r) => n + trafSize(r.samples.length), 0);
  let offset = moofSize + 8; // data starts after the mdat header; offsets count from the moof
  const trafs = runs.map((r) => {
    const t = traf(r, offset);
    offset += r.samples.reduce((n, s) => n + s.data.length, 0);
    return t;
  });
  const moof = box('moof', fullBox('mfhd', 0, 0, u32s([seq])), ...trafs);
  const ntp = prft.unixMs / 1000 + NTP_UNIX_OFFSET;
  const seconds = Math.floor(ntp);
  const p = Buffer.alloc(20);
  p.writeUInt32BE(prft.refTrackId, 0);
  p.writeUInt32BE(seconds >>> 0, 4);
  p.writeUInt32BE(Math.min(0xffffffff, Math.round((ntp - seconds) * 2 ** 32)), 8);
  p.writeUInt32BE(Math.floor(prft.mediaTime / 2 ** 32), 12);
  p.writeUInt32BE(prft.mediaTime % 2 ** 32, 16);
  const prftBox = fullBox('prft', 1, 0, p);
  const mdatHead = Buffer.alloc(8);
  mdatHead.writeUInt32BE(offset - moofSize, 0);
  mdatHead.write('mdat', 4, 'latin1');
  const parts = [prftBox, moof, mdatHead];
  for (const r of runs) for (const s of r.samples) parts.push(s.data);
  return Buffer.concat(parts, prftBox.length + offset);
}
