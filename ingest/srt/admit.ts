// Who an SRT caller becomes, decided in its handshake: the streamid names the stream (or the
// port's configured one), the caller must fit the limits per address and in total, the name
// must be free, and the credentials pass the same check as RTMP's (PublishAuthorizer in
// ingest.ts, admission/publish.ts). Pure: the caller table and clock are passed in.
import { isLoopback } from '../../util/net.js';
import { isStreamIdError, parseStreamId } from './streamid.js';

/** SRT rejection codes (libsrt access_control.h) a refused caller's handshake carries. */
export const SRT_REJECT = {
  BAD_REQUEST: 1400,
  UNAUTHORIZED: 1401,
  OVERLOAD: 1402,
  FORBIDDEN: 1403,
  BAD_MODE: 1405,
  CONFLICT: 1409,
  ISE: 1500,
  DOWN: 1503,
} as const;

/** Our stable refusal code → the SRT code the caller sees. */
export function srtRejectCode(code: string): number {
  if (code.startsWith('TOKEN_') || code === 'KEY_WRONG' || code === 'PUBLISH_AUTH_REQUIRED') return SRT_REJECT.UNAUTHORIZED;
  switch (code) {
    case 'STREAMID_INVALID': case 'STREAM_NAME_INVALID': return SRT_REJECT.BAD_REQUEST;
    case 'STREAMID_MODE': return SRT_REJECT.BAD_MODE;
    case 'STREAM_TAKEN': case 'STREAM_RECONNECTING': return SRT_REJECT.CONFLICT;
    case 'SRT_CALLER_LIMIT': case 'SRT_CALLER_LIMIT_IP': return SRT_REJECT.OVERLOAD;
    case 'SHUTTING_DOWN': return SRT_REJECT.DOWN;
    default: return SRT_REJECT.FORBIDDEN;
  }
}

/** One caller admitted and not gone. */
export interface CallerEntry {
  name: string;
  ip: string;
  key: string | undefined;
  /** Last media from it (or its admission), ms. */
  lastDataAt: number;
}

export interface AdmitLimits {
  maxCallers: number;
  maxCallersPerIp: number;
  /** limits.limitLoopback: the per-address cap applies to loopback too. */
  limitLoopback: boolean;
  /** A caller silent this long loses its name to a new caller with the same credentials from
   *  any address; from its own address, a caller with the same key or token replaces it at once
   *  (a publisher restarted before SRT noticed the old connection was dead). An anonymous caller
   *  never replaces a live one: behind one NAT, or on one host, "same address" proves nothing. */
  staleMs: number;
}

export interface AdmitRequest {
  streamId: string;
  ip: string;
  /** The listener's configured stream, for a caller without a streamid. */
  defaultStream: string;
}

export type AdmitResult =
  | { ok: true; name: string; key: string | undefined; /** A silent caller of the same name to close first. */ replaces: string | undefined }
  | { ok: false; code: string; message: string };

/**
 * Decides on one handshake. `callers` are the live ones by id (port:socket); `refusal` is ingest's shared
 * rule (shutting down, name syntax, an RTMP publisher of the name, credentials).
 */
export function admitCaller(
  req: AdmitRequest,
  callers: ReadonlyMap<string, CallerEntry>,
  limits: AdmitLimits,
  nowMs: number,
  refusal: (p: { stream: string; key: string | undefined; ip: string }) => { code: string; message: string } | null,
  sameKey: (a: string | undefined, b: string | undefined) => boolean,
): AdmitResult {
  const parsed = parseStreamId(req.streamId);
  if (isStreamIdError(parsed)) return { ok: false, code: parsed.error, message: parsed.message };
  const name = parsed.name ?? req.defaultStream;
  const key = parsed.key;
  // Limits first: they cost nothing, and a flood of handshakes must not reach the HMAC.
  let total = 0;
  let fromIp = 0;
  let holder: [string, CallerEntry] | undefined;
  for (const [id, c] of callers) {
    total++;
    if (c.ip === req.ip) fromIp++;
    if (c.name === name) holder = [id, c];
  }
  const perIp = limits.limitLoopback || !isLoopback(req.ip);
  // A holder this caller may replace (if its credentials match, checked below) frees its slot.
  const stale = holder !== undefined && nowMs - holder[1].lastDataAt >= limits.staleMs;
  const mayReplace = holder !== undefined && ((holder[1].ip === req.ip && key !== undefined) || stale);
  const freed = mayReplace ? 1 : 0;
  if (total - freed >= limits.maxCallers) return { ok: false, code: 'SRT_CALLER_LIMIT', message: `${limits.maxCallers} SRT callers already` };
  if (perIp && fromIp - (mayReplace && holder![1].ip === req.ip ? 1 : 0) >= limits.maxCallersPerIp) {
    return { ok: false, code: 'SRT_CALLER_LIMIT_IP', message: `${limits.maxCallersPerIp} SRT callers from this address already` };
  }
  const r = refusal({ stream: name, key, ip: req.ip });
  if (r) return { ok: false, code: r.code, message: r.message };
  if (holder) {
    // Only the same credentials take over a name (a publisher back after a cut or a restart).
    if (!mayReplace || !sameKey(holder[1].key, key)) return { ok: false, code: 'STREAM_TAKEN', message: `stream ${name} already has a publisher` };
    return { ok: true, name, key, replaces: holder[0] };
  }
  return { ok: true, name, key, replaces: undefined };
}
