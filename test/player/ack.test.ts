import { describe, expect, it } from 'vitest';
import { AckSchedule } from '../../player/ack.js';
import { readMoofSeq } from '../../player/boxes.js';
import { parseAck } from '../../relay/flow-ack.js';

const u32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const box = (type: string, ...payload: number[][]): number[] => {
  const body = payload.flat();
  return [...u32(8 + body.length), ...[...type].map((c) => c.charCodeAt(0)), ...body];
};
const mfhd = (seq: number): number[] => box('mfhd', [0, 0, 0, 0], u32(seq));
const bytes = (...boxes: number[][]): Uint8Array => new Uint8Array(boxes.flat());

describe('reading a chunk\'s sequence number', () => {
  it.each<[string, Uint8Array, number | undefined]>([
    ['a moof', bytes(box('moof', mfhd(42)), box('mdat', [1])), 42],
    ['a prft before the moof', bytes(box('prft', [0, 0, 0, 0, ...u32(1), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), box('moof', mfhd(4_000_000_000))), 4_000_000_000],
    ['a truncated mfhd', bytes(box('moof', box('mfhd', [0, 0, 0, 0, 1]))), undefined],
    ['a moof without mfhd', bytes(box('moof', box('traf'))), undefined],
    ['an init segment', bytes(box('ftyp'), box('moov')), undefined],
    ['garbage', new Uint8Array([0, 0, 0, 200, 1, 2]), undefined],
  ])('reads %s as %s', (_label, b, want) => {
    expect(readMoofSeq(b)).toBe(want);
  });
});

describe('when the player acknowledges', () => {
  it('sends at most one ack per interval, always the newest chunk, and a last one after a burst ends', () => {
    const a = new AckSchedule(200);
    const sent: Array<[number, number]> = [];
    // 30 chunks/s for 1 s, then nothing: a sender asking at every chunk and when told to wait.
    let timer = -1;
    for (let t = 0; t <= 2000; t++) {
      const chunk = t <= 1000 && t % 33 === 0 ? t / 33 : -1;
      if (chunk >= 0) a.received(1, chunk);
      if (chunk >= 0 || t === timer) {
        const m = a.take(t);
        if (m) sent.push([t, m.seq]);
        const w = a.waitMs(t);
        timer = w >= 0 ? t + w : -1;
      }
    }
    expect(sent.map(([t]) => t)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(sent.at(-1)).toEqual([1000, 30]);
    expect(a.take(5000)).toBeNull();
  });

  it('forgets what arrived on a socket that dropped', () => {
    const a = new AckSchedule(200);
    a.received(1, 5);
    a.reset();
    expect(a.take(0)).toBeNull();
    expect(a.waitMs(0)).toBe(-1);
  });

  it('writes the exact form the relay reads without a JSON parser', () => {
    const a = new AckSchedule(200);
    a.received(12, 345678);
    const text = JSON.stringify(a.take(0));
    expect(parseAck(new Uint8Array(Buffer.from(text)).buffer)).toEqual({ g: 12, seq: 345678 });
  });
});
