import { describe, expect, it } from 'vitest';
import { signToken, verifyToken, type TokenError } from '../../admission/auth.js';

const SECRET = 'test-secret';
const NOW = 1_800_000_000;
const good = signToken(SECRET, { s: 'cam1', a: 'view', e: NOW + 60 });

describe('signed stream tokens', () => {
  it('grants the scope on the stream it was signed for until it expires', () => {
    expect(verifyToken(SECRET, good, 'cam1', 'view', NOW)).toBeNull();
  });

  it.each<[string, string | undefined, string, 'view' | 'publish', number, TokenError]>([
    ['no token', undefined, 'cam1', 'view', NOW, 'TOKEN_MISSING'],
    ['garbage', 'not-a-token', 'cam1', 'view', NOW, 'TOKEN_MALFORMED'],
    ['two dots', `${good}.x`, 'cam1', 'view', NOW, 'TOKEN_MALFORMED'],
    ['another secret', signToken('other', { s: 'cam1', a: 'view', e: NOW + 60 }), 'cam1', 'view', NOW, 'TOKEN_BAD_SIGNATURE'],
    ['a tampered payload', Buffer.from(JSON.stringify({ s: 'cam2', a: 'view', e: NOW + 60 })).toString('base64url') + good.slice(good.indexOf('.')), 'cam2', 'view', NOW, 'TOKEN_BAD_SIGNATURE'],
    ['an expired token', good, 'cam1', 'view', NOW + 60, 'TOKEN_EXPIRED'],
    ['another stream', good, 'cam2', 'view', NOW, 'TOKEN_WRONG_STREAM'],
    ['another scope', good, 'cam1', 'publish', NOW, 'TOKEN_WRONG_SCOPE'],
    ['a huge token', 'a'.repeat(5000), 'cam1', 'view', NOW, 'TOKEN_MALFORMED'],
  ])('refuses %s', (_what, token, stream, scope, now, code) => {
    expect(verifyToken(SECRET, token, stream, scope, now)).toBe(code);
  });
});
