import { describe, expect, it } from 'vitest';
import {
  childBoxes,
  parseMfhd,
  parseMoov,
  parsePrft,
  parseTfdt,
  parseTfhd,
  parseTrun,
  readBoxHeader,
  summarizeMoof,
} from '../../../ingest/fmp4/boxes.js';
import type { BoxRef, MoovTrack } from '../../../ingest/fmp4/boxes.js';
import { Fmp4Error } from '../../../ingest/fmp4/errors.js';
import { box, u32 } from './fixtures.js';

const SYNC = 0x02000000;
const NON_SYNC = 0x01010000;

const full = (type: string, version: number, flags: number, ...payload: Buffer[]) => box(type, u32(version * 2 ** 24 + flags), ...payload);
const ref = (buf: Buffer): BoxRef => readBoxHeader(buf, 0, buf.length);

function badBox(fn: () => unknown): void {
  expect(fn).toThrow(Fmp4Error);
  try {
    fn();
  } catch (err) {
    expect((err as Fmp4Error).code).toBe('FMP4_BAD_BOX');
  }
}

describe('readBoxHeader and childBoxes', () => {
  it('reads 32-bit and 64-bit sizes', () => {
    expect(ref(box('free', Buffer.alloc(4)))).toEqual({ type: 'free', start: 0, headerSize: 8, end: 12 });
    const large = Buffer.concat([u32(1), Buffer.from('mdat'), u32(0, 20), Buffer.alloc(4)]);
    expect(ref(large)).toEqual({ type: 'mdat', start: 0, headerSize: 16, end: 20 });
  });

  it.each([
    ['a header cut short', Buffer.from([0, 0, 0])],
    ['size below the header', Buffer.concat([u32(4), Buffer.from('free')])],
    ['a largesize cut short', Buffer.concat([u32(1), Buffer.from('mdat'), u32(0)])],
    ['a size past the parent', Buffer.concat([u32(100), Buffer.from('free')])],
  ])('rejects %s as FMP4_BAD_BOX', (_name, buf) => {
    badBox(() => readBoxHeader(buf, 0, buf.length));
  });

  it('lists children in order and rejects trailing junk', () => {
    const parent = box('traf', box('tfhd'), box('trun'));
    expect(childBoxes(parent, ref(parent)).map((b) => b.type)).toEqual(['tfhd', 'trun']);
    const junk = box('traf', box('tfhd'), Buffer.from([1, 2, 3]));
    badBox(() => childBoxes(junk, ref(junk)));
  });
});

describe('fragment box parsers', () => {
  it('reads mfhd sequence numbers and tfdt in both versions', () => {
    expect(parseMfhd(full('mfhd', 0, 0, u32(42)), ref(full('mfhd', 0, 0, u32(42))))).toBe(42);
    const v0 = full('tfdt', 0, 0, u32(90000));
    const v1 = full('tfdt', 1, 0, u32(2, 5));
    expect(parseTfdt(v0, ref(v0))).toBe(90000);
    expect(parseTfdt(v1, ref(v1))).toBe(2 * 2 ** 32 + 5);
  });

  it('reads tfhd defaults past the optional base offset and description index', () => {
    const tfhd = full('tfhd', 0, 0x3b, u32(7), u32(0, 1000), u32(1), u32(512), u32(100), u32(NON_SYNC));
    expect(parseTfhd(tfhd, ref(tfhd))).toEqual({ trackId: 7, flags: 0x3b, defaultDuration: 512, defaultFlags: NON_SYNC });
    const bare = full('tfhd', 0, 0x020000, u32(3));
    expect(parseTfhd(bare, ref(bare))).toEqual({ trackId: 3, flags: 0x020000 });
  });

  it.each([
    ['defaults only', 0x001, [u32(3, 0)], { sampleCount: 3, duration: 300 }],
    ['first_sample_flags', 0x005, [u32(2, 0, SYNC)], { sampleCount: 2, duration: 200, firstFlags: SYNC }],
    ['per-sample durations', 0x300, [u32(2), u32(10, 99, 20, 99)], { sampleCount: 2, duration: 30 }],
    ['per-sample flags', 0x700, [u32(2), u32(10, 99, NON_SYNC, 20, 99, SYNC)], { sampleCount: 2, duration: 30, firstFlags: NON_SYNC }],
    ['first flags over sample flags', 0xf05, [u32(1, 0, SYNC), u32(10, 99, NON_SYNC, 0)], { sampleCount: 1, duration: 10, firstFlags: SYNC }],
    ['no samples', 0x700, [u32(0)], { sampleCount: 0, duration: 0 }],
  ])('sums trun durations and finds the first sample flags: %s', (_name, flags, payload, expected) => {
    const trun = full('trun', 0, flags, ...payload);
    expect(parseTrun(trun, ref(trun), 100)).toEqual(expected);
  });

  it('converts prft NTP time to Unix milliseconds', () => {
    const prft = full('prft', 1, 0, u32(1, 2208988800 + 1, 0x80000000), u32(0, 0));
    expect(parsePrft(prft, ref(prft))).toBe(1500);
  });

  it.each([
    ['mfhd', () => full('mfhd', 0, 0), parseMfhd],
    ['tfdt v1', () => full('tfdt', 1, 0, u32(0)), parseTfdt],
    ['tfhd defaults', () => full('tfhd', 0, 0x08, u32(1)), parseTfhd],
    ['prft', () => full('prft', 0, 0, u32(1, 2)), parsePrft],
    ['version/flags', () => box('mfhd', Buffer.from([0, 0])), parseMfhd],
  ])('rejects a truncated %s as FMP4_BAD_BOX', (_name, make, parse) => {
    const buf = make();
    badBox(() => parse(buf, ref(buf)));
  });

  it('rejects a trun whose sample_count outruns its table without looping over it', () => {
    const trun = full('trun', 0, 0x300, u32(0xffffffff), u32(1, 2));
    badBox(() => parseTrun(trun, ref(trun), 0));
  });
});

/** A moov with a video track 1 (timescale 15360) and an audio track 2 (48000), each with a trex. */
function moov(videoTrexFlags = NON_SYNC, withVideo = true): Buffer {
  const trak = (id: number, timescale: number, handler: string, v1: boolean) =>
    box(
      'trak',
      v1 ? full('tkhd', 1, 3, u32(0, 0, 0, 0, id, 0)) : full('tkhd', 0, 3, u32(0, 0, id, 0)),
      box('mdia', v1 ? full('mdhd', 1, 0, u32(0, 0, 0, 0, timescale, 0, 0)) : full('mdhd', 0, 0, u32(0, 0, timescale, 0)),
        full('hdlr', 0, 0, u32(0), Buffer.from(handler), u32(0, 0, 0), Buffer.from('x\0'))),
    );
  const trex = (id: number, dur: number, flags: number) => full('trex', 0, 0, u32(id, 1, dur, 0, flags));
  return box(
    'moov',
    full('mvhd', 0, 0, Buffer.alloc(96)),
    ...(withVideo ? [trak(1, 15360, 'vide', false)] : []),
    trak(2, 48000, 'soun', true),
    box('mvex', ...(withVideo ? [trex(1, 512, videoTrexFlags)] : []), trex(2, 1024, 0)),
  );
}

describe('parseMoov', () => {
  it('reads track ids, handlers, timescales (mdhd v0 and v1) and trex defaults', () => {
    const buf = moov();
    expect([...parseMoov(buf, ref(buf)).values()]).toEqual([
      { id: 1, handler: 'vide', timescale: 15360, defaultDuration: 512, defaultFlags: NON_SYNC },
      { id: 2, handler: 'soun', timescale: 48000, defaultDuration: 1024, defaultFlags: 0 },
    ]);
  });

  it('rejects a trak without mdia as FMP4_BAD_BOX', () => {
    const buf = box('moov', box('trak', full('tkhd', 0, 0, u32(0, 0, 1))));
    badBox(() => parseMoov(buf, ref(buf)));
  });
});

describe('summarizeMoof', () => {
  const tracksOf = (buf: Buffer): Map<number, MoovTrack> => parseMoov(buf, ref(buf));
  const mfhd = full('mfhd', 0, 0, u32(9));
  const traf = (id: number, tfhdFlags: number, tfhdExtra: Buffer[], tfdt: number, trunFlags: number, trun: Buffer[]) =>
    box('traf', full('tfhd', 0, 0x020000 | tfhdFlags, u32(id), ...tfhdExtra), full('tfdt', 1, 0, u32(0, tfdt)), full('trun', 0, trunFlags, ...trun));
  const video = (trunFlags: number, trun: Buffer[], tfhdFlags = 0, tfhdExtra: Buffer[] = []) =>
    traf(1, tfhdFlags, tfhdExtra, 15360, trunFlags, trun);
  const audio = traf(2, 0, [], 96000, 0, [u32(4)]);

  it.each([
    ['trun first_sample_flags sync over a non-sync tfhd default', video(0x4, [u32(1, SYNC)], 0x20, [u32(NON_SYNC)]), NON_SYNC, true],
    ['trun first_sample_flags non-sync', video(0x4, [u32(1, NON_SYNC)]), 0, false],
    ['sample 0 flags sync', video(0x400, [u32(1, SYNC)]), NON_SYNC, true],
    ['sample 0 flags non-sync', video(0x400, [u32(1, NON_SYNC)]), 0, false],
    ['tfhd default non-sync', video(0, [u32(1)], 0x20, [u32(NON_SYNC)]), 0, false],
    ['tfhd default sync over a non-sync trex', video(0, [u32(1)], 0x20, [u32(SYNC)]), NON_SYNC, true],
    ['trex default non-sync', video(0, [u32(1)]), NON_SYNC, false],
    ['trex default sync', video(0, [u32(1)]), 0, true],
    ['no video traf while the init has video', audio, 0, false],
  ])('decides keyframe from %s', (_name, trafBox, trexFlags, keyframe) => {
    const moof = box('moof', mfhd, trafBox);
    expect(summarizeMoof(moof, ref(moof), tracksOf(moov(trexFlags))).keyframe).toBe(keyframe);
  });

  it('calls audio-only chunks keyframes when the init has no video', () => {
    const moof = box('moof', mfhd, audio);
    expect(summarizeMoof(moof, ref(moof), tracksOf(moov(0, false)))).toEqual({ seq: 9, dts: 2, duration: 4 * 1024 / 48000, keyframe: true, earliest: { trackId: 2, ticks: 96000, seconds: 2 } });
  });

  it('takes dts from the first traf, duration from the longest, keyframe from the first video traf, and names the traf that starts earliest', () => {
    const moof = box('moof', mfhd, audio, video(0x104, [u32(2, SYNC), u32(15360, 7680)]));
    expect(summarizeMoof(moof, ref(moof), tracksOf(moov()))).toEqual({ seq: 9, dts: 2, duration: 1.5, keyframe: true, earliest: { trackId: 1, ticks: 15360, seconds: 1 } });
  });

  it('names no earliest traf when a later traf has no decode time', () => {
    const untimed = box('traf', full('tfhd', 0, 0x020000, u32(1)), full('trun', 0, 0x4, u32(1, SYNC)));
    const moof = box('moof', mfhd, audio, untimed);
    expect(summarizeMoof(moof, ref(moof), tracksOf(moov())).earliest).toBeUndefined();
  });

  it.each([
    ['no mfhd', () => box('moof', audio)],
    ['no traf', () => box('moof', mfhd)],
    ['a traf without trun', () => box('moof', mfhd, box('traf', full('tfhd', 0, 0, u32(2)), full('tfdt', 0, 0, u32(0))))],
    ['a traf for an unknown track', () => box('moof', mfhd, traf(5, 0, [], 0, 0, [u32(1)]))],
    ['a first traf without tfdt', () => box('moof', mfhd, box('traf', full('tfhd', 0, 0, u32(2)), full('trun', 0, 0, u32(1))))],
  ])('rejects a moof with %s as FMP4_BAD_BOX', (_name, make) => {
    const moof = make();
    badBox(() => summarizeMoof(moof, ref(moof), tracksOf(moov())));
  });
});
