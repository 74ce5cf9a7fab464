import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BURST_SECONDS, PublishRateCap, publishRateCap } from '../../ingest/rate-cap.js';

const MBIT = 1_000_000;

describe('PublishRateCap', () => {
  it.each([
    // bits/s, bytes per step, step ms, steps, passes
    { what: 'a steady publisher at half the cap', bps: 8 * MBIT, bytes: 50_000, stepMs: 100, steps: 600, passes: true },
    { what: 'a steady publisher exactly at the cap', bps: 8 * MBIT, bytes: 100_000, stepMs: 100, steps: 600, passes: true },
    { what: 'a publisher at 1.1 × the cap for a minute', bps: 8 * MBIT, bytes: 110_000, stepMs: 100, steps: 600, passes: false },
    { what: 'a publisher at 1.1 × the cap for one second', bps: 8 * MBIT, bytes: 110_000, stepMs: 100, steps: 10, passes: true },
  ])('lets $what through: $passes', ({ bps, bytes, stepMs, steps, passes }) => {
    const cap = new PublishRateCap(bps, 0);
    let ok = true;
    for (let i = 1; i <= steps && ok; i++) ok = cap.take(bytes, i * stepMs);
    expect(ok).toBe(passes);
  });

  it('takes a burst of the cap times BURST_SECONDS at once, and not a byte more', () => {
    const bps = 10 * MBIT;
    const burst = (bps / 8) * BURST_SECONDS;
    expect(new PublishRateCap(bps, 0).take(burst, 0)).toBe(true);
    expect(new PublishRateCap(bps, 0).take(burst + 1, 0)).toBe(false);
  });

  it('refills at the cap after a burst: a second burst needs BURST_SECONDS of quiet', () => {
    const bps = 10 * MBIT;
    const burst = (bps / 8) * BURST_SECONDS;
    const cap = new PublishRateCap(bps, 0);
    expect(cap.take(burst, 0)).toBe(true);
    expect(cap.take(burst, BURST_SECONDS * 1000)).toBe(true);
    expect(cap.take(1, BURST_SECONDS * 1000)).toBe(false);
  });

  it('does not bank more than one burst however long the publisher was quiet', () => {
    const bps = 10 * MBIT;
    const burst = (bps / 8) * BURST_SECONDS;
    const cap = new PublishRateCap(bps, 0);
    expect(cap.take(burst + 1, 3_600_000)).toBe(false);
  });

  it('ignores a clock that goes back (it never refills then)', () => {
    const cap = new PublishRateCap(8 * MBIT, 10_000);
    expect(cap.take(2 * MBIT, 10_000)).toBe(true);
    expect(cap.take(1, 5_000)).toBe(false);
  });

  it('never refuses a publisher whose every second stays within the cap (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 100_000, max: 200 * MBIT }),
      fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 300 }),
      (bps, steps) => {
        const cap = new PublishRateCap(bps, 0);
        let now = 0;
        for (const [dt, share] of steps) {
          now += dt;
          // What the cap refills in dt, or less: never over the average.
          if (!cap.take(Math.floor((bps / 8) * (dt / 1000) * share), now)) return false;
        }
        return true;
      },
    ));
  });

  it('is off at 0 bits/s', () => {
    expect(publishRateCap(0, 0)).toBeNull();
    expect(publishRateCap(1, 0)).toBeInstanceOf(PublishRateCap);
  });
});
