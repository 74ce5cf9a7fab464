// Does playbackRate move the picture? Some engines take the rate and play on at 1×, or can't
// decode faster than real time: measured on WebKitGTK (GStreamer), the controller sat at its
// 1.25× cap for a whole run while latency stayed 0.2–0.3 s above target. Rather than name
// engines, the player measures: while a catch-up rate is held and playback runs with data
// ahead, media time should advance `rate` times as fast as the wall clock. Windows that show
// less than a quarter of the asked speed-up, twice in a row, give the verdict 'ineffective',
// and the controller then corrects by jumps instead (player/playback.ts). Pure, so a
// simulated clock tests it.

/** A window needs the rate held this long (ms) to judge. */
export const RATE_WINDOW_MS = 1500;
/** Only a speed-up of at least this much is judged: small steps hide in clock noise. */
export const MIN_JUDGED_RATE = 1.1;
/** This many ineffective windows in a row decide it. */
export const INEFFECTIVE_WINDOWS = 2;

export type RateVerdict = 'unknown' | 'effective' | 'ineffective';

export interface RateCheck {
  verdict: RateVerdict;
  /** Window start: wall (ms) and media time (s); NaN when no window is open. */
  wall0: number;
  media0: number;
  /** The rate the open window holds. */
  rate: number;
  /** Ineffective windows in a row. */
  misses: number;
}

export function initialRateCheck(): RateCheck {
  return { verdict: 'unknown', wall0: NaN, media0: NaN, rate: 1, misses: 0 };
}

export interface RateSample {
  /** Monotonic wall clock (ms). */
  now: number;
  /** The video's currentTime (s). */
  mediaTime: number;
  /** The rate set on the video. */
  rate: number;
  /** Playing with data ahead: not paused, seeking, stalled or hidden. */
  running: boolean;
}

/** The check after one tick's sample. Once decided, the verdict stays. */
export function observeRate(s: RateCheck, x: RateSample): RateCheck {
  if (s.verdict !== 'unknown') return s;
  const open = (): RateCheck => ({ ...s, wall0: x.now, media0: x.mediaTime, rate: x.rate });
  if (!x.running || x.rate < MIN_JUDGED_RATE) return { ...s, wall0: NaN, media0: NaN };
  if (!Number.isFinite(s.wall0) || x.rate !== s.rate || x.mediaTime < s.media0) return open();
  const wall = x.now - s.wall0;
  if (wall < RATE_WINDOW_MS) return s;
  const speed = (x.mediaTime - s.media0) / (wall / 1000);
  // Far faster than asked: a jump the caller did not report. Not evidence either way.
  if (speed > 2 * x.rate) return open();
  // Less than a quarter of the asked speed-up: the rate did not take.
  if (speed < 1 + (x.rate - 1) / 4) {
    const misses = s.misses + 1;
    return misses >= INEFFECTIVE_WINDOWS ? { ...open(), verdict: 'ineffective', misses } : { ...open(), misses };
  }
  // At least half of it: the rate works here.
  if (speed >= 1 + (x.rate - 1) / 2) return { ...open(), verdict: 'effective', misses: 0 };
  return { ...open(), misses: 0 };
}
