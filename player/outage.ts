// Recovery at live after an outage: when the picture has stood still for at least
// MIN_STILL_MS waiting for data, and the data then returns as a backlog (more buffered than
// the target by BACKLOG_S), playback resumes near the target at once instead of replaying the
// stale backlog fast-forwarded: a seek to the keyframe at or before the target moment (the
// buffered end less the target buffer, or SEEK_MARGIN_S if more) when one is within
// KEYFRAME_SLACK_S of it (the rate controller then closes what is left), else
// to the target moment itself (the decoder starts from the keyframe before it). It waits while
// the backlog is still landing (the buffer's end racing ahead of real time). A backlog
// without such a stall is left to the rate (≤ maxRate), as before (player/latency.ts).
// Pure: the tick feeds it, tests drive it on a simulated clock.

/** The picture must have stood still this long (ms) for a backlog to be skipped. */
export const MIN_STILL_MS = 500;
/** Buffered beyond the target buffer (s) that counts as a backlog. */
export const BACKLOG_S = 0.25;
/** A backlog arriving later than this (ms) after the picture moved again is the rate's. */
export const ARRIVAL_WINDOW_MS = 1000;
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
}

export const initialOutageState = (): OutageState => ({ stillSince: NaN, endedAt: NaN, lastEnd: NaN, lastAt: NaN, armedUntil: NaN });

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
  if (!backlog || !armed || !Number.isFinite(i.bufferEnd)) return { state: { stillSince, endedAt, lastEnd, lastAt, armedUntil } };
  const target = i.bufferEnd - Math.max(i.targetBuffer, SEEK_MARGIN_S);
  if (landing || target < i.lastStart) return { state: { stillSince, endedAt, lastEnd, lastAt, armedUntil }, hold: true };
  const kf = i.keyframeAtOrBefore(target);
  const seekTo = Number.isFinite(kf) && kf <= target && target - kf <= KEYFRAME_SLACK_S ? kf : target;
  // One seek per part of the data that returns; armed a while for a second part.
  return { state: { stillSince: NaN, endedAt: NaN, lastEnd, lastAt, armedUntil: Number.isNaN(armedUntil) ? i.now + REARM_MS : armedUntil }, seekTo };
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
