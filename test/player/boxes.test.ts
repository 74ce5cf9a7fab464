import { describe, expect, it } from 'vitest';
import { firstBoxType, isInitSegment, readBox, readFirstSampleSync, readFirstTfdt, readPrft } from '../../player/boxes.js';

// Hand-built ISO-BMFF: each helper returns the bytes of one box.
const u32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const u64 = (v: number): number[] => [...u32(Math.floor(v / 2 ** 32)), ...u32(v % 2 ** 32)];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const box = (type: string, ...payload: number[][]): number[] => {
  const body = payload.flat();
  return [...u32(8 + body.length), ...ascii(type), ...body];
};
const full = (version: number, flags = 0): number[] => [version, (flags >>> 16) & 255, (flags >>> 8) & 255, flags & 255];
const bytes = (...boxes: number[][]): Uint8Array => new Uint8Array(boxes.flat());

const tfhd = (trackId: number): number[] => box('tfhd', full(0, 0x020000), u32(trackId));
const tfdt0 = (t: number): number[] => box('tfdt', full(0), u32(t));
const tfdt1 = (t: number): number[] => box('tfdt', full(1), u64(t));
const traf = (...children: number[][]): number[] => box('traf', ...children);
const moof = (...trafs: number[][]): number[] => box('moof', box('mfhd', full(0), u32(1)), ...trafs);
const mdat = box('mdat', [1, 2, 3, 4]);

const NTP_UNIX = 2_208_988_800;
/** prft with NTP time for `unixMs` (whole seconds + half a second, exactly representable). */
const prft = (version: 0 | 1, trackId: number, unixSeconds: number, mediaTime: number): number[] =>
  box('prft', full(version), u32(trackId), u32(unixSeconds + NTP_UNIX), u32(2 ** 31), version ? u64(mediaTime) : u32(mediaTime));

describe('boxes reader', () => {
  it.each([
    ['an init segment starting with ftyp', bytes(box('ftyp', ascii('isom'))), 'ftyp', true],
    ['an init segment starting with moov', bytes(box('moov')), 'moov', true],
    ['a chunk starting with prft', bytes(prft(1, 1, 0, 0), moof(), mdat), 'prft', false],
    ['a chunk starting with moof', bytes(moof(), mdat), 'moof', false],
    ['a buffer too short for a header', new Uint8Array([0, 0, 0, 8, 0x66]), '', false],
  ])('reads the first box type of %s', (_name, b, type, init) => {
    expect(firstBoxType(b)).toBe(type);
    expect(isInitSegment(b)).toBe(init);
  });

  it.each([
    ['a version 0 tfdt', bytes(moof(traf(tfhd(1), tfdt0(90_000))), mdat), { trackId: 1, baseMediaDecodeTime: 90_000 }],
    ['a version 1 tfdt beyond 32 bits', bytes(moof(traf(tfhd(2), tfdt1(2 ** 40 + 5))), mdat), { trackId: 2, baseMediaDecodeTime: 2 ** 40 + 5 }],
    ['the first traf of two', bytes(moof(traf(tfhd(7), tfdt0(1000)), traf(tfhd(8), tfdt0(2000))), mdat), { trackId: 7, baseMediaDecodeTime: 1000 }],
    ['a chunk with a prft before the moof', bytes(prft(1, 1, 0, 0), moof(traf(tfhd(1), tfdt0(42))), mdat), { trackId: 1, baseMediaDecodeTime: 42 }],
    ['a traf without tfdt', bytes(moof(traf(tfhd(1))), mdat), undefined],
    ['a moof without traf', bytes(moof(), mdat), undefined],
    ['no moof at all', bytes(box('ftyp'), box('moov')), undefined],
    ['a truncated moof', bytes(moof(traf(tfhd(1), tfdt0(42)))).slice(0, 30), undefined],
    ['an empty buffer', new Uint8Array(0), undefined],
  ])('reads the tfdt and track of %s', (_name, b, expected) => {
    expect(readFirstTfdt(b)).toEqual(expected);
  });

  it.each([
    ['version 1', bytes(prft(1, 1, 1_700_000_000, 123_456), moof(), mdat), { referenceTrackId: 1, unixMs: 1_700_000_000_500, mediaTime: 123_456 }],
    ['version 0', bytes(prft(0, 3, 1_600_000_000, 99), moof(), mdat), { referenceTrackId: 3, unixMs: 1_600_000_000_500, mediaTime: 99 }],
    ['a chunk without prft', bytes(moof(), mdat), undefined],
    ['a prft after the moof (not this chunk’s)', bytes(moof(), prft(1, 1, 0, 0), mdat), undefined],
    ['a truncated prft', bytes(box('prft', full(1), u32(1), u32(0))), undefined],
  ])('converts the NTP time of a prft to Unix ms: %s', (_name, b, expected) => {
    expect(readPrft(b)).toEqual(expected);
  });

  it('rejects box headers that overrun their buffer or are smaller than a header', () => {
    expect(readBox(new Uint8Array([0, 0, 0, 64, ...ascii('moof')]), 0)).toBeUndefined();
    expect(readBox(new Uint8Array([0, 0, 0, 4, ...ascii('moof')]), 0)).toBeUndefined();
    // size 1: a 64-bit largesize follows the type.
    const large = new Uint8Array([0, 0, 0, 1, ...ascii('mdat'), ...u64(20), 9, 9, 9, 9]);
    expect(readBox(large, 0)).toEqual({ type: 'mdat', start: 0, payload: 16, end: 20 });
    // size 0: the box extends to the end of the buffer.
    expect(readBox(new Uint8Array([0, 0, 0, 0, ...ascii('mdat'), 1, 2]), 0)?.end).toBe(10);
  });
});

describe('readFirstSampleSync', () => {
  const NON_SYNC = 0x0001_0000;
  const SYNC = 0x0200_0000; // sample_depends_on = 2 (an I-frame), sync
  const trun = (flags: number, ...fields: number[][]): number[] => box('trun', full(0, flags), u32(1), ...fields);
  const tfhdDefault = (trackId: number, sampleFlags: number): number[] => box('tfhd', full(0, 0x020020), u32(trackId), u32(sampleFlags));
  it.each<[string, Uint8Array, number, boolean | undefined]>([
    ['first_sample_flags: sync', bytes(moof(traf(tfhd(1), tfdt0(0), trun(0x1 | 0x4, u32(0), u32(SYNC)))), mdat), 1, true],
    ['first_sample_flags: non-sync', bytes(moof(traf(tfhd(1), tfdt0(0), trun(0x1 | 0x4, u32(0), u32(NON_SYNC)))), mdat), 1, false],
    ['per-sample flags after duration and size', bytes(moof(traf(tfhd(1), tfdt0(0), trun(0x100 | 0x200 | 0x400, u32(512), u32(100), u32(NON_SYNC)))), mdat), 1, false],
    ['tfhd default_sample_flags', bytes(moof(traf(tfhdDefault(1, SYNC), tfdt0(0), trun(0)))), 1, true],
    ['the audio traf is skipped for the video track', bytes(moof(traf(tfhd(2), trun(0x4, u32(SYNC))), traf(tfhd(1), trun(0x4, u32(NON_SYNC)))), mdat), 1, false],
    ['no flags anywhere (trex default)', bytes(moof(traf(tfhd(1), tfdt0(0), trun(0)))), 1, undefined],
    ['no such track', bytes(moof(traf(tfhd(2), trun(0x4, u32(SYNC))))), 1, undefined],
    ['a truncated trun', bytes(moof(traf(tfhd(1), box('trun', full(0, 0x4), u32(1))))), 1, undefined],
  ])('%s', (_name, b, track, want) => {
    expect(readFirstSampleSync(b, track)).toBe(want);
  });
});
