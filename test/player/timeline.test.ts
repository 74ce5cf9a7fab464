import { describe, expect, it } from 'vitest';
import { bufferInfo, CONTINUE_WINDOW_S, GAP_NUDGE, gapJumpTarget, placeOffset, SEEK_DEAD_END_MS, SEEK_STUCK_MS, stuckSeekTarget } from '../../player/timeline.js';
import type { PlacementInput } from '../../player/timeline.js';

const ranges = [
  { start: 10, end: 12 },
  { start: 12.5, end: 15 },
];

describe('buffer helpers', () => {
  it('measures contiguous buffer and distance to the live edge', () => {
    expect(bufferInfo(ranges, 11)).toEqual({ contiguous: 1, toEnd: 4, end: 15, lastStart: 12.5 });
    expect(bufferInfo(ranges, 12.2).contiguous).toBe(0);
    expect(bufferInfo(ranges, 12.2).toEnd).toBeCloseTo(2.8, 9);
    expect(bufferInfo([], 3)).toMatchObject({ contiguous: 0, toEnd: NaN, end: NaN });
  });

  it.each<[string, number, boolean, number | undefined]>([
    ['inside a range', 11, false, undefined],
    ['in a hole with the next range 0.3 s ahead', 12.2, false, 12.5 + GAP_NUDGE],
    ['stuck at the very end of a range', 11.95, true, 12.5 + GAP_NUDGE],
    ['near the end of a range but still playing', 11.95, false, undefined],
    ['before the first range', 9, false, 10 + GAP_NUDGE],
    ['too far before the first range', 7, false, undefined],
    ['past the last range', 16, false, undefined],
  ])('jumps gaps: %s', (_name, t, stuck, expected) => {
    expect(gapJumpTarget(ranges, t, 2, stuck)).toBe(expected);
  });
});

describe('a seek left pending', () => {
  it.each<[string, number, number, number | undefined]>([
    ['inside a range, briefly: a seek that is decoding', 11, SEEK_DEAD_END_MS, undefined],
    ['inside a range, for SEEK_STUCK_MS: given up for the media after the gap', 11, SEEK_STUCK_MS, 12.5 + GAP_NUDGE],
    ['at the end of a range (the stale part after an outage), for SEEK_DEAD_END_MS', 11.9, SEEK_DEAD_END_MS, 12.5 + GAP_NUDGE],
    ['at the end of a range, not yet SEEK_DEAD_END_MS', 11.9, SEEK_DEAD_END_MS - 1, undefined],
    ['in a hole, for SEEK_DEAD_END_MS', 12.2, SEEK_DEAD_END_MS, 12.5 + GAP_NUDGE],
    ['at the end of the last range: nothing to go to', 14.9, SEEK_STUCK_MS, undefined],
  ])('%s', (_name, t, pendingMs, expected) => {
    expect(stuckSeekTarget(ranges, t, pendingMs)).toBe(expected);
  });
});

describe('placeOffset', () => {
  const base: PlacementInput = {
    ranges: [{ start: 100, end: 120 }],
    currentTime: 119.8,
    started: true,
    firstDts: 5000,
    generation: 2,
    previousGeneration: 2,
    currentOffset: -4881,
  };

  it('keeps the offset when the same generation reconnects and overlaps the buffered end', () => {
    expect(placeOffset({ ...base, firstDts: 5000.5 })).toBe(-4881); // lands at 119.5
  });

  it('butts a new generation against the buffered end, whatever its media time', () => {
    expect(placeOffset({ ...base, generation: 3, firstDts: 0.02 })).toBeCloseTo(120 - 0.02, 9);
    expect(placeOffset({ ...base, generation: 3, firstDts: 9999 })).toBeCloseTo(120 - 9999, 9);
  });

  it('realigns the same generation when its media time jumped beyond the continue window', () => {
    const firstDts = 120 + 4881 + CONTINUE_WINDOW_S + 5;
    expect(placeOffset({ ...base, firstDts })).toBeCloseTo(120 - firstDts, 9);
  });

  it('lands at currentTime when it is past the buffered end', () => {
    expect(placeOffset({ ...base, generation: 3, currentTime: 130, firstDts: 1 })).toBeCloseTo(129, 9);
  });

  it('keeps encoder timestamps on a fresh MediaSource', () => {
    expect(placeOffset({ ...base, ranges: [], started: false, previousGeneration: undefined, currentOffset: 0 })).toBe(0);
  });

  it('lands at currentTime when everything buffered was evicted', () => {
    expect(placeOffset({ ...base, ranges: [], generation: 3, firstDts: 2 })).toBeCloseTo(117.8, 9);
  });
});
