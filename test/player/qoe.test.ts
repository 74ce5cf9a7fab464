import { describe, expect, it } from 'vitest';
import type { PlayerStats } from '../../player/events.js';
import { percentile, qoeReport } from '../../player/qoe.js';

const STATS = {
  startupMs: 412.345,
  latency: 0.2134,
  targetLatency: 0.13,
  stalls: 1,
  stallMs: 120,
  rateChanges: 4,
  jumps: 0,
  droppedFrames: 2,
  playbackRate: 1.05,
  policy: 'nowcast',
  pinned: false,
  clockOffsetMs: -3.21,
} as PlayerStats;

describe('percentile', () => {
  it('is the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 0)).toBe(1);
  });
});

describe('qoeReport', () => {
  it('reports the stats, in ms to 0.1, and the interval’s latency percentiles', () => {
    const latencies = [0.3, 0.1, 0.2, 0.15, 0.25];
    expect(qoeReport(STATS, latencies, 5000.4)).toEqual({
      type: 'qoe',
      intervalMs: 5000,
      startupMs: 412.3,
      latencyP50Ms: 200,
      latencyP95Ms: 300,
      latencyP99Ms: 300,
      latencyMs: 213.4,
      targetMs: 130,
      stalls: 1,
      stallMs: 120,
      rateChanges: 4,
      jumps: 0,
      droppedFrames: 2,
      rate: 1.05,
      policy: 'nowcast',
      pinned: false,
      clockOffsetMs: -3.2,
    });
  });

  it('sends null, not NaN, for what is not known yet', () => {
    const r = qoeReport({ ...STATS, startupMs: NaN, latency: NaN, clockOffsetMs: NaN }, [], 1000);
    expect(r).toMatchObject({ startupMs: null, latencyMs: null, clockOffsetMs: null, latencyP50Ms: null, latencyP95Ms: null, latencyP99Ms: null });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});
