import { describe, expect, it } from 'vitest';
import { Guard, type GuardOptions } from '../../relay/guard.js';
import { signToken } from '../../relay/auth.js';

const open: GuardOptions = {
  secret: 's3cret', publishKeys: [], requirePublishAuth: false, requireViewerToken: false, allowedOrigins: [],
  maxStreams: 100, maxViewersPerStream: 1000, maxViewersPerIp: 50, upgradesPerSecondPerIp: 20, limitLoopback: false,
};
const NOW = 1_800_000_000_000;
const viewer = (o: Partial<Parameters<Guard['admitViewer']>[0]> = {}): Parameters<Guard['admitViewer']>[0] =>
  ({ ip: '203.0.113.9', stream: 'cam1', origin: '', token: undefined, streamExists: true, streams: 1, ...o });

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
    ['a new stream past the stream limit', { maxStreams: 2 }, { streamExists: false, streams: 2 }, 'STREAM_LIMIT'],
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

describe('the publisher guard', () => {
  const pub = (o: Partial<Parameters<Guard['admitPublisher']>[0]> = {}): Parameters<Guard['admitPublisher']>[0] =>
    ({ stream: 'cam1', key: undefined, streams: 0, streamExists: false, ...o });

  it.each<[string, Partial<GuardOptions>, Partial<Parameters<Guard['admitPublisher']>[0]>, string | null]>([
    ['an open relay', {}, {}, null],
    ['the right fixed key', { publishKeys: [{ stream: 'cam1', key: 'k1' }] }, { key: 'k1' }, null],
    ['a wrong fixed key', { publishKeys: [{ stream: 'cam1', key: 'k1' }] }, { key: 'k2' }, 'KEY_WRONG'],
    ['a missing fixed key', { publishKeys: [{ stream: 'cam1', key: 'k1' }] }, {}, 'TOKEN_MISSING'],
    ['a valid publish token', { requirePublishAuth: true }, { key: signToken('s3cret', { s: 'cam1', a: 'publish', e: NOW / 1000 + 60 }) }, null],
    ['an expired publish token', { requirePublishAuth: true }, { key: signToken('s3cret', { s: 'cam1', a: 'publish', e: NOW / 1000 - 1 }) }, 'TOKEN_EXPIRED'],
    ['no token when auth is required', { requirePublishAuth: true }, {}, 'TOKEN_MISSING'],
    ['a new stream past the limit', { maxStreams: 1 }, { streams: 1 }, 'STREAM_LIMIT'],
  ])('decides on %s', (_what, opts, p, code) => {
    expect(new Guard({ ...open, ...opts }).admitPublisher(pub(p), NOW)?.code ?? null).toBe(code);
  });
});
