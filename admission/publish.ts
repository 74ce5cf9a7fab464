// Who may publish a name, decided on the publish command (RTMP) before any media is read.
// A stream with a fixed key needs that key; with security.requirePublishAuth every stream needs
// a key or a signed publish token. And by default (security.open false) a publisher from
// outside loopback needs credentials that verified, so a server put on a public address is not
// an open relay for anyone's video. Keys are compared in constant time.
import { sameSecret, verifyToken } from './auth.js';
import { isLoopback } from './limits.js';

export { sameSecret };

export interface PublishAuthConfig {
  secret: string;
  publishKeys: Array<{ stream: string; key: string }>;
  requirePublishAuth: boolean;
  open: boolean;
}

export interface PublishAuthRefusal {
  code: string;
  message: string;
}

/** Null admits; `ip` is the publisher's address (no port). */
export function checkPublish(c: PublishAuthConfig, p: { stream: string; key: string | undefined; ip: string }, nowMs: number): PublishAuthRefusal | null {
  const fixed = c.publishKeys.find((k) => k.stream === p.stream);
  let verified = false;
  if (fixed) {
    if (p.key === undefined) return { code: 'TOKEN_MISSING', message: `publishing ${p.stream} needs its key` };
    if (!sameSecret(p.key, fixed.key)) return { code: 'KEY_WRONG', message: `publishing ${p.stream} needs its key` };
    verified = true;
  } else if (c.secret && (c.requirePublishAuth || p.key !== undefined)) {
    const err = verifyToken(c.secret, p.key, p.stream, 'publish', nowMs / 1000);
    if (err) return { code: err, message: `publishing ${p.stream} needs a valid publish token` };
    verified = true;
  } else if (c.requirePublishAuth) {
    return { code: 'TOKEN_MISSING', message: `publishing ${p.stream} needs a key` };
  }
  if (!verified && !c.open && !isLoopback(p.ip)) {
    return {
      code: 'PUBLISH_AUTH_REQUIRED',
      message: 'publishing from outside this host needs a publish key or token (security.publishKeys, security.secret), or security.open=true',
    };
  }
  return null;
}
