import { describe, expect, it } from 'vitest';
import { parseQoe, QoeAggregator, type QoeReport } from '../../relay/qoe.js';

const good = {
  type: 'qoe',
  intervalMs: 5000,
  startupMs: 180,
  latencyP50Ms: 200,
  latencyP95Ms: 220,
  latencyP99Ms: 230,
  latencyMs: 205,
  targetMs: 200,
  stalls: 0,
  stallMs: 0,
  rateChanges: 3,
  jumps: 0,
  droppedFrames: 1,
  rate: 1,
  policy: 'nowcast',
  pinned: false,
  clockOffsetMs: -0.4,
};

const withLatency = (latencyMs: number | null, extra: Partial<QoeReport> = {}): Record<string, unknown> => ({ ...good, latencyMs, ...extra });

describe('parseQoe', () => {
  it('accepts a well-formed report and returns it without its type', () => {
    const r = parseQoe(good);
    expect(typeof r).toBe('object');
    const { type: _t, ...rest } = good;
    expect(r).toEqual(rest);
  });

  it('ignores unknown fields', () => {
    const r = parseQoe({ ...good, futureField: [1, 2, 3], nested: { a: 1 } });
    expect(typeof r).toBe('object');
    expect(r).not.toHaveProperty('futureField');
  });

  it('accepts nulls where a figure may be unknown', () => {
    const r = parseQoe({ ...good, startupMs: null, latencyP50Ms: null, latencyP95Ms: null, latencyP99Ms: null, latencyMs: null, clockOffsetMs: null });
    expect(typeof r).toBe('object');
  });

  it.each<[string, unknown, RegExp]>([
    ['null', null, /not an object/],
    ['an array', [good], /not an object/],
    ['a string', 'qoe', /not an object/],
    ['another type', { ...good, type: 'ping' }, /type must be "qoe"/],
    ['a missing field', (() => { const { stalls: _s, ...r } = good; return r; })(), /stalls is missing/],
    ['a string number', { ...good, latencyMs: '205' }, /latencyMs must be a finite number/],
    ['NaN-like (null where required)', { ...good, targetMs: null }, /targetMs must be a finite number/],
    ['a negative stall count', { ...good, stalls: -1 }, /stalls must be within/],
    ['a fractional count', { ...good, jumps: 1.5 }, /jumps must be an integer/],
    ['an absurd latency', { ...good, latencyMs: 1e12 }, /latencyMs must be within/],
    ['an absurd rate', { ...good, rate: 100 }, /rate must be within/],
    ['an unknown policy', { ...good, policy: 'turbo' }, /policy must be one of/],
    ['a non-boolean pinned', { ...good, pinned: 1 }, /pinned must be a boolean/],
    ['percentiles out of order', { ...good, latencyP50Ms: 300 }, /latencyP50Ms must be <= latencyP95Ms/],
    ['half-null percentiles', { ...good, latencyP99Ms: null }, /both be null or both numbers/],
    ['an inherited field only', Object.assign(Object.create({ stalls: 0 }), (() => { const { stalls: _s, ...r } = good; return r; })()), /stalls is missing/],
  ])('rejects %s', (_name, input, why) => {
    const r = parseQoe(input);
    expect(typeof r).toBe('string');
    expect(r).toMatch(why);
  });
});

describe('QoeAggregator', () => {
  it('keeps one report per viewer and rate-limits each viewer independently', () => {
    const a = new QoeAggregator('s', { minIntervalMs: 1000 });
    expect(a.offer(1, withLatency(200), 0)).toBe('accepted');
    expect(a.offer(2, withLatency(300), 10)).toBe('accepted');
    // Viewer 1 floods: everything within the next second is dropped and counted.
    for (let t = 1; t < 1000; t += 10) expect(a.offer(1, withLatency(999), t)).toBe('limited');
    expect(a.rateLimited).toBe(100);
    expect(a.report(1)?.latencyMs).toBe(200);
    // Viewer 2 is not affected by viewer 1's flood.
    expect(a.offer(2, withLatency(310), 1010)).toBe('accepted');
    expect(a.offer(1, withLatency(210), 1000)).toBe('accepted');
    expect(a.report(1)?.latencyMs).toBe(210);
    expect(a.size).toBe(2);
  });

  it('drops and counts invalid reports without touching the held one', () => {
    const a = new QoeAggregator('s');
    a.offer(1, withLatency(200), 0);
    expect(a.offer(1, { ...good, rate: 'fast' }, 5000)).toBe('rejected');
    expect(a.offer(1, 'garbage', 6000)).toBe('rejected');
    expect(a.rejected).toBe(2);
    expect(a.report(1)?.latencyMs).toBe(200);
  });

  it.each<[string, Array<number | null>, { p50: number | null; p95: number | null; spread: number | null; spread95: number | null }]>([
    ['no viewers', [], { p50: null, p95: null, spread: null, spread95: null }],
    ['one viewer', [200], { p50: 200, p95: 200, spread: 0, spread95: 0 }],
    ['viewers without a latency', [null, null], { p50: null, p95: null, spread: null, spread95: null }],
    ['two viewers', [200, 260], { p50: 200, p95: 260, spread: 60, spread95: 60 }],
    ['twenty viewers 200..390 ms', Array.from({ length: 20 }, (_, i) => 200 + 10 * i), { p50: 290, p95: 380, spread: 190, spread95: 180 }],
    ['an outlier widens max−min, not p95−p5', [...Array.from({ length: 40 }, () => 200), 5000], { p50: 200, p95: 200, spread: 4800, spread95: 0 }],
  ])('summarises %s', (_name, latencies, want) => {
    const a = new QoeAggregator('s');
    latencies.forEach((l, i) => a.offer(i + 1, withLatency(l), 0));
    const s = a.summary(1000);
    expect(s.viewers).toBe(latencies.length);
    expect({ p50: s.latencyP50Ms, p95: s.latencyP95Ms, spread: s.spreadMs, spread95: s.spreadP95P5Ms }).toEqual(want);
  });

  it('forgets a viewer that leaves, and leaves stale reports out of the summary', () => {
    const a = new QoeAggregator('s', { staleMs: 30_000 });
    a.offer(1, withLatency(200), 0);
    a.offer(2, withLatency(400), 20_000);
    expect(a.summary(25_000).viewers).toBe(2);
    expect(a.summary(40_000)).toMatchObject({ viewers: 1, latencyP50Ms: 400, spreadMs: 0 });
    a.remove(2);
    expect(a.summary(40_000).viewers).toBe(0);
    expect(a.size).toBe(1);
  });

  it('is bounded: past maxViewers the stalest report is evicted', () => {
    const a = new QoeAggregator('s', { maxViewers: 3 });
    for (let v = 1; v <= 5; v++) a.offer(v, withLatency(100 * v), v);
    expect(a.size).toBe(3);
    expect(a.evicted).toBe(2);
    expect(a.report(1)).toBeUndefined();
    expect(a.report(5)?.latencyMs).toBe(500);
    // A viewer that reports again becomes the freshest.
    a.offer(3, withLatency(310), 2000);
    a.offer(6, withLatency(600), 2001);
    expect(a.report(3)).toBeDefined();
    expect(a.report(4)).toBeUndefined();
  });

  it('sums stalls and counts pinned viewers', () => {
    const a = new QoeAggregator('s');
    a.offer(1, withLatency(200, { stalls: 2, stallMs: 900, pinned: true }), 0);
    a.offer(2, withLatency(210, { stalls: 1, stallMs: 100 }), 0);
    expect(a.summary(0)).toMatchObject({ stalls: 3, stallMs: 1000, pinned: 1, accepted: 2, rejected: 0, rateLimited: 0 });
  });

  it('calls onReport with each accepted report, and a throwing listener cannot break it', () => {
    const seen: Array<[string, number | null]> = [];
    const a = new QoeAggregator('cam', {}, (stream, r) => seen.push([stream, r.latencyMs]));
    a.offer(1, withLatency(200), 0);
    a.offer(1, withLatency(201), 10); // limited: not reported
    a.offer(2, { bad: true }, 0); // rejected: not reported
    expect(seen).toEqual([['cam', 200]]);
    a.onReport = () => { throw new Error('metrics bug'); };
    expect(() => a.offer(3, withLatency(200), 0)).not.toThrow();
    expect(a.listenerErrors).toBe(1);
    expect(a.report(3)).toBeDefined();
  });

  it('passes the viewer id to the listener given at construction', () => {
    const seen: Array<[string, number]> = [];
    new QoeAggregator('x', {}, (stream, _r, viewer) => seen.push([stream, viewer])).offer(7, good, 0);
    expect(seen).toEqual([['x', 7]]);
  });
});

describe('QoE plausibility', () => {
  const at = (s: number): number => s * 1000;

  it('rejects and counts a total that goes down, and keeps the held report', () => {
    const a = new QoeAggregator('s');
    expect(a.offer(1, withLatency(200, { stalls: 3, stallMs: 400 }), at(5), 0)).toBe('accepted');
    expect(a.offer(1, withLatency(200, { stalls: 0, stallMs: 0 }), at(10), 0)).toBe('implausible');
    expect(a.offer(1, withLatency(200, { droppedFrames: 0 }), at(15), 0)).toBe('implausible');
    expect(a.implausible).toBe(2);
    expect(a.report(1)?.stalls).toBe(3);
    expect(a.summary(at(15))).toMatchObject({ implausible: 2, accepted: 1 });
  });

  it('rejects more stall time than wall time since the previous report, beyond the slack', () => {
    const a = new QoeAggregator('s');
    a.offer(1, withLatency(200, { stallMs: 1000 }), at(5), 0);
    expect(a.offer(1, withLatency(200, { stallMs: 1000 + 5000 + 5000 + 1 }), at(10), 0)).toBe('implausible');
    expect(a.offer(1, withLatency(200, { stallMs: 1000 + 5000 + 4000 }), at(10), 0)).toBe('accepted');
  });

  it('bounds counts by the time since the socket opened, with a minute of history for a reconnecting player', () => {
    const a = new QoeAggregator('s');
    expect(a.offer(1, withLatency(200, { stalls: 1e9 }), at(2), 0)).toBe('implausible');
    expect(a.offer(2, withLatency(200, { stalls: 5 * 62 + 1 }), at(2), 0)).toBe('implausible');
    expect(a.offer(3, withLatency(200, { stalls: 40, stallMs: 30_000, droppedFrames: 900 }), at(2), 0)).toBe('accepted');
    expect(a.offer(3, withLatency(200, { stalls: 40 + 5 * 10 }), at(12), 0)).toBe('implausible');
  });

  it('rejects latencies outside -5..60 s', () => {
    const a = new QoeAggregator('s');
    expect(a.offer(1, withLatency(600_000), 0)).toBe('rejected');
    expect(a.offer(2, withLatency(-6_000), 0)).toBe('rejected');
    expect(a.offer(3, withLatency(59_000, { latencyP50Ms: 59_000, latencyP95Ms: 59_500, latencyP99Ms: 60_000 }), 0)).toBe('accepted');
  });

  it('passes no implausible report to the listener: a forger adds nothing to the metrics', () => {
    let stalls = 0;
    const prev = new Map<number, number>();
    // The metrics' delta rule: a total that went down restarts the delta.
    const a = new QoeAggregator('s', {}, (_s, r, v) => { const p = prev.get(v) ?? 0; stalls += r.stalls >= p ? r.stalls - p : r.stalls; prev.set(v, r.stalls); });
    [1e9, 0, 1e9, 0, 1e9].forEach((n, i) => a.offer(1, withLatency(200, { stalls: n }), at(i * 1.1), 0));
    expect(stalls).toBe(0);
  });
});
