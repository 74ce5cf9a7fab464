// Blocking playlist reload and preload hints, as pure functions of what the window holds and
// how long a request has waited (tested on a simulated clock), and the strict parse of the
// query they come with (draft-pantos-hls-rfc8216bis §6.2.5.2, §6.2.6).

export interface HlsQuery {
  /** `_HLS_msn`: answer once segment msn (or, with part, that part of it) exists. */
  msn?: number;
  /** `_HLS_part`: a part index within segment msn; past its last part means part 0 of the next. */
  part?: number;
  /** `token`: a view token, when the relay requires one. */
  token?: string;
}

export type QueryResult = { ok: true; query: HlsQuery } | { ok: false; message: string };

/** Longest query we read; a player's is under 100 characters, a token's 1 KiB at most. */
export const MAX_QUERY = 2048;
const MAX_TOKEN = 1024;
const INTEGER = /^(0|[1-9][0-9]{0,15})$/;

/**
 * The query of an /hls/ request. Known keys at most once each, `_HLS_msn`/`_HLS_part` decimal
 * integers as players write them, `_HLS_part` only with `_HLS_msn`, `_HLS_skip` only as YES or
 * v2 (and then ignored: no CAN-SKIP-UNTIL is advertised). Other keys (cache busters) are ignored.
 */
export function parseQuery(raw: string): QueryResult {
  if (raw.length > MAX_QUERY) return { ok: false, message: `query longer than ${MAX_QUERY} characters` };
  const q: HlsQuery = {};
  const seen = new Set<string>();
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key !== '_HLS_msn' && key !== '_HLS_part' && key !== '_HLS_skip' && key !== 'token') continue;
    if (seen.has(key)) return { ok: false, message: `${key} given twice` };
    seen.add(key);
    let value: string;
    try { value = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1)); } catch { return { ok: false, message: `${key} is not valid percent-encoding` }; }
    if (key === 'token') {
      if (!value || value.length > MAX_TOKEN) return { ok: false, message: `token must have 1 to ${MAX_TOKEN} characters` };
      q.token = value;
    } else if (key === '_HLS_skip') {
      if (value !== 'YES' && value !== 'v2') return { ok: false, message: '_HLS_skip must be YES or v2' };
    } else {
      const n = INTEGER.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) return { ok: false, message: `${key} must be a decimal integer, got ${JSON.stringify(value.slice(0, 20))}` };
      if (key === '_HLS_msn') q.msn = n;
      else q.part = n;
    }
  }
  if (q.part !== undefined && q.msn === undefined) return { ok: false, message: '_HLS_part needs _HLS_msn' };
  return { ok: true, query: q };
}

/** What a window holds: its newest part (segment msn, index part) and its newest complete segment. */
export interface Position {
  msn: number;
  part: number;
  completeMsn: number;
}

export type PlaylistDecision = 'now' | 'wait' | 'timeout' | 'too-far';

/**
 * A playlist request: 'now' when the window satisfies it; 'too-far' (400) when it asks for a
 * segment more than two beyond the newest; 'timeout' (503) once it has waited timeoutMs;
 * else 'wait'. Before the first part (position null), every request waits for it.
 */
export function decidePlaylist(q: Pick<HlsQuery, 'msn' | 'part'>, pos: Position | null, waitedMs: number, timeoutMs: number): PlaylistDecision {
  if (pos) {
    if (q.msn === undefined) return 'now';
    if (q.msn > pos.msn + 2) return 'too-far';
    const satisfied = q.part === undefined
      ? q.msn <= pos.completeMsn
      : q.msn < pos.msn || (q.msn === pos.msn && q.part <= pos.part);
    if (satisfied) return 'now';
  }
  return waitedMs >= timeoutMs ? 'timeout' : 'wait';
}

export type PartDecision = 'now' | 'wait' | 'timeout' | 'gone';

/**
 * A part request: 'now' when the window holds it; 'wait' for the preload hint's part (the next
 * one) until timeoutMs; 'gone' (404) for a part that left the window or was never hinted.
 */
export function decidePart(n: number, parts: { first: number; next: number } | null, waitedMs: number, timeoutMs: number): PartDecision {
  if (parts && n >= parts.first && n < parts.next) return 'now';
  if (!parts || n !== parts.next) return 'gone';
  return waitedMs >= timeoutMs ? 'timeout' : 'wait';
}

/** How long a blocked request may wait (ms): three target durations, as the spec allows before a 503. */
export function blockTimeoutMs(targetDuration: number): number {
  return 3 * Math.max(1, targetDuration) * 1000;
}
