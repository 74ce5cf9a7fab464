import { describe, expect, it } from 'vitest';
import { AckSchedule, QUICK_ACK_MS, QUICK_ACKS, SILENCE_MS } from '../../player/ack.js';
import { ACK_INTERVAL_MS } from '../../protocol/messages.js';
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
  /** Chunks arrive at the times `arrivals` gives (ms → seq or -1); a sender asks at every chunk and when told to wait. */
  const drive = (a: AckSchedule, until: number, arrivals: (t: number) => number): Array<[number, number]> => {
    const sent: Array<[number, number]> = [];
    let timer = -1;
    for (let t = 0; t <= until; t++) {
      const chunk = arrivals(t);
      if (chunk >= 0) a.received(1, chunk, t);
      if (chunk >= 0 || t === timer) {
        const m = a.take(t);
        if (m) sent.push([t, m.seq]);
        const w = a.waitMs(t);
        timer = w >= 0 ? t + w : -1;
      }
    }
    return sent;
  };

  it('sends at most one ack per interval, always the newest chunk, and a last one after a burst ends', () => {
    const a = new AckSchedule(200);
    // 30 chunks/s from 3 s for 1 s (after a first chunk at 0), then nothing.
    const sent = drive(a, 6000, (t) => (t === 0 ? 0 : t >= 3000 && t <= 4000 && (t - 3000) % 33 === 0 ? t : -1));
    const steady = sent.filter(([t]) => t >= 3000 + QUICK_ACK_MS * (QUICK_ACKS + 1));
    expect(steady.map(([t]) => t)).toEqual([3400, 3600, 3800, 4000]);
    expect(sent.at(-1)).toEqual([4000, 3990]);
    expect(a.take(9000)).toBeNull();
  });

  it('after a silence acks at once and then a few times quickly, so the relay learns a backlog landed before a whole interval passed', () => {
    const a = new AckSchedule(500);
    // 30 chunks/s, a silence of 2 s (the path froze), then the backlog lands in 10 ms and live media goes on.
    const sent = drive(a, 6000, (t) => ((t < 1000 && t % 33 === 0) || (t >= 3000 && (t - 3000) % 33 === 0) || (t > 3000 && t < 3010) ? t : -1));
    const after = sent.filter(([t]) => t >= 3000).map(([t]) => t);
    expect(SILENCE_MS).toBeLessThan(2000);
    expect(after.slice(0, QUICK_ACKS + 1)).toEqual([3000, 3000 + QUICK_ACK_MS, 3000 + 2 * QUICK_ACK_MS]);
    // Then the usual interval; before the silence, only the join (a silence too) was acked quickly.
    expect(after[QUICK_ACKS + 1]! - after[QUICK_ACKS]!).toBe(500);
    const before = sent.filter(([t]) => t < 1000).map(([t]) => t);
    expect(before.slice(0, QUICK_ACKS + 1)).toEqual([0, QUICK_ACK_MS, 2 * QUICK_ACK_MS]);
    expect(before.slice(QUICK_ACKS + 1).every((t, i) => t - before[QUICK_ACKS + i]! >= 500)).toBe(true);
  });

  it('does not count a source that merely paused for less than the silence as one', () => {
    const a = new AckSchedule(500);
    const sent = drive(a, 4000, (t) => (t % 33 === 0 && (t < 2000 || t >= 2000 + SILENCE_MS - 100) ? t : -1));
    const gaps = sent.slice(1).map(([t], i) => t - sent[i]![0]);
    expect(gaps.filter((g) => g < 500).length).toBeLessThanOrEqual(QUICK_ACKS);
  });

  it('takes the interval a relay asks for within bounds, and the default for anything else, whatever an earlier relay asked', () => {
    const a = new AckSchedule();
    for (const bad of [0, 10, 49, 2001, 1e9, NaN, Infinity, 150.5, '200', null, undefined, { ms: 200 }]) {
      a.askedFor(200);
      expect(a.intervalMs).toBe(200);
      a.askedFor(bad);
      expect(a.intervalMs).toBe(ACK_INTERVAL_MS);
    }
    a.askedFor(200);
    const sent = drive(a, 2000, (t) => (t % 33 === 0 ? t : -1));
    const steady = sent.filter(([t]) => t > 500).map(([t]) => t);
    expect(steady.slice(1).every((t, i) => t - steady[i]! >= 200 && t - steady[i]! < 240)).toBe(true);
  });

  it('forgets what arrived on a socket that dropped', () => {
    const a = new AckSchedule(200);
    a.received(1, 5, 0);
    a.reset();
    expect(a.take(0)).toBeNull();
    expect(a.waitMs(0)).toBe(-1);
  });

  it('writes the exact form the relay reads without a JSON parser', () => {
    const a = new AckSchedule(200);
    a.received(12, 345678, 0);
    const text = JSON.stringify(a.take(0));
    expect(parseAck(new Uint8Array(Buffer.from(text)).buffer)).toEqual({ g: 12, seq: 345678 });
  });
});
