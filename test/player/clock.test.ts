import { describe, expect, it, vi } from 'vitest';
import { ClockSync, MediaClock } from '../../player/clock.js';
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

describe('ClockSync', () => {
  it('takes offset and RTT from the min-RTT sample of the window', () => {
    const c = new ClockSync(30_000, 16);
    expect(c.offsetMs).toBeNaN();
    // Client clock 500 ms behind the server. Queueing delays the return path of some pongs.
    c.add(1000, 1040, 1000 + 500 + 5); // rtt 40, asymmetric: offset error 15 ms
    c.add(2000, 2001, 2000 + 500 + 0.5); // rtt 1: the good one
    c.add(3000, 3070, 3000 + 500 + 60);
    expect(c.rttMs).toBe(1);
    expect(c.offsetMs).toBeCloseTo(500, 6);
  });

  it('forgets samples past the window, so a changed path is picked up', () => {
    const c = new ClockSync(10_000, 16);
    c.add(0, 1, 500.5);
    c.add(20_000, 20_010, 20_000 + 700 + 5);
    expect(c.rttMs).toBe(10);
    expect(c.offsetMs).toBeCloseTo(700, 6);
  });

  it('keeps at most maxSamples and ignores impossible samples', () => {
    const c = new ClockSync(1e9, 4);
    c.add(0, 1, 0.5);
    for (let i = 1; i <= 4; i++) c.add(i * 1000, i * 1000 + 20, i * 1000 + 10);
    expect(c.count).toBe(4);
    expect(c.rttMs).toBe(20);
    expect(c.add(10, 5, 7)).toBeUndefined(); // negative RTT
    expect(c.add(10, 20, NaN)).toBeUndefined();
  });

  it('feeds MediaClock latency with the offset applied', () => {
    const sync = new ClockSync();
    sync.add(10_000, 10_002, 10_000 + 1 + 800); // server 800 ms ahead
    const m = new MediaClock();
    m.add(5, 11_000); // server wall clock of media 5 s
    m.offsetMs = sync.offsetMs;
    // Local 10 400 = server 11 200: the frame written at 11 000 is 0.2 s old.
    expect(m.latencyAt(5, 10_400)).toBeCloseTo(0.2, 6);
  });
});
