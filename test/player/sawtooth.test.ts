import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BUCKET_MS, BUCKETS, emptySawtooth, MIN_BUCKETS, RAMP_S_PER_S, sampleSawtooth, STEADY_S, type Sawtooth } from '../../player/sawtooth.js';

const TICK = 50;

/** Plays `seconds` of a buffer shaped by `at(ms)`, sampled every tick; `cap` as the controller gives it. */
function play(seconds: number, at: (ms: number) => number, cap = 1, from: Sawtooth = emptySawtooth()): Sawtooth {
  let s = from;
  for (let now = 0; now <= seconds * 1000; now += TICK) s = sampleSawtooth(s, now, now === 0 ? 0 : TICK, at(now), cap);
  return s;
}
/** A saw-tooth of `period` s: refilled to `top`, drained at 1× until the next burst. */
const saw = (top: number, period: number) => (ms: number): number => top - ((ms / 1000) % period);

describe('the buffer saw-tooth', () => {
  it.each([
    ['a steady stream (a frame\'s saw-tooth) gets none', 60, saw(0.15, 1 / 30), 0, 0.005],
    ['a burst every 0.17 s gets half of it, less half a frame', 60, saw(0.3, 0.17), 0.17 / 2 - STEADY_S - 0.01, 0.17 / 2 - STEADY_S + 0.01],
    ['a burst every 0.23 s gets half of it, less half a frame', 60, saw(0.3, 0.23), 0.23 / 2 - STEADY_S - 0.015, 0.23 / 2 - STEADY_S + 0.015],
    ['nothing before MIN_BUCKETS seconds', (MIN_BUCKETS * BUCKET_MS - TICK) / 1000, saw(0.3, 0.17), 0, 0],
  ] as Array<[string, number, (ms: number) => number, number, number]>)('%s', (_name, seconds, at, lo, hi) => {
    const r = play(seconds, at).sawRelief;
    expect(r).toBeGreaterThanOrEqual(lo);
    expect(r).toBeLessThanOrEqual(hi);
  });

  it('is never more than the cap the controller gives (the jitter allowance)', () => {
    expect(play(60, saw(0.3, 0.17), 0.02).sawRelief).toBeCloseTo(0.02, 9);
    expect(play(60, saw(0.3, 0.17), 0).sawRelief).toBe(0);
  });

  it('counts only what holds in every second of the last ten: one hold in 10 s gives nothing', () => {
    // Steady, with a 0.2 s hold (the buffer drains, then refills to its usual level) every 10 s.
    const hold = (ms: number): number => { const t = ms % 10_000; return t < 200 ? 0.15 - t / 1000 : saw(0.15, 1 / 30)(ms); };
    expect(play(60, hold).sawRelief).toBeLessThan(0.005);
  });

  it('ramps up at most RAMP_S_PER_S, and falls at once', () => {
    let s = emptySawtooth();
    let prev = 0;
    for (let now = 0; now <= 20_000; now += TICK) {
      s = sampleSawtooth(s, now, TICK, saw(0.3, 0.17)(now), 1);
      expect(s.sawRelief - prev).toBeLessThanOrEqual((RAMP_S_PER_S * TICK) / 1000 + 1e-12);
      prev = s.sawRelief;
    }
    expect(prev).toBeGreaterThan(0.05);
    expect(sampleSawtooth(s, 20_050, TICK, 0.3, 0.01).sawRelief).toBe(0.01);
  });

  it('starts over after a gap of two buckets (a stall, a hidden tab)', () => {
    const s = play(30, saw(0.3, 0.17));
    const after = sampleSawtooth(s, 30_000 + 2 * BUCKET_MS, TICK, 0.3, 1);
    expect(after.sawPeaks).toHaveLength(0);
    expect(after.sawRelief).toBe(0);
  });

  it('keeps at most BUCKETS buckets and a relief between 0 and its cap, whatever the buffer does', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 1500 }), fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), fc.constant(NaN))), { maxLength: 300 }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      (steps, cap) => {
        let s = emptySawtooth();
        let now = 0;
        for (const [dt, b] of steps) {
          now += dt;
          s = sampleSawtooth(s, now, dt, b, cap);
          if (s.sawPeaks.length > BUCKETS || !(s.sawRelief >= 0 && s.sawRelief <= cap)) return false;
        }
        return true;
      },
    ));
  });
});
