// What a test reads from a /watch/ page in any engine (engines.ts): the player's own figures,
// frames presented (requestVideoFrameCallback: every engine here has it, and WebKit's
// getVideoPlaybackQuality is not to be trusted) and glass-to-glass from the pixels. Installed
// after navigation, since classic WebDriver has no init scripts; a second install is a no-op.
import { pixelClockArgs, pixelClockScript } from '../../bench/lib/pixel-clock.js';
import type { Engine } from './engines.js';

export const PROBE_SCRIPT = `(() => {
  if (window.__probe) return false;
  const probe = window.__probe = { visibility: [], stalls: { n: 0, ms: 0, since: 0 } };
  document.addEventListener('visibilitychange', () => probe.visibility.push(document.visibilityState));
  // A stall as bench:glass counts it: a 'waiting' after playback started, until 'playing'.
  const st = probe.stalls;
  const arm = () => {
    const v = document.querySelector('video');
    if (!v) { setTimeout(arm, 20); return; }
    v.addEventListener('waiting', () => { if (v.currentTime > 0 && !st.since) { st.n++; st.since = performance.now(); } });
    v.addEventListener('playing', () => { if (st.since) { st.ms += performance.now() - st.since; st.since = 0; } });
  };
  arm();
  ${pixelClockScript(pixelClockArgs)}
  return true;
})()`;

export interface PageError { code: string; message: string; fatal: boolean }

export interface WatchReport {
  /** Page wall clock (ms). */
  at: number;
  href: string;
  currentTime: number;
  width: number;
  /** getVideoPlaybackQuality(): right in Chromium and Firefox, not in WebKit. */
  decoded: number;
  dropped: number;
  /** Frames presented since the probe was installed (rVFC), readable or not. */
  presented: number;
  /** The player's latency (s), from the prft wall clock of the frame shown; null when unknown. */
  latency: number | null;
  state: string;
  reconnects: number;
  /** Player errors (recovered ones too: fatal false), and the media element's if it has one. */
  errors: PageError[];
  /** Pixel glass-to-glass (ms) of frames presented since `since`. */
  glass: number[];
  /** Wall clock (ms) of the first presented frame the probe saw, and navigation start; 0 before. */
  firstFrameAt: number;
  timeOrigin: number;
  /** Stalls since the probe was installed: count, and ms (one in progress included). */
  stalls: { n: number; ms: number };
  /** player.transport: 'ws', 'hls', 'hls-native', or null before the start or where the player has no such getter. */
  transport: string | null;
  visibility: string[];
  visibilityState: string;
  /** Set by the probe: still the same document (no reload). */
  probed: boolean;
  /** stats.managed: true or false where the player reports it, null where it does not. */
  managed: boolean | null;
}

const READ = (since: number): string => `(() => {
  const v = document.querySelector('video');
  const nc = window.__nowcast;
  const s = nc ? nc.player.stats : undefined;
  const q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : undefined;
  const g = window.__glass;
  const p = window.__probe;
  const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  const errors = (nc ? nc.errors : []).map((e) => ({ code: e.code, message: e.message, fatal: !!e.fatal }));
  if (v && v.error) errors.push({ code: 'MediaError ' + v.error.code, message: v.error.message, fatal: true });
  return {
    at: Date.now(), href: location.href,
    currentTime: v ? v.currentTime : 0, width: v ? v.videoWidth : 0,
    decoded: q ? q.totalVideoFrames : -1, dropped: q ? q.droppedVideoFrames : -1,
    presented: g ? g.samples.length + g.unreadable : 0,
    latency: s ? num(s.latency) : null, state: s ? s.state : 'none', reconnects: s ? s.reconnects : 0,
    errors, glass: g ? g.samples.filter((x) => x.shownAt >= ${since}).map((x) => x.latencyMs) : [],
    firstFrameAt: g ? g.firstFrameAt : 0, timeOrigin: performance.timeOrigin,
    stalls: p ? { n: p.stalls.n, ms: p.stalls.ms + (p.stalls.since ? performance.now() - p.stalls.since : 0) } : { n: 0, ms: 0 },
    transport: nc && nc.player.transport ? nc.player.transport : null,
    visibility: p ? p.visibility : [], visibilityState: document.visibilityState,
    probed: !!p,
    managed: s && 'managed' in s ? !!(s.managed && s.managed.managed) : null,
  };
})()`;

/** The page's state; glass covers frames presented since `since` (wall ms, default: none). */
export function readWatch(e: Engine, since = Number.MAX_SAFE_INTEGER): Promise<WatchReport> {
  return e.evaluate<WatchReport>(READ(since));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `ok` on the page's report every 150 ms until it holds; throws with the last report after `ms`. */
export async function waitForWatch(e: Engine, what: string, ok: (r: WatchReport) => boolean, ms = 20_000): Promise<WatchReport> {
  const deadline = Date.now() + ms;
  let r = await readWatch(e);
  while (!ok(r)) {
    if (Date.now() > deadline) throw new Error(`${e.name}: ${what} not within ${ms} ms; last: ${JSON.stringify({ ...r, glass: r.glass.length })}`);
    await sleep(150);
    r = await readWatch(e);
  }
  return r;
}

/** Navigates to a watch page, installs the probe and waits until frames are presented. */
export async function watch(e: Engine, url: string): Promise<WatchReport> {
  await e.goto(url);
  await e.evaluate(PROBE_SCRIPT);
  return waitForWatch(e, 'first frames', (r) => r.currentTime > 0.3 && r.presented > 5);
}
