// ArrivalJitter: the spread of chunk arrival delays that the buffer floor covers.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArrivalJitter, GRACE_MS } from '../../protocol/arrival-jitter.js';

const SPACING = 1000 / 30;

/** Feeds 10 s of 30 fps chunks, chunk i written at i·SPACING and arriving `delay(i)` ms later (in order). */
function feed(delay: (i: number) => number, frames = 400): ArrivalJitter {
  const m = new ArrivalJitter();
  let last = -Infinity;
  for (let i = 0; i < frames; i++) {
    const wall = 1_000_000 + i * SPACING;
    last = Math.max(last, wall + delay(i));
    m.add(last, wall);
  }
  return m;
}
/** 400 chunks: 3 s of join grace (GRACE_MS), then the 10 s window the figure is read over. */
const END = 1_000_000 + 400 * SPACING + 100;

describe('ArrivalJitter', () => {
  const cases: Array<[string, (i: number) => number, number, number]> = [
    ['a steady path has none, whatever its fixed delay or clock offset', () => 5_000, 0, 0.001],
    ['a few ms of scheduling noise stays a few ms', (i) => 40 + ((i * 37) % 5), 0, 0.006],
    ['50 ± 20 ms jitter shows as about its 40 ms range', (i) => 50 + (((i * 7919) % 41) - 20), 0.03, 0.042],
    ['one chunk in 15 held 200 ms (TCP loss) shows the hold', (i) => (i % 15 === 7 ? 230 : 30), 0.19, 0.21],
    ['a single 2 s outage released at once is one sample and leaves the quantile alone', (i) => (i >= 250 && i < 310 ? 2030 - (i - 250) * SPACING : 30), 0, 0.001],
    ['a join burst (the GOP arriving together) counts once', (i) => (i >= 200 && i < 230 ? 1000 - (i - 200) * SPACING : 30), 0, 0.001],
    // The page dispatches a released backlog one message at a time: in Chromium (bench:network's
    // freeze) ~20 ms apart, more than half the chunks' spacing, and the floor rose to 0.37–0.48 s.
    ['a 2 s outage whose backlog is dispatched 20 ms apart is one sample', (i) => (i >= 250 && i < 310 ? 2030 - (i - 250) * (SPACING - 20) : 30), 0, 0.001],
    ['a 2 s outage whose backlog comes at just over real time is one sample', (i) => (i >= 250 && i < 350 ? 2030 - (i - 250) * 1 : 30), 0, 0.001],
    ['a 2 s outage whose backlog comes at real time for a stretch is one sample', (i) => (i >= 250 && i < 330 ? 2030 - Math.max(0, i - 270) * 25 : 30), 0, 0.001],
  ];
  it.each(cases)('%s', (_name, delay, lo, hi) => {
    const j = feed(delay).value(END);
    expect(j).toBeGreaterThanOrEqual(lo);
    expect(j).toBeLessThanOrEqual(hi);
  });

  it('goes on measuring a source that always comes in bursts after an outage (the catch-up ends)', () => {
    // As the relay sees an SRT caller with FFmpeg's MPEG-TS defaults: chunks reach it every
    // frame, stamped up to ~0.2 s earlier in bursts of 7; nothing for 1 s in the middle.
    const m = new ArrivalJitter();
    const t0 = 1_000_000;
    let at = t0;
    for (let i = 0; i < 600; i++) {
      at += i === 300 ? 1000 : SPACING;
      m.add(at, at - (6 - (i % 7)) * 33);
    }
    // The window (10 s) holds only what came after the outage: measured, not left to the catch-up.
    expect(m.value(at)).toBeGreaterThanOrEqual(0.15);
    expect(m.value(at)).toBeLessThanOrEqual(0.2);
  });

  it('does not sample late dispatches while the page joins (the first GRACE_MS)', () => {
    // 10 s of chunks, the window covering all of it: only the grace keeps the early ones out.
    const m = feed((i) => (i < 80 && i % 4 === 0 ? 200 : 30), 300);
    expect(m.value(1_000_000 + 300 * SPACING)).toBe(0);
    const late = feed((i) => (i >= 100 && i < 180 && i % 4 === 0 ? 200 : 30), 300);
    expect(late.value(1_000_000 + 300 * SPACING)).toBeGreaterThan(0.15);
  });

  it('is unknown with too few chunks, forgets what left the window, and resets', () => {
    expect(GRACE_MS).toBe(3000);
    expect(feed(() => 30, 95).value(END)).toBeNaN();
    const m = feed((i) => (i % 15 === 7 ? 230 : 30));
    expect(m.value(END)).toBeGreaterThan(0.15);
    // 11 s later nothing is in the window.
    expect(m.value(END + 11_000)).toBeNaN();
    const r = feed((i) => (i % 15 === 7 ? 230 : 30));
    r.reset();
    expect(r.value(END + 1000)).toBeNaN();
  });

  it('stays a finite spread or NaN under hostile stamps: silences, bursts, stamps from the future or far past, never throwing', () => {
    // A publisher's stamps reach the relay's measure: any wall clock, any spacing, outages included.
    const step = fc.record({
      gap: fc.oneof(fc.double({ min: 0, max: 40, noNaN: true }), fc.double({ min: 500, max: 5000, noNaN: true })),
      wall: fc.oneof(fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.constantFrom(NaN, Infinity, -Infinity, 0)),
    });
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 3000 }), (steps) => {
      const m = new ArrivalJitter();
      let at = 1_000_000;
      for (const x of steps) {
        at += x.gap;
        m.add(at, x.wall);
      }
      const v = m.value(at);
      expect(Number.isNaN(v) || (Number.isFinite(v) && v >= 0)).toBe(true);
    }), { numRuns: 200 });
  });

  it('ignores samples it cannot place', () => {
    const m = feed(() => 30);
    m.add(NaN, 1);
    m.add(END, Infinity);
    expect(m.value(END + 300)).toBe(0);
  });
});
