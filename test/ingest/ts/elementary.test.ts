// PES payloads to FLV tags (ingest/ts/elementary.ts): H.264 Annex B to an avcC and
// length-prefixed frames, AAC ADTS to an AudioSpecificConfig and raw frames.
import { describe, expect, it } from 'vitest';
import { parseAacConfig, parseAvcConfig } from '../../../ingest/flv/codecs.js';
import { FlvError, type FlvTag } from '../../../ingest/flv/reader.js';
import type { Pes } from '../../../ingest/ts/demux.js';
import { STREAM_AAC_ADTS, STREAM_H264, TsElementary, annexBUnits, avcRecord } from '../../../ingest/ts/elementary.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');

// x264's own parameter sets (libx264 -preset ultrafast at 320x240: Constrained Baseline;
// -preset superfast at 640x360: High, 4:2:0, 8 bits).
const BASE_SPS = hex('6742c00dda0507ec0440000003004000000f23c50aa8');
const BASE_PPS = hex('68ce0fc8');
const HIGH_SPS = hex('6764001eacd940a02ff970110000030001000003003c0f162d96');
const HIGH_PPS = hex('68ef8fcb');
const AUD = hex('09f0');
const SEI = hex('0605ff00112233');
const IDR = hex('65888400aabbcc');
const SLICE = hex('419a2233');

describe('annexBUnits', () => {
  const cases: Array<[string, string, string[]]> = [
    ['3-byte start codes', '000001 67aa 000001 68bb', ['67aa', '68bb']],
    ['4-byte start codes (the leading zero is not the unit before\'s)', '00000001 67aa 00000001 68bb', ['67aa', '68bb']],
    ['mixed start codes', '00000001 0910 000001 65aabb', ['0910', '65aabb']],
    ['trailing zero bytes after the last unit', '000001 65aabb 0000 00', ['65aabb']],
    ['bytes before the first start code', 'ffee 000001 41aa', ['41aa']],
    ['two start codes in a row (no empty unit)', '000001 000001 41aa', ['41aa']],
    ['a start code at the very end', '000001 41aa 000001', ['41aa']],
    ['no start code', '65aabbcc', []],
    ['nothing', '', []],
  ];

  it.each(cases)('splits %s', (_name, input, units) => {
    expect(annexBUnits(hex(input)).map((u) => u.toString('hex'))).toEqual(units);
  });
});

describe('avcRecord', () => {
  it('writes a baseline SPS and its PPS as an AVCDecoderConfigurationRecord without the extension bytes', () => {
    const record = avcRecord(BASE_SPS, [BASE_PPS]);
    expect(record.toString('hex')).toBe(`0142c00dffe10016${BASE_SPS.toString('hex')}010004${BASE_PPS.toString('hex')}`);
    expect(parseAvcConfig(record)).toMatchObject({ width: 320, height: 240 });
  });

  it('adds the chroma format and bit depths for a high-profile SPS (ISO/IEC 14496-15 5.3.3.1.2)', () => {
    const record = avcRecord(HIGH_SPS, [HIGH_PPS]);
    expect(record.subarray(0, 8).toString('hex')).toBe(`0164001effe1${HIGH_SPS.length.toString(16).padStart(4, '0')}`);
    // 4:2:0 (0xfc | 1), 8-bit luma and chroma (0xf8 | 0), no SPS extensions.
    expect(record.subarray(-4).toString('hex')).toBe('fdf8f800');
    expect(record.length).toBe(6 + 2 + HIGH_SPS.length + 1 + 2 + HIGH_PPS.length + 4);
    expect(parseAvcConfig(record)).toMatchObject({ width: 640, height: 360 });
  });

  it('carries every PPS', () => {
    const record = avcRecord(BASE_SPS, [BASE_PPS, HIGH_PPS]);
    expect(record.subarray(8 + BASE_SPS.length).toString('hex')).toBe(`020004${BASE_PPS.toString('hex')}0004${HIGH_PPS.toString('hex')}`);
  });

  it('rejects an SPS cut short with FLV_BAD_TAG', () => {
    expect(() => avcRecord(BASE_SPS.subarray(0, 6), [BASE_PPS])).toThrow(expect.objectContaining({ code: 'FLV_BAD_TAG' }));
  });
});

// ---- TsElementary ----

const annexB = (...units: Buffer[]): Buffer => Buffer.concat(units.flatMap((u, i) => [Buffer.from(i % 2 ? [0, 0, 1] : [0, 0, 0, 1]), u]));
const video = (data: Buffer, dts: number, pts = dts): Pes => ({ pid: 256, streamType: STREAM_H264, pts, dts, data });
const audio = (data: Buffer, pts: number): Pes => ({ pid: 257, streamType: STREAM_AAC_ADTS, pts, dts: pts, data });

interface Adts {
  /** profile (object type − 1), sampling_frequency_index, channel_configuration, raw blocks − 1. */
  profile?: number;
  rate?: number;
  channels?: number;
  blocks?: number;
  crc?: boolean;
  /** frame_length as written, if not the true one. */
  length?: number;
}

/** An ADTS frame around `payload` (ISO/IEC 14496-3 1.A.2.2). */
function adts(payload: Buffer, o: Adts = {}): Buffer {
  const header = o.crc ? 9 : 7;
  const len = o.length ?? header + payload.length;
  const channels = o.channels ?? 2;
  const h = Buffer.from([0xff, o.crc ? 0xf0 : 0xf1, ((o.profile ?? 1) << 6) | ((o.rate ?? 3) << 2) | (channels >> 2),
    ((channels & 3) << 6) | (len >> 11), (len >> 3) & 0xff, ((len & 7) << 5) | 0x1f, 0xfc | (o.blocks ?? 0), 0xab, 0xcd]);
  return Buffer.concat([h.subarray(0, header), payload]);
}

const raw = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));
const show = (tags: FlvTag[]): Array<[number, number, string]> => tags.map((t) => [t.type, t.timestamp, t.body.toString('hex')]);

function elementary() {
  const warnings: string[] = [];
  return { es: new TsElementary((_key, m) => warnings.push(m)), warnings };
}

describe('TsElementary: H.264', () => {
  const frame = (key: boolean, cts: number, ...nals: Buffer[]): string => {
    const c = Buffer.alloc(3);
    c.writeIntBE(cts, 0, 3);
    return Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 1]), c, ...nals.flatMap((n) => [Buffer.from([0, 0, 0, n.length]), n])]).toString('hex');
  };
  const header = (sps: Buffer, pps: Buffer): string => `1700000000${avcRecord(sps, [pps]).toString('hex')}`;

  it('gives a sequence header, then a keyframe (0x17) without AUD, SPS and PPS, its cts from PTS − DTS', () => {
    const { es, warnings } = elementary();
    const tags = es.tags(video(annexB(AUD, BASE_SPS, BASE_PPS, SEI, IDR), 90_000, 96_000));
    expect(show(tags)).toEqual([[9, 1000, header(BASE_SPS, BASE_PPS)], [9, 1000, frame(true, 67, SEI, IDR)]]);
    expect(warnings).toEqual([]);
  });

  it('gives other frames as 0x27 and repeats no sequence header for the same SPS and PPS', () => {
    const { es } = elementary();
    es.tags(video(annexB(AUD, BASE_SPS, BASE_PPS, IDR), 90_000));
    expect(show(es.tags(video(annexB(AUD, SLICE), 93_003, 99_009)))).toEqual([[9, 1033, frame(false, 67, SLICE)]]);
    expect(show(es.tags(video(annexB(AUD, BASE_SPS, BASE_PPS, IDR), 96_006)))).toEqual([[9, 1067, frame(true, 0, IDR)]]);
  });

  const changes: Array<[string, Buffer[], string]> = [
    ['a new SPS', [HIGH_SPS, BASE_PPS], header(HIGH_SPS, BASE_PPS)],
    ['a new PPS alone (the SPS kept)', [HIGH_PPS], header(BASE_SPS, HIGH_PPS)],
  ];

  it.each(changes)('gives a new sequence header before the frame for %s', (_name, units, want) => {
    const { es } = elementary();
    es.tags(video(annexB(BASE_SPS, BASE_PPS, IDR), 0));
    expect(show(es.tags(video(annexB(...units, IDR), 3003)))).toEqual([[9, 33, want], [9, 33, frame(true, 0, IDR)]]);
  });

  it('gives only a sequence header for a PES of parameter sets, and frames before any SPS without one', () => {
    const { es } = elementary();
    expect(show(es.tags(video(annexB(SLICE), 0)))).toEqual([[9, 0, frame(false, 0, SLICE)]]);
    expect(show(es.tags(video(annexB(BASE_SPS), 3003)))).toEqual([]); // no PPS yet
    expect(show(es.tags(video(annexB(BASE_PPS), 6006)))).toEqual([[9, 67, header(BASE_SPS, BASE_PPS)]]);
  });

  it('throws FLV_BAD_TAG for an SPS it cannot read', () => {
    const { es } = elementary();
    let err: unknown;
    try {
      es.tags(video(annexB(hex('6742c0'), BASE_PPS, IDR), 0));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlvError);
    expect((err as FlvError).code).toBe('FLV_BAD_TAG');
  });

  it('drops a PES without a timestamp, with a warning', () => {
    const { es, warnings } = elementary();
    expect(es.tags(video(annexB(BASE_SPS, BASE_PPS, IDR), NaN))).toEqual([]);
    expect(es.tags(audio(adts(raw(10, 1)), NaN))).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/PID 256 without a timestamp/), expect.stringMatching(/PID 257 without a timestamp/)]);
  });
});

describe('TsElementary: AAC in ADTS', () => {
  const ASC_48K_STEREO = 'af001190';
  const aac = (payload: Buffer): string => `af01${payload.toString('hex')}`;
  /** ms of frame i from a PES at `pts` (90 kHz), 1024 samples at 48 kHz each. */
  const at = (pts: number, i: number): number => (pts + i * 1920) / 90;

  it('gives the AudioSpecificConfig, then every frame of a PES, 1024 samples apart', () => {
    const { es, warnings } = elementary();
    const f = [raw(10, 1), raw(200, 2), raw(30, 3)];
    const tags = es.tags(audio(Buffer.concat(f.map((p) => adts(p))), 90_000));
    expect(show(tags)).toEqual([[8, 1000, ASC_48K_STEREO], ...f.map((p, i): [number, number, string] => [8, at(90_000, i), aac(p)])]);
    expect(parseAacConfig(tags[0]!.body.subarray(2))).toMatchObject({ sampleRate: 48000, channels: 2 });
    expect(warnings).toEqual([]);
  });

  const cuts: Array<[string, number]> = [['in its payload', 12], ['in its 7-byte header', 3]];

  it.each(cuts)('carries a frame cut %s by the end of its PES into the next, on the first PES\'s timeline', (_name, cut) => {
    const { es } = elementary();
    const [a, b, c] = [adts(raw(20, 4)), adts(raw(40, 5)), adts(raw(25, 6))];
    const first = es.tags(audio(Buffer.concat([a, b.subarray(0, cut)]), 90_000));
    expect(show(first).map(([, ts, body]) => [ts, body])).toEqual([[1000, ASC_48K_STEREO], [1000, aac(raw(20, 4))]]);
    // The next PES's PTS is that of its first whole frame (c); the carried one precedes it.
    const second = es.tags(audio(Buffer.concat([b.subarray(cut), c]), 90_000 + 2 * 1920 + 7));
    expect(show(second)).toEqual([[8, at(90_000, 1), aac(raw(40, 5))], [8, at(90_000, 2), aac(raw(25, 6))]]);
  });

  it('drops a carried fragment when the PES after it does not follow it (a PES between them was lost)', () => {
    const { es, warnings } = elementary();
    const [a, b, c] = [adts(raw(20, 4)), adts(raw(40, 5)), adts(raw(25, 6))];
    es.tags(audio(Buffer.concat([a, b.subarray(0, 12)]), 90_000));
    // The next PES starts 10 frames later: b's rest went with the lost PES.
    const later = 90_000 + 10 * 1920;
    expect(show(es.tags(audio(c, later)))).toEqual([[8, later / 90, aac(raw(25, 6))]]);
    expect(warnings).toEqual([expect.stringMatching(/cut by its PES's end, and the rest of it lost/)]);
  });

  it('leaves the CRC of a protected frame out of the raw frame', () => {
    const { es } = elementary();
    expect(show(es.tags(audio(adts(raw(16, 7), { crc: true }), 0)))).toEqual([[8, 0, ASC_48K_STEREO], [8, 0, aac(raw(16, 7))]]);
  });

  it('gives a new AudioSpecificConfig when the configuration changes (mono 44.1 kHz)', () => {
    const { es } = elementary();
    es.tags(audio(adts(raw(10, 1)), 0));
    const tags = es.tags(audio(adts(raw(10, 2), { rate: 4, channels: 1 }), 9000));
    expect(show(tags)).toEqual([[8, 100, 'af001208'], [8, 100, aac(raw(10, 2))]]);
    expect(parseAacConfig(tags[0]!.body.subarray(2))).toMatchObject({ sampleRate: 44100, channels: 1 });
  });

  const bad: Array<[string, Buffer, RegExp]> = [
    ['a bad sync word', raw(30, 8), /no ADTS sync word/],
    ['channel configuration 0', adts(raw(10, 9), { channels: 0 }), /channel configuration 0/],
    ['several raw data blocks in a frame', adts(raw(10, 10), { blocks: 1 }), /several raw data blocks/],
    ['the reserved sampling frequency index 13', adts(raw(10, 11), { rate: 13 }), /frequency index 13/],
    ['the escape sampling frequency index 15', adts(raw(10, 12), { rate: 15 }), /frequency index 15/],
    ['a frame_length no longer than its header', adts(raw(10, 13), { length: 7 }), /frame_length 7/],
  ];

  it.each(bad)('drops the rest of a PES at %s, with a warning, and reads the next PES', (_name, broken, warning) => {
    const { es, warnings } = elementary();
    const good = adts(raw(12, 14));
    expect(show(es.tags(audio(Buffer.concat([good, broken, good]), 0)))).toEqual([[8, 0, ASC_48K_STEREO], [8, 0, aac(raw(12, 14))]]);
    expect(warnings).toEqual([expect.stringMatching(warning)]);
    expect(show(es.tags(audio(good, 9000)))).toEqual([[8, 100, aac(raw(12, 14))]]);
  });
});
