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
/** Only a window whose mean rate asks at least this much is judged: small steps hide in clock noise. */
export const MIN_JUDGED_RATE = 1.1;
/** This many ineffective windows in a row decide it. */
export const INEFFECTIVE_WINDOWS = 2;

export type RateVerdict = 'unknown' | 'effective' | 'ineffective';

export interface RateCheck {
  verdict: RateVerdict;
  /** Window start: wall (ms) and media time (s); NaN when no window is open. */
  wall0: number;
  media0: number;
  /** The previous sample: wall (ms) and the rate set then, which held until this sample. */
  lastWall: number;
  rate: number;
  /** Media (s) the rates asked for since the window opened. */
  asked: number;
  /** Ineffective windows in a row. */
  misses: number;
}

export function initialRateCheck(): RateCheck {
  return { verdict: 'unknown', wall0: NaN, media0: NaN, lastWall: NaN, rate: 1, asked: 0, misses: 0 };
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

/**
 * The check after one tick's sample. The controller moves the rate every few hundred ms, so a
 * window sums what each rate asked for rather than waiting for one rate to hold. Once decided,
 * the verdict stays.
 */
export function observeRate(s: RateCheck, x: RateSample): RateCheck {
  if (s.verdict !== 'unknown') return s;
  const open = (): RateCheck => ({ ...s, wall0: x.now, media0: x.mediaTime, lastWall: x.now, rate: x.rate, asked: 0 });
  if (!x.running) return { ...s, wall0: NaN, media0: NaN, lastWall: NaN, asked: 0 };
  if (!Number.isFinite(s.wall0) || x.mediaTime < s.media0) return open();
  const asked = s.asked + s.rate * (x.now - s.lastWall) / 1000;
  const wall = (x.now - s.wall0) / 1000;
  const next: RateCheck = { ...s, lastWall: x.now, rate: x.rate, asked };
  if (wall * 1000 < RATE_WINDOW_MS) return next;
  const moved = x.mediaTime - s.media0;
  const wanted = asked - wall; // the speed-up asked for (s of media beyond real time)
  // Too small a speed-up to judge, or far more than asked: a jump the caller did not report.
  if (wanted < (MIN_JUDGED_RATE - 1) * wall || moved > 2 * asked) return open();
  const gained = moved - wall;
  // Less than a quarter of the asked speed-up: the rate did not take.
  if (gained < wanted / 4) {
    const misses = s.misses + 1;
    return misses >= INEFFECTIVE_WINDOWS ? { ...open(), verdict: 'ineffective', misses } : { ...open(), misses };
  }
  // At least half of it: the rate works here.
  if (gained >= wanted / 2) return { ...open(), verdict: 'effective', misses: 0 };
  return { ...open(), misses: 0 };
}
