// Recovery at live after an outage: when the picture has stood still for at least
// MIN_STILL_MS waiting for data, and the data then returns as a backlog (more buffered than
// the target by BACKLOG_S), playback resumes near the target at once instead of replaying the
// stale backlog fast-forwarded: a seek to the keyframe at or before the target moment (the
// buffered end less the target buffer, or a margin if more) when one is within
// KEYFRAME_SLACK_S of it (the rate controller then closes what is left), else
// to the target moment itself (the decoder starts from the keyframe before it). It waits while
// the backlog is still landing (the buffer's end racing ahead of real time), then LIVE_PROBE_MS
// more to see whether the end goes on growing: live media (LIVE_SEEK_MARGIN_S from the end)
// or a part that stopped (SEEK_MARGIN_S). A backlog without such a stall is left to the rate
// (≤ maxRate), as before (player/latency.ts).
// Pure: the tick feeds it, tests drive it on a simulated clock.

/** The picture must have stood still this long (ms) for a backlog to be skipped. */
export const MIN_STILL_MS = 500;
/** Buffered beyond the target buffer (s) that counts as a backlog. */
export const BACKLOG_S = 0.25;
/**
 * A backlog arriving later than this (ms) after the picture moved again is the rate's. The
 * picture moves as soon as the first part lands (the held bytes), while the relay's resumed
 * media may still be landing: at 1 s, a clean-clone CI run saw the window close during that
 * hold, and the player drained 2 s by rate instead of seeking (test/browser/outage.test.ts).
 */
export const ARRIVAL_WINDOW_MS = 2500;
/** A keyframe this close (s) before the target moment is seeked to instead of the moment. */
export const KEYFRAME_SLACK_S = 0.2;
/**
 * The backlog is still landing while the buffer's end grows faster than this × real time: a
 * seek then would aim at a moment that is already stale when the rest is appended.
 */
export const LANDING_RATE = 1.5;
/**
 * A seek lands at least this far (s) before the buffered end: Chromium left a seek 0.14 s
 * before the end of a range (a gap after it) pending for good (readyState 1, seeking).
 */
export const SEEK_MARGIN_S = 0.3;
/**
 * Into media that goes on arriving, a seek lands this far (s) before the end: what it waits
 * for comes within a frame or two, and every 0.1 s of margin over the target buffer costs
 * ~0.4 s of catch-up at 1.25× (bench:network's freeze: back at the target 1.2–2.0 s after the
 * data returned with 0.3 s, where the seek landed 0.25 s above it).
 */
export const LIVE_SEEK_MARGIN_S = 0.15;
/** After the backlog landed, watch the end this long (ms) to tell live media from a stopped part ... */
export const LIVE_PROBE_MS = 150;
/** ... live if it grew at least this × real time meanwhile. */
export const LIVE_GROWTH = 0.5;
/**
 * After its seek the rule stays armed this long (ms): a relay that stopped feeding the viewer
 * during the outage resumes it at a keyframe, so the data returns in two parts with a gap, and
 * the second part is the live one.
 */
export const REARM_MS = 2500;

export interface OutageState {
  /** When the picture stopped (ms); NaN while it moves. */
  stillSince: number;
  /** The last stall long enough to count ended then (ms); NaN: none pending. */
  endedAt: number;
  /** The buffer's end (s) at the previous step, and when (ms). */
  lastEnd: number;
  lastAt: number;
  /** Armed until then (ms) after its last seek; NaN: not. */
  armedUntil: number;
  /** When the backlog stopped landing (ms), and the buffer's end (s) then; NaN: not yet. */
  settledAt: number;
  settledEnd: number;
}

export const initialOutageState = (): OutageState => ({ stillSince: NaN, endedAt: NaN, lastEnd: NaN, lastAt: NaN, armedUntil: NaN, settledAt: NaN, settledEnd: NaN });

export interface OutageInput {
  now: number;
  /** The picture stands still waiting for data (the stall tracker's view). */
  stalled: boolean;
  /** Buffered media ahead of currentTime to the end of the last range (s), that end and that range's start (s, media time). */
  bufferAhead: number;
  bufferEnd: number;
  lastStart: number;
  /** Buffer (s) that puts the frame on screen at the target latency. */
  targetBuffer: number;
  /** Latest buffered keyframe (s) at or before a given media time; NaN when unknown. */
  keyframeAtOrBefore: (t: number) => number;
}

export interface OutageDecision {
  state: OutageState;
  /** Seek here now (media time, s); undefined: nothing to do. */
  seekTo?: number;
  /**
   * The backlog is still landing, or the last range (after a gap: the relay resumed at a
   * keyframe) holds less than the target buffer: don't jump the gap to its start yet, this
   * rule will seek into it once it can land at the target.
   */
  hold?: boolean;
}

export function outageStep(s: OutageState, i: OutageInput): OutageDecision {
  let { stillSince, endedAt } = s;
  const armedUntil = i.now < s.armedUntil ? s.armedUntil : NaN;
  const landing = Number.isFinite(s.lastEnd) && i.now > s.lastAt && i.bufferEnd - s.lastEnd > (LANDING_RATE * (i.now - s.lastAt)) / 1000;
  const lastEnd = i.bufferEnd;
  const lastAt = i.now;
  if (i.stalled) {
    if (Number.isNaN(stillSince)) stillSince = i.now;
  } else if (!Number.isNaN(stillSince)) {
    if (i.now - stillSince >= MIN_STILL_MS) endedAt = i.now;
    stillSince = NaN;
  }
  if (!Number.isNaN(endedAt) && i.now - endedAt > ARRIVAL_WINDOW_MS) endedAt = NaN;
  // Data back after a long enough stall: while still stalled (it has not started to play it
  // yet) or just after, within the window.
  const longStill = !Number.isNaN(stillSince) && i.now - stillSince >= MIN_STILL_MS;
  const backlog = i.bufferAhead - i.targetBuffer > BACKLOG_S;
  const armed = longStill || !Number.isNaN(endedAt) || !Number.isNaN(armedUntil);
  const kept = { stillSince, endedAt, lastEnd, lastAt, armedUntil, settledAt: NaN, settledEnd: NaN };
  if (!backlog || !armed || !Number.isFinite(i.bufferEnd)) return { state: kept };
  if (landing) return { state: kept, hold: true };
  const settledAt = Number.isNaN(s.settledAt) ? i.now : s.settledAt;
  const settledEnd = Number.isNaN(s.settledAt) ? i.bufferEnd : s.settledEnd;
  const probed = i.now - settledAt;
  if (probed < LIVE_PROBE_MS) return { state: { ...kept, settledAt, settledEnd }, hold: true };
  const live = i.bufferEnd - settledEnd >= (LIVE_GROWTH * probed) / 1000;
  const target = i.bufferEnd - Math.max(i.targetBuffer, live ? LIVE_SEEK_MARGIN_S : SEEK_MARGIN_S);
  if (target < i.lastStart) return { state: { ...kept, settledAt, settledEnd }, hold: true };
  const kf = i.keyframeAtOrBefore(target);
  const seekTo = Number.isFinite(kf) && kf <= target && target - kf <= KEYFRAME_SLACK_S ? kf : target;
  // One seek per part of the data that returns; armed a while for a second part.
  return { state: { ...kept, stillSince: NaN, endedAt: NaN, armedUntil: Number.isNaN(armedUntil) ? i.now + REARM_MS : armedUntil }, seekTo };
}

/** The rule's state across ticks: what the playback loop holds. */
export class OutageRule {
  #s = initialOutageState();

  step(i: OutageInput): OutageDecision {
    const d = outageStep(this.#s, i);
    this.#s = d.state;
    return d;
  }

  reset(): void {
    this.#s = initialOutageState();
  }
}
