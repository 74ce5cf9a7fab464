// Who may publish (admission/publish.ts) and where SRT listens without a passphrase: pure
// rules, table-driven.
import { describe, expect, it } from 'vitest';
import { checkPublish, sameSecret, type PublishAuthConfig } from '../../admission/publish.js';
import { signToken } from '../../admission/auth.js';

const base: PublishAuthConfig = { secret: '', publishKeys: [], requirePublishAuth: false, open: false };
const now = 1_800_000_000_000;
const token = (stream: string, secret = 's3cret-s3cret'): string => signToken(secret, { s: stream, a: 'publish', e: now / 1000 + 60 });

describe('publish admission', () => {
  it.each<[string, Partial<PublishAuthConfig>, { stream: string; key?: string; ip: string }, string | null]>([
    ['admits an anonymous publisher on loopback by default', {}, { stream: 'cam', ip: '127.0.0.1' }, null],
    ['admits an anonymous publisher on IPv6 loopback by default', {}, { stream: 'cam', ip: '::1' }, null],
    ['refuses an anonymous publisher from outside loopback by default', {}, { stream: 'cam', ip: '203.0.113.9' }, 'PUBLISH_AUTH_REQUIRED'],
    ['admits an anonymous publisher from anywhere with security.open', { open: true }, { stream: 'cam', ip: '203.0.113.9' }, null],
    ['admits the right fixed key from anywhere', { publishKeys: [{ stream: 'cam', key: 'k-123' }] }, { stream: 'cam', key: 'k-123', ip: '203.0.113.9' }, null],
    ['refuses a wrong fixed key, even on loopback', { publishKeys: [{ stream: 'cam', key: 'k-123' }] }, { stream: 'cam', key: 'k-124', ip: '127.0.0.1' }, 'KEY_WRONG'],
    ['refuses a missing fixed key', { publishKeys: [{ stream: 'cam', key: 'k-123' }] }, { stream: 'cam', ip: '127.0.0.1' }, 'TOKEN_MISSING'],
    ['a fixed key for one stream does not open another from outside', { publishKeys: [{ stream: 'cam', key: 'k-123' }] }, { stream: 'other', key: 'k-123', ip: '203.0.113.9' }, 'PUBLISH_AUTH_REQUIRED'],
    ['admits a signed publish token from anywhere', { secret: 's3cret-s3cret' }, { stream: 'cam', key: token('cam'), ip: '203.0.113.9' }, null],
    ['refuses a token for another stream', { secret: 's3cret-s3cret' }, { stream: 'cam', key: token('other'), ip: '203.0.113.9' }, 'TOKEN_WRONG_STREAM'],
    ['refuses a token signed with another secret', { secret: 's3cret-s3cret' }, { stream: 'cam', key: token('cam', 'another-secret'), ip: '127.0.0.1' }, 'TOKEN_BAD_SIGNATURE'],
    ['requires a token on loopback too with requirePublishAuth', { secret: 's3cret-s3cret', requirePublishAuth: true }, { stream: 'cam', ip: '127.0.0.1' }, 'TOKEN_MISSING'],
    // The cases the guard decided before this rule was its own (test/admission/guard.test.ts).
    ['admits the right fixed key on loopback', { publishKeys: [{ stream: 'cam', key: 'k1' }] }, { stream: 'cam', key: 'k1', ip: '127.0.0.1' }, null],
    ['admits a valid publish token with requirePublishAuth', { secret: 's3cret-s3cret', requirePublishAuth: true }, { stream: 'cam', key: token('cam'), ip: '127.0.0.1' }, null],
    ['refuses an expired publish token', { secret: 's3cret-s3cret', requirePublishAuth: true }, { stream: 'cam', key: signToken('s3cret-s3cret', { s: 'cam', a: 'publish', e: now / 1000 - 1 }), ip: '127.0.0.1' }, 'TOKEN_EXPIRED'],
  ])('%s', (_what, cfg, p, code) => {
    expect(checkPublish({ ...base, ...cfg }, { key: undefined, ...p }, now)?.code ?? null).toBe(code);
  });

  it('compares keys of any length without throwing, equal only when equal', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret('', 'x'.repeat(10_000))).toBe(false);
  });
});
