// Who may fetch a stream's LL-HLS: the WebSocket's rules for a request (a view token when
// security.requireViewerToken, the Origin allowlist), without its connection limits: HLS is a
// stream of short requests, not one socket to count. app/ passes admission's token check in,
// so this folder needs nothing from admission/.

export interface HlsRefusal {
  status: '401 Unauthorized' | '403 Forbidden';
  code: string;
  message: string;
}

export interface HlsAccess {
  /** A refusal for a request for `stream`'s playlist or media, or null. `origin`: '' without the header. */
  check(stream: string, token: string | undefined, origin: string, nowMs: number): HlsRefusal | null;
  /** View tokens are required: every URI in a playlist carries the request's `?token=`. */
  readonly tokens: boolean;
  /** Access-Control-Allow-Origin for a request from `origin`, or null for none. */
  corsOrigin(origin: string): string | null;
}

export interface ViewRules {
  requireViewerToken: boolean;
  secret: string;
  allowedOrigins: readonly string[];
}

/** Checks a token for `stream` and the `view` scope; null when it grants access, else the refusal code. */
export type VerifyView = (secret: string, token: string | undefined, stream: string, scope: 'view', nowS: number) => string | null;

/** The same decisions as the WebSocket upgrade's (admission/guard.ts), for plain GETs. */
export function viewAccess(rules: ViewRules, verify: VerifyView): HlsAccess {
  const origins = new Set(rules.allowedOrigins);
  return {
    tokens: rules.requireViewerToken,
    check(stream, token, origin, nowMs) {
      if (origins.size && origin && !origins.has(origin)) {
        return { status: '403 Forbidden', code: 'ORIGIN_NOT_ALLOWED', message: `origin ${origin} is not allowed` };
      }
      if (!rules.requireViewerToken) return null;
      const err = rules.secret ? verify(rules.secret, token, stream, 'view', nowMs / 1000) : 'TOKEN_MISSING';
      return err ? { status: '401 Unauthorized', code: err, message: `a valid view token for ${stream} is required` } : null;
    },
    // No allowlist: any page may play the stream, as any page may open its WebSocket.
    corsOrigin: (origin) => (!origins.size ? '*' : origins.has(origin) ? origin : null),
  };
}
