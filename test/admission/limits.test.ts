import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TokenBuckets, Counters, isLoopback, clientAddress } from '../../admission/limits.js';

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

describe('the client address behind a trusted proxy', () => {
  const trusted = new Set(['127.0.0.1', '10.0.0.2']);
  it.each<[string, string, string, string, string]>([
    ['takes the peer when it is not a trusted proxy, whatever it claims', '203.0.113.9', '198.51.100.1', '', '203.0.113.9'],
    ['takes the right-most X-Forwarded-For hop from a trusted proxy', '127.0.0.1', '6.6.6.6, 198.51.100.1', '', '198.51.100.1'],
    ['skips trusted proxies in the chain', '127.0.0.1', '198.51.100.1, 10.0.0.2', '', '198.51.100.1'],
    ['reads Forwarded when there is no X-Forwarded-For', '127.0.0.1', '', 'for=198.51.100.1;proto=https', '198.51.100.1'],
    ['unquotes and unbrackets an IPv6 Forwarded value with a port', '127.0.0.1', '', 'for="[2001:db8::1]:4711"', '2001:db8::1'],
    ['drops the port of an IPv4 hop', '127.0.0.1', '198.51.100.1:5000', '', '198.51.100.1'],
    ['matches an IPv4-mapped peer to its IPv4 form', '::ffff:127.0.0.1', '198.51.100.1', '', '198.51.100.1'],
    ['stops at an empty hop and counts the nearest proxy', '127.0.0.1', '198.51.100.1, , 10.0.0.2', '', '10.0.0.2'],
    ['keeps a trusted proxy that names no client as itself', '127.0.0.1', '', '', '127.0.0.1'],
    ['cuts an oversized hop to 64 characters', '127.0.0.1', 'x'.repeat(10_000), '', 'x'.repeat(64)],
    ['survives a Forwarded header of nothing but separators', '127.0.0.1', '', ';;,,=;=,for', '127.0.0.1'],
  ])('%s', (_what, peer, xff, fwd, expected) => {
    expect(clientAddress(peer, xff, fwd, trusted)).toBe(expected);
  });

  it('never throws and never returns more than 64 characters from a trusted proxy\'s headers (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (xff, fwd) => {
      const a = clientAddress('127.0.0.1', xff, fwd, trusted);
      expect(a.length).toBeLessThanOrEqual(64);
    }), { numRuns: 2_000 });
  });
});
