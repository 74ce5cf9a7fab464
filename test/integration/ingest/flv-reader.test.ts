import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAacConfig, parseAvcConfig, spsSize } from '../../../ingest/flv/codecs.js';
import { FlvReader, TAG_AUDIO, TAG_SCRIPT, TAG_VIDEO } from '../../../ingest/flv/reader.js';
import type { FlvErrorCode, FlvTag } from '../../../ingest/flv/reader.js';
import { prng, randomPieces } from '../../ingest/fmp4/fixtures.js';
import { errorOf } from '../../helpers/flv.js';

const run = promisify(execFile);

// ---- FLV bytes built by hand (FLV spec v10.1, E.2-E.3) ----

interface HeaderSpec {
  signature?: string;
  version?: number;
  /** TypeFlags: 0x04 audio, 0x01 video. */
  flags?: number;
  dataOffset?: number;
}

/** The 9-byte file header and PreviousTagSize0. */
function flvHeader({ signature = 'FLV', version = 1, flags = 0x05, dataOffset = 9 }: HeaderSpec = {}): Buffer {
  const b = Buffer.alloc(13);
  b.write(signature, 0, 'latin1');
  b[3] = version;
  b[4] = flags;
  b.writeUInt32BE(dataOffset, 5);
  return b;
}

interface TagSpec {
  type: number;
  timestamp: number;
  body: Buffer;
  /** The Filter bit (encrypted/pre-processed tag). */
  filter?: boolean;
  /** PreviousTagSize as written; 11 + body length unless given. */
  prevSize?: number;
  /** DataSize as written; the body length unless given. */
  size?: number;
}

/** One tag: 11-byte header (timestamp low 24 bits, then the extended byte), body, PreviousTagSize. */
function flvTag({ type, timestamp, body, filter = false, prevSize, size = body.length }: TagSpec): Buffer {
  const head = Buffer.alloc(11);
  head[0] = type | (filter ? 0x20 : 0);
  head.writeUIntBE(size, 1, 3);
  head.writeUIntBE(timestamp & 0xffffff, 4, 3);
  head[7] = Math.floor(timestamp / 2 ** 24) & 0xff;
  // StreamID (3 bytes) stays 0.
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(prevSize ?? 11 + body.length, 0);
  return Buffer.concat([head, body, trailer]);
}

function flv(tags: TagSpec[], header: HeaderSpec = {}): Buffer {
  return Buffer.concat([flvHeader(header), ...tags.map(flvTag)]);
}

function bytesOf(n: number, seed: number): Buffer {
  const rand = prng(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
}

/** Tags covering the timestamp encoding (24 bits + extended byte), every size byte, and an empty body. */
const TAGS: TagSpec[] = [
  { type: TAG_SCRIPT, timestamp: 0, body: Buffer.from('\x02\x00\x0aonMetaData', 'latin1') },
  { type: TAG_VIDEO, timestamp: 0, body: bytesOf(40, 1) },
  { type: TAG_AUDIO, timestamp: 21, body: bytesOf(7, 2) },
  { type: TAG_AUDIO, timestamp: 22, body: Buffer.alloc(0) },
  { type: TAG_VIDEO, timestamp: 0x00ffffff, body: bytesOf(300, 3) },
  { type: TAG_VIDEO, timestamp: 0x01000000, body: bytesOf(70_000, 4) }, // size needs all 3 bytes
  { type: TAG_AUDIO, timestamp: 0x7fffffff, body: bytesOf(12, 5) },
  { type: TAG_VIDEO, timestamp: 0xfedcba98, body: bytesOf(1, 6) }, // extended byte with its top bit set
  { type: TAG_AUDIO, timestamp: 0xffffffff, body: bytesOf(9, 7) },
];
const STREAM = flv(TAGS);
const MAX = 100_000;

function plain(tags: FlvTag[]): Array<{ type: number; timestamp: number; body: string }> {
  return tags.map((t) => ({ type: t.type, timestamp: t.timestamp, body: t.body.toString('base64') }));
}

const EXPECTED = TAGS.map((t) => ({ type: t.type, timestamp: t.timestamp, body: t.body.toString('base64') }));

function feed(reader: FlvReader, pieces: Buffer[]): FlvTag[] {
  return pieces.flatMap((p) => reader.push(p));
}

const oneByteAtATime = (b: Buffer): Buffer[] => Array.from({ length: b.length }, (_, i) => b.subarray(i, i + 1));

/** Cuts at every tag boundary and one byte either side of it. */
function aroundBoundaries(b: Buffer): Buffer[] {
  const cuts = new Set<number>([0, b.length]);
  for (let at = 13; at < b.length; ) {
    for (const c of [at - 1, at, at + 1, at + 11, at + 12]) if (c > 0 && c < b.length) cuts.add(c);
    at += 11 + b.readUIntBE(at + 1, 3) + 4;
  }
  const sorted = [...cuts].sort((x, y) => x - y);
  return sorted.slice(1).map((end, i) => b.subarray(sorted[i]!, end));
}

describe('FlvReader on a valid stream', () => {
  const splits: Array<[string, () => Buffer[]]> = [
    ['whole', () => [STREAM]],
    ['one byte at a time', () => oneByteAtATime(STREAM)],
    ['cut around every tag boundary', () => aroundBoundaries(STREAM)],
    ...[1, 2, 3, 4, 5].map((seed): [string, () => Buffer[]] => [`in random pieces (seed ${seed})`, () => randomPieces(STREAM, seed, 3000)]),
    ['in random pieces of at most 16 bytes', () => randomPieces(STREAM, 9, 16)],
  ];

  it.each(splits)('yields every tag with its type, timestamp and body when fed %s', (_name, pieces) => {
    const reader = new FlvReader({ maxTagBytes: MAX });
    expect(plain(feed(reader, pieces()))).toEqual(EXPECTED);
    expect(reader.bufferedBytes).toBe(0);
    expect(reader.header).toEqual({ hasAudio: true, hasVideo: true });
  });

  it('reads the extended timestamp byte as the top 8 bits of an unsigned 32-bit value', () => {
    const tags = new FlvReader({ maxTagBytes: MAX }).push(STREAM);
    expect(tags.map((t) => t.timestamp)).toEqual([0, 0, 21, 22, 16_777_215, 16_777_216, 2_147_483_647, 4_275_878_552, 4_294_967_295]);
  });

  it.each([
    [0x05, { hasAudio: true, hasVideo: true }],
    [0x04, { hasAudio: true, hasVideo: false }],
    [0x01, { hasAudio: false, hasVideo: true }],
    [0x00, { hasAudio: false, hasVideo: false }],
    [0xfa, { hasAudio: false, hasVideo: false }], // only reserved bits
  ])('reads TypeFlags %i into the header', (flags, header) => {
    const reader = new FlvReader({ maxTagBytes: MAX });
    expect(reader.push(flvHeader({ flags }))).toEqual([]);
    expect(reader.header).toEqual(header);
  });

  it('has no header until all 13 bytes of header and PreviousTagSize0 are in', () => {
    const reader = new FlvReader({ maxTagBytes: MAX });
    for (const piece of oneByteAtATime(flvHeader()).slice(0, 12)) {
      reader.push(piece);
      expect(reader.header).toBeNull();
    }
    expect(reader.bufferedBytes).toBe(12);
    reader.push(Buffer.from([0]));
    expect(reader.header).not.toBeNull();
    expect(reader.bufferedBytes).toBe(0);
  });

  it('holds exactly the bytes of the unfinished tag, never more than maxTagBytes + 15', () => {
    const reader = new FlvReader({ maxTagBytes: 70_000 });
    const ends = [13]; // where the header and each tag end
    while (ends.at(-1)! < STREAM.length) ends.push(ends.at(-1)! + 15 + STREAM.readUIntBE(ends.at(-1)! + 1, 3));
    let seen = 0;
    let tags = 0;
    for (const piece of randomPieces(STREAM, 21, 700)) {
      tags += reader.push(piece).length;
      seen += piece.length;
      const done = ends.filter((e) => e <= seen);
      expect(tags).toBe(Math.max(0, done.length - 1));
      expect(reader.bufferedBytes).toBe(seen - (done.at(-1) ?? 0));
      expect(reader.bufferedBytes).toBeLessThanOrEqual(70_000 + 15);
    }
    expect(tags).toBe(TAGS.length);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('accepts a tag of exactly maxTagBytes', () => {
    const body = bytesOf(500, 8);
    const tags = new FlvReader({ maxTagBytes: 500 }).push(flv([{ type: TAG_VIDEO, timestamp: 1, body }]));
    expect(tags).toHaveLength(1);
    expect(tags[0]!.body.equals(body)).toBe(true);
  });
});

describe('FlvReader on malformed input', () => {
  const video = (body = bytesOf(20, 11)): TagSpec => ({ type: TAG_VIDEO, timestamp: 40, body });
  const cases: Array<[string, () => Buffer, FlvErrorCode]> = [
    ['a stream not starting with "FLV"', () => flv([video()], { signature: 'FLX' }), 'FLV_BAD_HEADER'],
    ['a lowercase "flv" signature', () => flv([video()], { signature: 'flv' }), 'FLV_BAD_HEADER'],
    ['an MP4 file', () => Buffer.concat([Buffer.from('\x00\x00\x00\x18ftypiso5\x00\x00\x02\x00', 'latin1'), Buffer.alloc(20)]), 'FLV_BAD_HEADER'],
    ['version 0', () => flv([video()], { version: 0 }), 'FLV_BAD_HEADER'],
    ['version 2', () => flv([video()], { version: 2 }), 'FLV_BAD_HEADER'],
    ['a header size of 8', () => flv([video()], { dataOffset: 8 }), 'FLV_BAD_HEADER'],
    ['a header size of 10', () => flv([video()], { dataOffset: 10 }), 'FLV_BAD_HEADER'],
    ['a header size of 0', () => flv([video()], { dataOffset: 0 }), 'FLV_BAD_HEADER'],
    ['a tag one byte over maxTagBytes', () => flv([video(bytesOf(1001, 12))]), 'FLV_TAG_TOO_LARGE'],
    ['a tag declaring 16 MiB', () => flv([{ ...video(), size: 0xffffff }]), 'FLV_TAG_TOO_LARGE'],
    ['a PreviousTagSize one short', () => flv([{ ...video(), prevSize: 11 + 20 - 1 }]), 'FLV_BAD_TAG'],
    ['a PreviousTagSize one over', () => flv([{ ...video(), prevSize: 11 + 20 + 1 }]), 'FLV_BAD_TAG'],
    ['a PreviousTagSize of the body alone', () => flv([{ ...video(), prevSize: 20 }]), 'FLV_BAD_TAG'],
    ['a wrong PreviousTagSize after good tags', () => flv([video(), video(), { ...video(), prevSize: 0 }]), 'FLV_BAD_TAG'],
    ['a DataSize that disagrees with the tag (next tag misread)', () => flv([{ ...video(), size: 19 }, video()]), 'FLV_BAD_TAG'],
    ['the filter (encrypted) bit on a video tag', () => flv([{ ...video(), filter: true }]), 'FLV_BAD_TAG'],
    ['the filter (encrypted) bit on an audio tag after good tags', () => flv([video(), { type: TAG_AUDIO, timestamp: 41, body: bytesOf(9, 13), filter: true }]), 'FLV_BAD_TAG'],
  ];

  const ways: Array<[string, (b: Buffer) => Buffer[]]> = [
    ['whole', (b) => [b]],
    ['one byte at a time', oneByteAtATime],
    ['in random pieces', (b) => randomPieces(b, 5, 32)],
  ];

  describe.each(ways)('fed %s', (_way, split) => {
    it.each(cases)('rejects %s with the documented code, then keeps throwing that same error', (_name, make, code) => {
      const reader = new FlvReader({ maxTagBytes: 1000 });
      const err = errorOf(() => feed(reader, split(make())));
      expect(err.code).toBe(code);
      expect(err.name).toBe('FlvError');
      expect(err.message.startsWith(`${code}: `)).toBe(true);
      expect(errorOf(() => reader.push(STREAM))).toBe(err);
      expect(errorOf(() => reader.push(Buffer.alloc(0)))).toBe(err);
    });
  });

  it.each([
    ['without a byte of its body', 0],
    ['with a few bytes of its body', 5],
  ])('rejects a tag over maxTagBytes from its 11-byte header alone, %s', (_name, extra) => {
    const reader = new FlvReader({ maxTagBytes: 1000 });
    const big = flv([{ type: TAG_VIDEO, timestamp: 0, body: Buffer.alloc(5000) }]);
    const head = big.subarray(0, 13 + 11 + extra);
    const pieces = oneByteAtATime(head);
    feed(reader, pieces.slice(0, 13 + 10));
    expect(reader.bufferedBytes).toBe(10);
    const err = errorOf(() => feed(reader, pieces.slice(13 + 10)));
    expect(err.code).toBe('FLV_TAG_TOO_LARGE');
    expect(err.message).toContain('5000');
    expect(reader.bufferedBytes).toBeLessThanOrEqual(11);
  });

  it('names the byte offset of the bad tag in the error', () => {
    const bytes = flv([{ type: TAG_VIDEO, timestamp: 0, body: Buffer.alloc(20) }, { type: TAG_AUDIO, timestamp: 0, body: Buffer.alloc(3), prevSize: 99 }]);
    for (const pieces of [[bytes], oneByteAtATime(bytes), randomPieces(bytes, 3, 7)]) {
      expect(errorOf(() => feed(new FlvReader({ maxTagBytes: 1000 }), pieces)).message).toContain('at byte 48');
    }
  });

  it('buffers a truncated stream without error and returns the tags before it', () => {
    const reader = new FlvReader({ maxTagBytes: MAX });
    const cut = STREAM.length - 5;
    expect(plain(reader.push(STREAM.subarray(0, cut)))).toEqual(EXPECTED.slice(0, -1));
    expect(reader.bufferedBytes).toBe(11 + 9 + 4 - 5);
  });
});

// ---- Codec configurations ----

/** MSB-first bit writer with Exp-Golomb codes, for hand-made SPS and AudioSpecificConfig. */
class BitWriter {
  readonly #bits: number[] = [];

  u(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.#bits.push(Math.floor(v / 2 ** i) % 2);
    return this;
  }

  ue(v: number): this {
    let len = 0;
    while (2 ** (len + 1) <= v + 1) len++;
    return this.u(len, 0).u(len + 1, v + 1);
  }

  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }

  /** The bits, zero-padded to whole bytes (after rbsp_stop_one_bit when `stopBit`). */
  bytes(stopBit: boolean): Buffer {
    const bits = [...this.#bits, ...(stopBit ? [1] : [])];
    while (bits.length % 8) bits.push(0);
    const out = Buffer.alloc(bits.length / 8);
    bits.forEach((bit, i) => {
      out[i >> 3]! |= bit << (7 - (i & 7));
    });
    return out;
  }
}

/** RBSP to NAL payload: 03 after every 00 00 that precedes a byte <= 3 (H.264 7.4.1). */
function escape(rbsp: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

interface SpsSpec {
  profile: number;
  level?: number;
  spsId?: number;
  chroma?: number;
  separatePlanes?: boolean;
  /** Scaling list deltas (delta_scale) per list; null: list not present. Given means seq_scaling_matrix_present_flag. */
  scaling?: Array<number[] | null>;
  pocType: 0 | 1 | 2;
  pocCycle?: number[];
  widthMbs: number;
  heightMapUnits: number;
  frameMbsOnly: boolean;
  /** left, right, top, bottom in crop units. */
  crop?: [number, number, number, number];
}

const HIGH = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** A whole SPS NAL unit (header byte 0x67) from the fields that decide the picture size. */
function buildSps(s: SpsSpec): Buffer {
  const w = new BitWriter().u(8, s.profile).u(8, 0).u(8, s.level ?? 30).ue(s.spsId ?? 0);
  if (HIGH.has(s.profile)) {
    const chroma = s.chroma ?? 1;
    w.ue(chroma);
    if (chroma === 3) w.u(1, s.separatePlanes ? 1 : 0);
    w.ue(0).ue(0).u(1, 0); // bit depths, transform bypass
    w.u(1, s.scaling ? 1 : 0);
    if (s.scaling) {
      for (let i = 0; i < (chroma === 3 ? 12 : 8); i++) {
        const list = s.scaling[i];
        w.u(1, list ? 1 : 0);
        if (!list) continue;
        // 7.3.2.1.1.1: deltas stop after the first scale of 0 (use the default matrix) or at the list's end.
        if (list.length > (i < 6 ? 16 : 64)) throw new Error(`scaling list ${i} has ${list.length} deltas`);
        let last = 8;
        for (const [j, delta] of list.entries()) {
          w.se(delta);
          last = (last + delta + 256) % 256;
          if (last === 0 && j !== list.length - 1) throw new Error(`scaling list ${i} reaches 0 before its end`);
        }
      }
    }
  }
  w.ue(0); // log2_max_frame_num_minus4
  w.ue(s.pocType);
  if (s.pocType === 0) w.ue(2);
  if (s.pocType === 1) {
    w.u(1, 0).se(-3).se(5).ue(s.pocCycle?.length ?? 0);
    for (const o of s.pocCycle ?? []) w.se(o);
  }
  w.ue(4).u(1, 0); // max_num_ref_frames, gaps_in_frame_num_value_allowed_flag
  w.ue(s.widthMbs - 1).ue(s.heightMapUnits - 1);
  w.u(1, s.frameMbsOnly ? 1 : 0);
  if (!s.frameMbsOnly) w.u(1, 1); // mb_adaptive_frame_field_flag
  w.u(1, 1); // direct_8x8_inference_flag
  w.u(1, s.crop ? 1 : 0);
  for (const c of s.crop ?? []) w.ue(c);
  w.u(1, 0); // vui_parameters_present_flag
  return Buffer.concat([Buffer.from([0x67]), escape(w.bytes(true))]);
}

/** An AVCDecoderConfigurationRecord holding one SPS (and one dummy PPS). */
function avcRecord(sps: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(sps.length);
  return Buffer.concat([Buffer.from([1, sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0, 0xff, 0xe1]), len, sps, Buffer.from([1, 0, 4, 0x68, 0xce, 0x38, 0x80])]);
}

const deltas = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));
/** A full list of 16 or 64 scales, none zero, with wrap-around (8 - 20 + 256 = 244). */
const full16 = [-20, ...deltas(15, (i) => (i % 2 ? 3 : -2))];
const full64 = deltas(64, (i) => ((i * 7) % 11) - 5 || 1);

describe('spsSize on hand-made SPS (paths x264 does not write)', () => {
  const cases: Array<[string, SpsSpec, number, number]> = [
    ['baseline, POC type 1 with a 3-entry cycle', { profile: 66, pocType: 1, pocCycle: [1, -2, 3], widthMbs: 40, heightMapUnits: 30, frameMbsOnly: true }, 640, 480],
    ['main, POC type 1 with offsets that need emulation prevention', { profile: 77, pocType: 1, pocCycle: [-(2 ** 22), 2 ** 22, -(2 ** 23)], widthMbs: 80, heightMapUnits: 45, frameMbsOnly: true }, 1280, 720],
    ['extended profile (no chroma fields), POC type 0', { profile: 88, pocType: 0, widthMbs: 22, heightMapUnits: 18, frameMbsOnly: true }, 352, 288],
    ['sps id 31 and level 0', { profile: 66, level: 0, spsId: 31, pocType: 2, widthMbs: 1, heightMapUnits: 1, frameMbsOnly: true }, 16, 16],
    ['high 4:2:0 with scaling lists: full, absent, default (first scale 0), cut short by a 0', {
      profile: 100, chroma: 1, scaling: [full16, null, [-8], null, full16, null, full64, [4, -12]],
      pocType: 0, widthMbs: 120, heightMapUnits: 68, frameMbsOnly: true, crop: [0, 0, 0, 4],
    }, 1920, 1080],
    ['high 4:2:0 with all eight scaling lists full', {
      profile: 100, chroma: 1, scaling: [full16, full16, full16, full16, full16, full16, full64, full64],
      pocType: 2, widthMbs: 80, heightMapUnits: 45, frameMbsOnly: true,
    }, 1280, 720],
    ['high 4:4:4 with twelve scaling lists and an odd crop in 1-pixel units', {
      profile: 244, chroma: 3, scaling: [full16, null, full16, null, full16, null, full64, full64, null, full64, [-8], full64],
      pocType: 0, widthMbs: 41, heightMapUnits: 23, frameMbsOnly: true, crop: [0, 15, 0, 7],
    }, 641, 361],
    ['4:4:4 with separate colour planes (ChromaArrayType 0)', {
      profile: 244, chroma: 3, separatePlanes: true, pocType: 2, widthMbs: 40, heightMapUnits: 30, frameMbsOnly: true, crop: [1, 1, 1, 1],
    }, 638, 478],
    ['CAVLC 4:4:4 intra (profile 44)', { profile: 44, chroma: 3, pocType: 2, widthMbs: 20, heightMapUnits: 15, frameMbsOnly: true, crop: [0, 3, 0, 1] }, 317, 239],
    ['monochrome (chroma_format_idc 0): 1-pixel crop units', { profile: 100, chroma: 0, pocType: 0, widthMbs: 40, heightMapUnits: 30, frameMbsOnly: true, crop: [0, 3, 0, 5] }, 637, 475],
    ['4:2:2: 2-pixel horizontal, 1-pixel vertical crop units', { profile: 122, chroma: 2, pocType: 0, widthMbs: 40, heightMapUnits: 23, frameMbsOnly: true, crop: [0, 1, 0, 8] }, 638, 360],
    ['4:2:0 crop on all four sides', { profile: 100, chroma: 1, pocType: 2, widthMbs: 40, heightMapUnits: 23, frameMbsOnly: true, crop: [1, 2, 3, 1] }, 634, 360],
    ['field coding 4:2:0 (frame_mbs_only 0): map units are field MB rows, crop unit 4 rows', {
      profile: 77, pocType: 0, widthMbs: 120, heightMapUnits: 34, frameMbsOnly: false, crop: [0, 0, 0, 2],
    }, 1920, 1080],
    ['field coding in monochrome: crop unit 2 rows', { profile: 100, chroma: 0, pocType: 0, widthMbs: 40, heightMapUnits: 15, frameMbsOnly: false, crop: [0, 0, 0, 3] }, 640, 474],
    ['field coding 4:2:2: crop unit 2 rows', { profile: 122, chroma: 2, pocType: 0, widthMbs: 45, heightMapUnits: 18, frameMbsOnly: false, crop: [0, 0, 0, 4] }, 720, 568],
  ];

  it.each(cases)('reads %s', (_name, spec, width, height) => {
    const sps = buildSps(spec);
    expect(spsSize(sps)).toEqual({ width, height });
    expect(parseAvcConfig(avcRecord(sps))).toMatchObject({ width, height });
  });

  it('really exercises emulation prevention in the POC-cycle case', () => {
    const sps = buildSps(cases[1]![1]);
    expect(sps.includes(Buffer.from([0, 0, 3]))).toBe(true);
  });

  const bad: Array<[string, Buffer]> = [
    ['a truncated SPS', buildSps(cases[4]![1]).subarray(0, 12)],
    ['an SPS of only its first 4 bytes', Buffer.from([0x67, 0x64, 0x00, 0x1f])],
    ['an Exp-Golomb code of over 32 bits', Buffer.from([0x67, 0x42, 0x00, 0x1e, 0, 0, 0, 0, 0x80, 0xff])],
    ['a crop wider than the picture', buildSps({ profile: 66, pocType: 2, widthMbs: 2, heightMapUnits: 2, frameMbsOnly: true, crop: [10, 10, 0, 0] })],
    ['a picture over 16384 wide', buildSps({ profile: 66, pocType: 2, widthMbs: 1025, heightMapUnits: 2, frameMbsOnly: true })],
    ['a POC cycle of 256 reference frames', buildSps({ profile: 66, pocType: 1, pocCycle: deltas(256, () => 0), widthMbs: 2, heightMapUnits: 2, frameMbsOnly: true })],
  ];

  it.each(bad)('rejects %s with FLV_BAD_TAG', (_name, sps) => {
    expect(errorOf(() => spsSize(sps)).code).toBe('FLV_BAD_TAG');
  });
});

describe('parseAvcConfig on malformed records', () => {
  const sps = buildSps({ profile: 66, pocType: 2, widthMbs: 20, heightMapUnits: 15, frameMbsOnly: true });
  const record = avcRecord(sps);
  const cases: Array<[string, Buffer]> = [
    ['an empty record', Buffer.alloc(0)],
    ['configurationVersion 0', Buffer.concat([Buffer.from([0]), record.subarray(1)])],
    ['no SPS (numOfSequenceParameterSets 0)', Buffer.concat([record.subarray(0, 5), Buffer.from([0xe0]), record.subarray(6)])],
    ['an SPS length past the end', record.subarray(0, 8 + sps.length - 1)],
    ['an SPS length of 3', Buffer.concat([record.subarray(0, 6), Buffer.from([0, 3]), sps])],
    ['a 6-byte record', record.subarray(0, 6)],
  ];

  it.each(cases)('rejects %s with FLV_BAD_TAG', (_name, bytes) => {
    expect(errorOf(() => parseAvcConfig(bytes)).code).toBe('FLV_BAD_TAG');
  });

  // The SPS length is the u16 at bytes 6-7: a 7-byte record is an FlvError, not a RangeError.
  it('rejects a 7-byte record that ends inside the SPS length with FLV_BAD_TAG', () => {
    const seven = Buffer.from('0142c01effe100', 'hex');
    expect(errorOf(() => parseAvcConfig(seven)).code).toBe('FLV_BAD_TAG');
  });

  it('returns the record itself as the avcC body', () => {
    expect(parseAvcConfig(record).record).toBe(record);
  });
});

describe('parseAacConfig', () => {
  const hex = (h: string) => Buffer.from(h, 'hex');
  /** object type 2, explicit 24-bit rate (index 15), channel configuration 2. */
  const explicitRate = new BitWriter().u(5, 2).u(4, 15).u(24, 12345).u(4, 2).bytes(false);
  /** object type 42 through the escape (31, then 42 - 32 in 6 bits), 48 kHz, stereo. */
  const escapedType = new BitWriter().u(5, 31).u(6, 10).u(4, 3).u(4, 2).bytes(false);

  const cases: Array<[string, Buffer, number, number]> = [
    ['AAC-LC 48 kHz stereo (FFmpeg 11 90)', hex('1190'), 48000, 2],
    ['AAC-LC 44.1 kHz stereo (12 10)', hex('1210'), 44100, 2],
    ['AAC-LC 8 kHz mono (15 88)', hex('1588'), 8000, 1],
    ['AAC-LC 48 kHz mono (11 88)', hex('1188'), 48000, 1],
    ['AAC-LC 44.1 kHz mono (12 08)', hex('1208'), 44100, 1],
    ['AAC-LC 22.05 kHz stereo (13 90)', hex('1390'), 22050, 2],
    ['AAC-LC 96 kHz stereo (10 10)', hex('1010'), 96000, 2],
    ['AAC-LC 7.35 kHz stereo (16 10)', hex('1610'), 7350, 2],
    ['AAC-LC 48 kHz 5.1 (11 b0)', hex('11b0'), 48000, 6],
    ['channel configuration 7 as 8 channels (11 b8)', hex('11b8'), 48000, 8],
    ['channel configuration 0 (a PCE) as stereo (11 80)', hex('1180'), 48000, 2],
    ['HE-AAC with explicit SBR signalling, at its core rate (2b 92 08 00)', hex('2b920800'), 22050, 2],
    ['an explicit 24-bit sampling rate', explicitRate, 12345, 2],
    ['an escaped audio object type', escapedType, 48000, 2],
  ];

  it.each(cases)('reads %s', (_name, asc, sampleRate, channels) => {
    expect(parseAacConfig(asc)).toEqual({ asc, sampleRate, channels });
  });

  it.each([
    ['an empty config', hex('')],
    ['a 1-byte config', hex('11')],
    ['the reserved sampling frequency index 13', new BitWriter().u(5, 2).u(4, 13).u(4, 2).bytes(false)],
    ['the reserved sampling frequency index 14', new BitWriter().u(5, 2).u(4, 14).u(4, 2).bytes(false)],
    ['an explicit rate cut off', new BitWriter().u(5, 2).u(4, 15).u(7, 0).bytes(false)],
    ['an explicit rate of 0', new BitWriter().u(5, 2).u(4, 15).u(24, 0).u(4, 2).bytes(false)],
  ])('rejects %s with FLV_BAD_TAG', (_name, asc) => {
    expect(errorOf(() => parseAacConfig(asc)).code).toBe('FLV_BAD_TAG');
  });
});

// ---- Real SPS from x264 ----

interface X264Case {
  name: string;
  size: string;
  args: string[];
  /** profile_idc the SPS must carry, so each case really takes the path it names. */
  profileIdc: number;
  width: number;
  height: number;
}

const x264 = (preset: string, profile: string, pixFmt: string, ...more: string[]): string[] =>
  ['-preset', preset, '-profile:v', profile, '-pix_fmt', pixFmt, ...more];

// FFmpeg's libx264 wrapper rounds odd sizes down to even ones, so odd crops are only in the
// hand-made SPS above. ultrafast turns main/high into constrained baseline (no CABAC, no 8x8), so those use superfast.
const X264_CASES: X264Case[] = [
  { name: 'baseline 320x240', size: '320x240', args: x264('ultrafast', 'baseline', 'yuv420p'), profileIdc: 66, width: 320, height: 240 },
  { name: 'baseline 1920x1080 (1088 coded)', size: '1920x1080', args: x264('ultrafast', 'baseline', 'yuv420p'), profileIdc: 66, width: 1920, height: 1080 },
  { name: 'baseline 642x362 (cropped right and bottom)', size: '642x362', args: x264('ultrafast', 'baseline', 'yuv420p'), profileIdc: 66, width: 642, height: 362 },
  { name: 'main 640x360', size: '640x360', args: x264('superfast', 'main', 'yuv420p'), profileIdc: 77, width: 640, height: 360 },
  { name: 'main 854x480 (cropped right)', size: '854x480', args: x264('superfast', 'main', 'yuv420p'), profileIdc: 77, width: 854, height: 480 },
  { name: 'main 1920x1080 with B-frames (POC type 0)', size: '1920x1080', args: x264('medium', 'main', 'yuv420p'), profileIdc: 77, width: 1920, height: 1080 },
  { name: 'main 1920x1080 interlaced (frame_mbs_only 0)', size: '1920x1080', args: x264('ultrafast', 'main', 'yuv420p', '-flags', '+ildct+ilme', '-x264opts', 'interlaced=1'), profileIdc: 77, width: 1920, height: 1080 },
  { name: 'high 1280x720', size: '1280x720', args: x264('superfast', 'high', 'yuv420p'), profileIdc: 100, width: 1280, height: 720 },
  { name: 'high 1920x1080', size: '1920x1080', args: x264('superfast', 'high', 'yuv420p'), profileIdc: 100, width: 1920, height: 1080 },
  { name: 'high 650x366 gray (chroma_format_idc 0, 1-pixel crop units)', size: '650x366', args: x264('ultrafast', 'high', 'gray'), profileIdc: 100, width: 650, height: 366 },
  { name: 'high10 640x360', size: '640x360', args: x264('ultrafast', 'high10', 'yuv420p10le'), profileIdc: 110, width: 640, height: 360 },
  { name: 'high422 640x360 (chroma_format_idc 2)', size: '640x360', args: x264('ultrafast', 'high422', 'yuv422p'), profileIdc: 122, width: 640, height: 360 },
  { name: 'high444 640x360 (chroma_format_idc 3)', size: '640x360', args: x264('superfast', 'high444', 'yuv444p'), profileIdc: 244, width: 640, height: 360 },
  { name: 'high444 650x366 (1-pixel crop units)', size: '650x366', args: x264('ultrafast', 'high444', 'yuv444p'), profileIdc: 244, width: 650, height: 366 },
];

let dir = '';
const sequenceHeaders = new Map<string, FlvTag>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nowcast-flv-reader-'));
  await Promise.all(X264_CASES.map(async (c, i) => {
    const file = join(dir, `${i}.flv`);
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${c.size}:rate=30`,
      '-t', '0.2', '-c:v', 'libx264', ...c.args, '-f', 'flv', file]);
    const tags = new FlvReader({ maxTagBytes: 16 * 1024 * 1024 }).push(await readFile(file));
    const header = tags.find((t) => t.type === TAG_VIDEO && t.body[1] === 0);
    if (header) sequenceHeaders.set(c.name, header);
  }));
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('parseAvcConfig on x264 sequence headers', () => {
  it.each(X264_CASES)('reads $width x $height from $name', ({ name, profileIdc, width, height }) => {
    const tag = sequenceHeaders.get(name);
    expect(tag).toBeDefined();
    const body = tag!.body;
    expect(body[0]).toBe(0x17); // keyframe, codec 7 (AVC)
    expect(body[1]).toBe(0); // AVC sequence header
    expect(body.readIntBE(2, 3)).toBe(0);
    const record = body.subarray(5);
    expect(record[1]).toBe(profileIdc);
    const config = parseAvcConfig(record);
    expect(config).toEqual({ record, width, height });
    expect(spsSize(record.subarray(8, 8 + record.readUInt16BE(6)))).toEqual({ width, height });
  });
});
