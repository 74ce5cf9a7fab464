import { describe, expect, it, vi } from 'vitest';
import { MediaClock } from '../../player/clock.js';
import { Emitter } from '../../player/events.js';
import { BitrateMeter, StallTracker } from '../../player/stats.js';

describe('MediaClock', () => {
  it('is unknown before any prft', () => {
    expect(new MediaClock().latencyAt(1, 1000)).toBeNaN();
  });

  it('maps media time through the anchor at or before it', () => {
    const c = new MediaClock();
    c.add(10, 1_000_000);
    c.add(11, 1_001_050); // the encoder's clock ran 50 ms late on this chunk
    expect(c.wallAt(10.5)).toBe(1_000_500);
    expect(c.wallAt(11.2)).toBe(1_001_250);
    expect(c.wallAt(9)).toBe(999_000); // before the first anchor: extrapolate from it
    expect(c.latencyAt(10.5, 1_000_700)).toBeCloseTo(0.2, 9);
  });

  it('lets newer anchors replace overlapping ones (reconnect, realigned generation)', () => {
    const c = new MediaClock();
    c.add(10, 1000);
    c.add(11, 2000);
    c.add(10.5, 9000);
    expect(c.wallAt(11)).toBe(9500);
  });

  it('applies the server clock offset hook', () => {
    const c = new MediaClock();
    c.add(0, 10_000);
    c.offsetMs = 300;
    expect(c.latencyAt(0, 10_000)).toBeCloseTo(0.3, 9);
  });
});

describe('Emitter', () => {
  it('keeps calling the other listeners when one throws', () => {
    const e = new Emitter<{ tick: number }>();
    const seen: number[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    e.on('tick', () => {
      throw new Error('user bug');
    });
    e.on('tick', (n) => seen.push(n));
    expect(() => e.emit('tick', 1)).not.toThrow();
    expect(seen).toEqual([1]);
    spy.mockRestore();
  });

  it('removes listeners with off and clear', () => {
    const e = new Emitter<{ tick: number }>();
    const fn = vi.fn();
    e.on('tick', fn);
    e.off('tick', fn);
    e.emit('tick', 1);
    e.on('tick', fn);
    e.clear();
    e.emit('tick', 2);
    expect(fn).not.toHaveBeenCalled();
    expect(e.has('tick')).toBe(false);
  });
});

describe('stats helpers', () => {
  it('measures bitrate over the window only', () => {
    const m = new BitrateMeter(3000);
    for (let t = 0; t <= 6000; t += 100) m.add(1250, t); // 100 kbit/s
    expect(m.bitsPerSecond(6000)).toBeCloseTo(100_000, -3);
    expect(m.bitsPerSecond(20_000)).toBe(0);
  });

  it('counts stalls and their duration, including one in progress', () => {
    const s = new StallTracker();
    s.begin(100);
    s.begin(150);
    s.end(400);
    s.begin(1000);
    expect(s.count).toBe(2);
    expect(s.ms(1100)).toBe(400);
  });
});
