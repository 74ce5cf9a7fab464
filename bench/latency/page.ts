// What each tab records besides the pixel clock (bench/lib/pixel-clock.ts): playback rate
// changes, stalls and seeks as wall-clock intervals, and a 10 Hz poll of the player's own
// stats. Installed as source text (see pixelClockScript for why); results on window.__lat.

export interface PollRow {
  /** Date.now() of the poll. */
  t: number;
  rate: number;
  /** Player's own stats, when it exposes them (undefined fields: not implemented yet). */
  latency?: number;
  targetLatency?: number;
  buffer?: number;
  stalls?: number;
  stallMs?: number;
  policy?: string;
  pinned?: boolean;
  maxRate?: number;
  jumps?: number;
  unstalls?: number;
  clockOffsetMs?: number;
  /** Player's measured chunk arrival jitter (s). */
  jitter?: number;
  dropped: number;
  decoded: number;
  /** The <video>'s videoHeight: which rendition is on screen (ABR). */
  height?: number;
}

export interface LatState {
  /** [Date.now(), playbackRate] at every ratechange. */
  rates: Array<[number, number]>;
  /** [start, end] of each stall (a `waiting` while not seeking, until `playing`); end 0 = ongoing. */
  stalls: Array<[number, number]>;
  /** Date.now() of each `seeking`. */
  seeks: number[];
  poll: PollRow[];
}

export function latencyProbeScript(pollMs: number): string {
  return `(() => {
  const st = { rates: [], stalls: [], seeks: [], poll: [] };
  window.__lat = st;
  const start = () => {
    const v = document.querySelector('video');
    if (!v) { setTimeout(start, 20); return; }
    let open = -1;
    v.addEventListener('ratechange', () => st.rates.push([Date.now(), v.playbackRate]));
    v.addEventListener('waiting', () => {
      if (v.currentTime > 0 && !v.seeking && open < 0) { open = st.stalls.length; st.stalls.push([Date.now(), 0]); }
    });
    const close = () => { if (open >= 0) { st.stalls[open][1] = Date.now(); open = -1; } };
    v.addEventListener('playing', close);
    v.addEventListener('seeking', () => { st.seeks.push(Date.now()); });
    const num = (x) => (typeof x === 'number' ? x : undefined);
    setInterval(() => {
      if (st.poll.length > 20000) return;
      const p = window.__nowcast && window.__nowcast.player;
      let s = {};
      try { s = (p && p.stats) || {}; } catch (e) { s = {}; }
      const q = typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : { droppedVideoFrames: 0, totalVideoFrames: 0 };
      st.poll.push({ t: Date.now(), rate: v.playbackRate, latency: num(s.latency), targetLatency: num(s.targetLatency),
        buffer: num(s.buffer), stalls: num(s.stalls), stallMs: num(s.stallMs),
        policy: typeof s.policy === 'string' ? s.policy : undefined,
        pinned: typeof s.pinned === 'boolean' ? s.pinned : undefined,
        maxRate: num(s.maxRate), jumps: num(s.jumps), unstalls: num(s.unstalls), clockOffsetMs: num(s.clockOffsetMs), jitter: num(s.jitter),
        dropped: q.droppedVideoFrames, decoded: q.totalVideoFrames, height: v.videoHeight });
    }, ${pollMs});
  };
  start();
})();`;
}
