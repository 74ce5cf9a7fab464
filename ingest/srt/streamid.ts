// SRT streamid, as a caller sends it in its handshake: what stream it publishes, and with what
// key. Two forms, as MediaMTX takes them:
//   the SRT access-control form  #!::r=NAME,m=publish[,u=USER][,s=KEY|t=KEY]
//   MediaMTX's short form        publish:NAME[:USER:KEY]   (or publish:NAME?token=KEY)
// An empty streamid publishes the port's configured stream. Pure: every byte here came from the
// network and is checked before anything else sees it.

/** libsrt's own bound on a streamid. */
export const MAX_STREAMID_CHARS = 512;

/** What a caller asked for; `name` undefined means the port's configured stream. */
export interface StreamIdRequest {
  name: string | undefined;
  key: string | undefined;
  user: string | undefined;
}

export type StreamIdError = { error: 'STREAMID_INVALID' | 'STREAMID_MODE'; message: string };

/** `t` values the SRT access-control spec gives the key `t` (the type); anything else is a token. */
const SPEC_TYPES = new Set(['stream', 'file', 'auth']);

export function parseStreamId(raw: string): StreamIdRequest | StreamIdError {
  if (raw.length > MAX_STREAMID_CHARS) return invalid(`streamid longer than ${MAX_STREAMID_CHARS} characters`);
  // Printable ASCII only: names and tokens need nothing else, and control bytes would reach logs.
  if (!/^[\x20-\x7e]*$/.test(raw)) return invalid('streamid has characters outside printable ASCII');
  if (raw === '') return { name: undefined, key: undefined, user: undefined };
  // FFmpeg passes a URL's streamid= through undecoded: a caller that percent-encoded it (as a
  // URL needs for '&') sends %23%21%3A%3A… or publish%3A….
  if (/^(%23(!|%21)%3A%3A|publish%3A)/i.test(raw)) {
    let decoded: string;
    try { decoded = decodeURIComponent(raw); } catch { return invalid('streamid has a bad percent-encoding'); }
    if (/%[0-9a-f]{2}/i.test(decoded)) return invalid('streamid is percent-encoded twice');
    return parseStreamId(decoded);
  }
  if (raw.startsWith('#!::')) return accessControl(raw.slice(4));
  if (raw.startsWith('publish:')) return short(raw.slice('publish:'.length));
  if (/^(read|play):/.test(raw)) return { error: 'STREAMID_MODE', message: 'this server takes publishers only' };
  return invalid('expected #!::r=NAME,m=publish or publish:NAME');
}

function accessControl(body: string): StreamIdRequest | StreamIdError {
  const keys = new Map<string, string>();
  for (const pair of body.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return invalid(`streamid item ${JSON.stringify(pair.slice(0, 40))} is not KEY=VALUE`);
    const k = pair.slice(0, eq);
    if (keys.has(k)) return invalid(`streamid key ${JSON.stringify(k.slice(0, 40))} given twice`);
    keys.set(k, pair.slice(eq + 1));
  }
  const mode = keys.get('m');
  if (mode !== undefined && mode !== 'publish') return { error: 'STREAMID_MODE', message: `m=${mode.slice(0, 40)}: this server takes publishers only` };
  // Without m=, the spec's default is request (play): a publisher must say so.
  if (mode === undefined) return { error: 'STREAMID_MODE', message: 'add m=publish to the streamid' };
  const name = keys.get('r');
  if (!name) return invalid('streamid has no r=NAME');
  const t = keys.get('t');
  const key = keys.get('s') || (t !== undefined && !SPEC_TYPES.has(t) ? t : undefined) || undefined;
  return { name, key, user: keys.get('u') || undefined };
}

function short(body: string): StreamIdRequest | StreamIdError {
  const q = body.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(body.slice(q + 1));
    const key = params.get('token') ?? params.get('key') ?? undefined;
    return named(body.slice(0, q), key || undefined, undefined);
  }
  const parts = body.split(':');
  if (parts.length === 1) return named(parts[0]!, undefined, undefined);
  if (parts.length === 3) return named(parts[0]!, parts[2] || undefined, parts[1] || undefined);
  return invalid('expected publish:NAME or publish:NAME:USER:KEY');
}

function named(name: string, key: string | undefined, user: string | undefined): StreamIdRequest | StreamIdError {
  if (!name) return invalid('streamid has no stream name');
  return { name, key, user };
}

const invalid = (message: string): StreamIdError => ({ error: 'STREAMID_INVALID', message });

export function isStreamIdError(r: StreamIdRequest | StreamIdError): r is StreamIdError {
  return 'error' in r;
}
