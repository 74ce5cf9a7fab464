// Signed, expiring tokens scoped to one stream and one action: `publish` (RTMP/SRT) or
// `view` (WebSocket). HMAC-SHA256 over a small JSON payload; no dependency, constant-time
// comparison. Format: base64url(payload) "." base64url(mac).
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenScope = 'publish' | 'view';

export interface TokenClaims {
  /** Stream name the token is for. */
  s: string;
  /** Scope. */
  a: TokenScope;
  /** Expiry, seconds since the Unix epoch. */
  e: number;
}

export type TokenError = 'TOKEN_MISSING' | 'TOKEN_MALFORMED' | 'TOKEN_BAD_SIGNATURE' | 'TOKEN_EXPIRED' | 'TOKEN_WRONG_STREAM' | 'TOKEN_WRONG_SCOPE';

const mac = (secret: string, payload: string): Buffer => createHmac('sha256', secret).update(payload).digest();

export function signToken(secret: string, claims: TokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** Returns null when the token grants `scope` on `stream` at `nowS`, else why not. */
export function verifyToken(secret: string, token: string | undefined, stream: string, scope: TokenScope, nowS: number): TokenError | null {
  if (!token) return 'TOKEN_MISSING';
  if (token.length > 1024) return 'TOKEN_MALFORMED';
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return 'TOKEN_MALFORMED';
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const want = mac(secret, payload);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return 'TOKEN_BAD_SIGNATURE';
  let claims: unknown;
  try { claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')); } catch { return 'TOKEN_MALFORMED'; }
  if (typeof claims !== 'object' || claims === null) return 'TOKEN_MALFORMED';
  const c = claims as Partial<TokenClaims>;
  if (typeof c.s !== 'string' || typeof c.e !== 'number' || (c.a !== 'publish' && c.a !== 'view')) return 'TOKEN_MALFORMED';
  if (c.a !== scope) return 'TOKEN_WRONG_SCOPE';
  if (c.s !== stream) return 'TOKEN_WRONG_STREAM';
  if (c.e <= nowS) return 'TOKEN_EXPIRED';
  return null;
}

export { sameSecret } from '../util/secret.js';
