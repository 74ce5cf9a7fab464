// Which way media comes (config.transport) and where the LL-HLS playlist is: pure, so the
// choice is unit-tested without a browser.
import type { Transport } from './config.js';

/** 'auto' is the WebSocket wherever some MediaSource exists; LL-HLS only where none does (iOS before 17.1). */
export function resolveTransport(transport: Transport, hasMse: boolean): 'ws' | 'hls' {
  if (transport === 'auto') return hasMse ? 'ws' : 'hls';
  return transport;
}

/**
 * Native HLS (the element plays the playlist itself) where the browser can and there is no MSE
 * for hls.js: Safari on iOS before 17.1. Where both exist hls.js plays it, since Chromium now
 * answers canPlayType for HLS too but holds no low-latency mode.
 */
export function useNativeHls(canPlayHls: string, hasMse: boolean): boolean {
  return !hasMse && (canPlayHls === 'probably' || canPlayHls === 'maybe');
}

/**
 * The relay's LL-HLS playlist for a stream's WebSocket URL: ws(s)://HOST/live/NAME?token=T →
 * http(s)://HOST/hls/NAME/index.m3u8?token=T (the token is the one query key carried over).
 */
export function hlsUrl(wsUrl: string): string {
  const u = new URL(wsUrl);
  const m = /^\/live\/([^/]+)\/?$/.exec(u.pathname);
  if (!m) throw new TypeError(`nowcast player: cannot derive an LL-HLS URL from ${wsUrl} (expected ws://HOST/live/NAME)`);
  const token = u.searchParams.get('token');
  const scheme = u.protocol === 'wss:' ? 'https:' : 'http:';
  return `${scheme}//${u.host}/hls/${m[1]}/index.m3u8${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/**
 * Behind hls.js's target by more than this (s), the session jumps. The buffer ahead saw-tooths
 * by a part (~0.2 s) as parts arrive, and the check sees its top at least once a part: 0.1 s
 * then jumps from anywhere over half a part behind, and never again once at the target.
 * bench:glass with 0.25: p50 751–949 ms by where a join landed.
 */
export const HLS_SYNC_SLACK = 0.1;

/**
 * Where to jump to play `target` seconds behind the buffered end, or undefined. hls.js starts
 * at the independent part before its live sync position (a keyframe, up to a GOP earlier) and
 * corrects only by rate, and only with over 1 s buffered; the WebSocket path seeks at the
 * start instead, and so does this one, within the last buffered range.
 */
export function hlsSyncTarget(ranges: ReadonlyArray<{ start: number; end: number }>, t: number, target: number): number | undefined {
  const last = ranges[ranges.length - 1];
  if (!last || !(target > 0) || t > last.end || last.end - t - target <= HLS_SYNC_SLACK) return undefined;
  return Math.max(last.start, last.end - target);
}
