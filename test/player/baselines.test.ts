// The baseline policies on a simulated clock: a buffer that fills and drains as the test says.
import { describe, expect, it } from 'vitest';
import { baseline, MPEGTS_BASELINE, mpegtsBaseline, SEEK_BASELINE, seekBaseline } from '../../player/baselines.js';
import { initialControlState, SEEK_COOLDOWN_MS } from '../../player/control.js';
import type { ControlInput, ControlParams, ControlState, Decision } from '../../player/control.js';
import { DEFAULTS } from '../../player/config.js';

const TICK_MS = 50;
const P: ControlParams = { ...DEFAULTS, safeMode: 'off', targetLatency: 0.2 };

function input(now: number, bufferAhead: number, bufferEnd = 100): ControlInput {
  return { now, latency: NaN, bufferAhead, bufferEnd, keyframe: NaN, stalls: 0, stalled: false, hidden: false, jitter: NaN, sourceJitter: NaN };
}

type Policy = (input: ControlInput, prev: ControlState, p: ControlParams) => Decision;

/** Runs `policy` every tick for `seconds`, with the buffer ahead given by `buffer(seconds)`. */
function run(policy: Policy, seconds: number, buffer: (s: number) => number): Array<Decision & { s: number; now: number }> {
  let state = initialControlState();
  const out: Array<Decision & { s: number; now: number }> = [];
  for (let now = 0; now <= seconds * 1000; now += TICK_MS) {
    const d = policy(input(now, buffer(now / 1000), 100 + now / 1000), state, P);
    state = d.state;
    out.push({ ...d, s: now / 1000, now });
  }
  return out;
}

describe('baseline', () => {
  it('holds the rate it is given, with the base target, and never seeks', () => {
    const prev = initialControlState();
    const one = baseline(input(1000, 3), prev, P, 1);
    expect(one).toMatchObject({ rate: 1, reason: 'hold', target: 0.2 });
    expect(one.seekTo).toBeUndefined();
    expect(one.state.lastRateChange).toBe(-Infinity);
    expect(one.state.lastNow).toBe(1000);
    const fast = baseline(input(2000, 3), one.state, P, 1.2);
    expect(fast).toMatchObject({ rate: 1.2, reason: 'catch-up', target: 0.2 });
    expect(fast.state.lastRateChange).toBe(2000);
  });

  it('keeps the base target whatever the stall raise or pin would make of it', () => {
    const d = baseline(input(0, 1), { ...initialControlState(), raise: 0.5 }, { ...P, pinned: true, pinnedMinLatency: 1 }, 1);
    expect(d.target).toBe(0.2);
  });
});

describe('seekBaseline', () => {
  it('leaves a buffer under the threshold alone', () => {
    const r = run(seekBaseline, 10, () => SEEK_BASELINE.behind - 0.01);
    expect(r.every((d) => d.rate === 1 && d.seekTo === undefined)).toBe(true);
  });

  it('jumps to buffered end − keep once more is buffered, then waits out the cooldown', () => {
    // The buffer keeps growing: the page never plays it down.
    const r = run(seekBaseline, 6, (s) => 1 + s);
    const seeks = r.filter((d) => d.seekTo !== undefined);
    expect(seeks[0]!.s).toBeCloseTo(1.05, 5); // first tick past 2 s buffered
    expect(seeks[0]!.seekTo).toBeCloseTo(100 + 1.05 - SEEK_BASELINE.keep, 9);
    expect(seeks[0]!.reason).toBe('seek');
    for (let i = 1; i < seeks.length; i++) expect(seeks[i]!.now - seeks[i - 1]!.now).toBe(SEEK_COOLDOWN_MS);
    expect(seeks.length).toBe(3);
    expect(r.every((d) => d.rate === 1)).toBe(true);
  });
});

describe('mpegtsBaseline', () => {
  it('plays fast above the high mark until under the low mark, never below 1×', () => {
    // 0.5 s → 1.5 s over 5 s, then back down to 0.5 s.
    const buffer = (s: number): number => (s <= 5 ? 0.5 + s / 5 : 1.5 - (s - 5) / 5);
    const r = run(mpegtsBaseline, 10, buffer);
    for (const d of r) {
      const b = buffer(d.s);
      const rising = d.s <= 5;
      const fast = rising ? b > MPEGTS_BASELINE.on : b >= MPEGTS_BASELINE.off;
      expect(d.rate, `${d.s} s, ${b} s buffered`).toBe(fast ? MPEGTS_BASELINE.rate : 1);
      expect(d.seekTo).toBeUndefined();
    }
    // One change up, one back down.
    const changes = r.filter((d, i) => i > 0 && d.rate !== r[i - 1]!.rate);
    expect(changes.map((d) => d.rate)).toEqual([MPEGTS_BASELINE.rate, 1]);
  });

  it('returns to 1× when nothing is buffered ahead', () => {
    const fast = mpegtsBaseline(input(0, 2), initialControlState(), P);
    expect(fast.rate).toBe(MPEGTS_BASELINE.rate);
    expect(mpegtsBaseline(input(50, NaN), fast.state, P).rate).toBe(1);
  });
});
