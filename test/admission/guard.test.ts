import { describe, expect, it } from 'vitest';
import { Guard, type GuardOptions } from '../../admission/guard.js';
import { signToken } from '../../admission/auth.js';

const open: GuardOptions = {
  secret: 's3cret', publishKeys: [], requirePublishAuth: false, requireViewerToken: false, allowedOrigins: [],
  maxStreams: 100, maxViewersPerStream: 1000, maxViewersPerIp: 50, upgradesPerSecondPerIp: 20, limitLoopback: false,
  maxWaitingViewers: 1000, maxWaitingViewersPerIp: 50, maxWaitMs: 60_000,
};
const NOW = 1_800_000_000_000;
const viewer = (o: Partial<Parameters<Guard['admitViewer']>[0]> = {}): Parameters<Guard['admitViewer']>[0] =>
  ({ ip: '203.0.113.9', stream: 'cam1', origin: '', token: undefined, live: true, ...o });

describe('the viewer guard', () => {
  it('admits anyone by default and counts them', () => {
    const g = new Guard(open);
    expect(g.admitViewer(viewer(), NOW)).toBeNull();
  });

  it.each<[string, Partial<GuardOptions>, Partial<Parameters<Guard['admitViewer']>[0]>, string]>([
    ['an origin outside the allowlist', { allowedOrigins: ['https://shop.example'] }, { origin: 'https://evil.example' }, 'ORIGIN_NOT_ALLOWED'],
    ['no token when one is required', { requireViewerToken: true }, {}, 'TOKEN_MISSING'],
    ['a token for another stream', { requireViewerToken: true }, { token: signToken('s3cret', { s: 'cam2', a: 'view', e: NOW / 1000 + 60 }) }, 'TOKEN_WRONG_STREAM'],
    ['a publish token used to view', { requireViewerToken: true }, { token: signToken('s3cret', { s: 'cam1', a: 'publish', e: NOW / 1000 + 60 }) }, 'TOKEN_WRONG_SCOPE'],
    ['a waiting viewer past the total of waiting viewers', { maxWaitingViewers: 0 }, { live: false }, 'WAITING_LIMIT'],
    ['a waiting viewer past its address\'s waiting viewers', { maxWaitingViewersPerIp: 0 }, { live: false }, 'WAITING_LIMIT_IP'],
  ])('refuses %s', (_what, opts, v, code) => {
    expect(new Guard({ ...open, ...opts }).admitViewer(viewer(v), NOW)?.code).toBe(code);
  });

  it('admits a valid token and an allowed origin', () => {
    const g = new Guard({ ...open, requireViewerToken: true, allowedOrigins: ['https://shop.example'] });
    const token = signToken('s3cret', { s: 'cam1', a: 'view', e: NOW / 1000 + 60 });
    expect(g.admitViewer(viewer({ token, origin: 'https://shop.example' }), NOW)).toBeNull();
  });

  it('limits viewers per stream and per address, and frees slots on release', () => {
    const g = new Guard({ ...open, maxViewersPerStream: 3, maxViewersPerIp: 2, upgradesPerSecondPerIp: 100 });
    expect(g.admitViewer(viewer(), NOW)).toBeNull();
    expect(g.admitViewer(viewer(), NOW)).toBeNull();
    expect(g.admitViewer(viewer(), NOW)?.code).toBe('VIEWER_LIMIT_IP');
    expect(g.admitViewer(viewer({ ip: '198.51.100.1' }), NOW)).toBeNull();
    expect(g.admitViewer(viewer({ ip: '198.51.100.2' }), NOW)?.code).toBe('VIEWER_LIMIT_STREAM');
    g.releaseViewer('203.0.113.9', 'cam1');
    expect(g.admitViewer(viewer(), NOW)).toBeNull();
  });

  it('limits upgrades per second per address but exempts loopback unless told otherwise', () => {
    const g = new Guard({ ...open, upgradesPerSecondPerIp: 2, maxViewersPerIp: 1000 });
    const results = Array.from({ length: 10 }, () => g.admitViewer(viewer(), NOW)?.code ?? 'ok');
    expect(results.filter((r) => r === 'ok')).toHaveLength(4); // burst of 2× the rate
    expect(results).toContain('UPGRADE_RATE');
    for (let i = 0; i < 100; i++) expect(g.admitViewer(viewer({ ip: '127.0.0.1' }), NOW)).toBeNull();
    const strict = new Guard({ ...open, upgradesPerSecondPerIp: 2, limitLoopback: true });
    expect(Array.from({ length: 10 }, () => strict.admitViewer(viewer({ ip: '127.0.0.1' }), NOW)?.code)).toContain('UPGRADE_RATE');
  });
});

describe('waiting viewers', () => {
  it('admits viewers of names that are not live on their own budget, never against maxStreams', () => {
    const g = new Guard({ ...open, maxStreams: 1, maxWaitingViewers: 1000, upgradesPerSecondPerIp: 1e6 });
    for (let i = 0; i < 500; i++) expect(g.admitViewer(viewer({ ip: `198.51.100.${i % 250}`, stream: `w${i}`, live: false }), NOW)).toBeNull();
    expect(g.waitingViewers).toBe(500);
    expect(g.admitPublisher({ stream: 'real', streams: 0, streamExists: false })).toBeNull();
  });

  it('bounds waiting viewers per address, except loopback, and in total for everyone, and frees slots on release', () => {
    const g = new Guard({ ...open, maxWaitingViewers: 4, maxWaitingViewersPerIp: 2, upgradesPerSecondPerIp: 1e6 });
    const wait = (ip: string): string | null => g.admitViewer(viewer({ ip, live: false }), NOW)?.code ?? null;
    expect([wait('203.0.113.1'), wait('203.0.113.1'), wait('203.0.113.1')]).toEqual([null, null, 'WAITING_LIMIT_IP']);
    expect([wait('127.0.0.1'), wait('127.0.0.1'), wait('127.0.0.1')]).toEqual([null, null, 'WAITING_LIMIT']);
    // A refused waiter holds no viewer slot either: live viewers from that address still fit.
    expect(g.admitViewer(viewer({ ip: '203.0.113.1', live: true }), NOW)).toBeNull();
    g.releaseWaiting('127.0.0.1');
    expect(wait('127.0.0.1')).toBeNull();
    expect(g.waitingViewers).toBe(4);
  });

  it('applies the per-address waiting limit to loopback when limitLoopback is set', () => {
    const g = new Guard({ ...open, maxWaitingViewersPerIp: 1, limitLoopback: true, upgradesPerSecondPerIp: 1e6 });
    expect(g.admitViewer(viewer({ ip: '127.0.0.1', live: false }), NOW)).toBeNull();
    expect(g.admitViewer(viewer({ ip: '127.0.0.1', live: false }), NOW)?.code).toBe('WAITING_LIMIT_IP');
  });
});

describe('the client address behind proxies', () => {
  it('believes forwarding headers only from a trusted proxy, and takes the right-most untrusted hop', () => {
    const g = new Guard({ ...open, trustedProxies: ['127.0.0.1', '10.0.0.2'] });
    expect(g.clientIp('203.0.113.5', '198.51.100.7', '')).toBe('203.0.113.5');
    expect(g.clientIp('127.0.0.1', '198.51.100.7', '')).toBe('198.51.100.7');
    // The client wrote 1.1.1.1 itself; the proxies appended the real hops.
    expect(g.clientIp('127.0.0.1', '1.1.1.1, 198.51.100.7, 10.0.0.2', '')).toBe('198.51.100.7');
    expect(g.clientIp('127.0.0.1', '', 'for=1.1.1.1, for="198.51.100.7:4711";proto=https')).toBe('198.51.100.7');
    expect(g.clientIp('127.0.0.1', '', 'For="[2001:db8:cafe::17]:4711"')).toBe('2001:db8:cafe::17');
    expect(g.clientIp('::ffff:127.0.0.1', '198.51.100.7', '')).toBe('198.51.100.7');
    // No header, or only proxies in it: the nearest proxy itself.
    expect(g.clientIp('127.0.0.1', '', '')).toBe('127.0.0.1');
    expect(g.clientIp('127.0.0.1', '10.0.0.2', '')).toBe('10.0.0.2');
  });

  it('counts a proxied client against the per-address limits that exempt the loopback proxy', () => {
    const g = new Guard({ ...open, maxViewersPerIp: 1, trustedProxies: ['127.0.0.1'] });
    const ip = g.clientIp('127.0.0.1', '198.51.100.7', '');
    expect(g.admitViewer(viewer({ ip }), NOW)).toBeNull();
    expect(g.admitViewer(viewer({ ip }), NOW)?.code).toBe('VIEWER_LIMIT_IP');
  });
});

describe('the publisher guard', () => {
  it.each<[string, Partial<GuardOptions>, { streams: number; streamExists: boolean }, string | null]>([
    ['an open relay', {}, { streams: 0, streamExists: false }, null],
    ['a new stream past the limit', { maxStreams: 1 }, { streams: 1, streamExists: false }, 'STREAM_LIMIT'],
    ['a live stream at the limit (its own publisher again)', { maxStreams: 1 }, { streams: 1, streamExists: true }, null],
  ])('decides on %s', (_what, opts, p, code) => {
    expect(new Guard({ ...open, ...opts }).admitPublisher({ stream: 'cam1', ...p })?.code ?? null).toBe(code);
  });
});
