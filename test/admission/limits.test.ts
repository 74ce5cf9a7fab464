import { describe, expect, it } from 'vitest';
import { TokenBuckets, Counters, isLoopback } from '../../admission/limits.js';

describe('the per-key token bucket', () => {
  it('allows a burst, then the steady rate, on a simulated clock', () => {
    const b = new TokenBuckets(2, 5);
    let t = 0;
    const allowed = (): number => { let n = 0; for (let i = 0; i < 20; i++) if (b.take('1.2.3.4', t)) n++; return n; };
    expect(allowed()).toBe(5);
    t += 1000;
    expect(allowed()).toBe(2);
    t += 10_000;
    expect(allowed()).toBe(5);
  });

  it('keeps keys apart', () => {
    const b = new TokenBuckets(1, 1);
    expect(b.take('a', 0)).toBe(true);
    expect(b.take('a', 0)).toBe(false);
    expect(b.take('b', 0)).toBe(true);
  });

  it('stays bounded under address churn by forgetting full buckets', () => {
    const b = new TokenBuckets(10, 10, 1000);
    for (let i = 0; i < 50_000; i++) b.take(`10.0.${i >> 8}.${i & 255}`, i * 10);
    expect(b.size).toBeLessThanOrEqual(1001);
  });
});

describe('connection counters', () => {
  it('refuse past the maximum and free a slot on remove', () => {
    const c = new Counters();
    expect(c.tryAdd('ip', 2)).toBe(true);
    expect(c.tryAdd('ip', 2)).toBe(true);
    expect(c.tryAdd('ip', 2)).toBe(false);
    c.remove('ip');
    expect(c.tryAdd('ip', 2)).toBe(true);
    c.remove('ip'); c.remove('ip');
    expect(c.keys).toBe(0);
  });
});

describe('loopback detection', () => {
  it.each([
    ['127.0.0.1', true], ['127.5.6.7', true], ['::1', true], ['::ffff:127.0.0.1', true],
    ['0000:0000:0000:0000:0000:0000:0000:0001', true], ['10.0.0.1', false], ['::ffff:10.0.0.1', false], ['128.0.0.1', false],
  ])('treats %s as loopback: %s', (ip, yes) => {
    expect(isLoopback(ip)).toBe(yes);
  });
});
