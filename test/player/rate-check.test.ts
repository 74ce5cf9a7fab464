import { describe, expect, it } from 'vitest';
import { INEFFECTIVE_WINDOWS, RATE_WINDOW_MS, initialRateCheck, observeRate, type RateCheck } from '../../player/rate-check.js';

/** Plays `seconds` of wall clock in 100 ms ticks at `rate`, media advancing at `speed`× real time. */
function play(s: RateCheck, from: { now: number; media: number }, seconds: number, rate: number, speed: number, running = true): { s: RateCheck; now: number; media: number } {
  let { now, media } = from;
  for (let i = 0; i < seconds * 10; i++) {
    now += 100;
    media += 0.1 * speed;
    s = observeRate(s, { now, mediaTime: media, rate, running });
  }
  return { s, now, media };
}

describe('the playback-rate check', () => {
  const cases: Array<{ name: string; rate: number; speed: number; seconds: number; verdict: string }> = [
    { name: 'a rate the engine honours is effective after one window', rate: 1.25, speed: 1.25, seconds: 2, verdict: 'effective' },
    { name: 'a rate the engine ignores is ineffective after two windows', rate: 1.25, speed: 1, seconds: 2 * RATE_WINDOW_MS / 1000 + 0.5, verdict: 'ineffective' },
    { name: 'one window is not enough to call a rate ineffective', rate: 1.25, speed: 1, seconds: RATE_WINDOW_MS / 1000 + 0.3, verdict: 'unknown' },
    { name: 'a decoder slower than real time reads as ineffective', rate: 1.25, speed: 0.8, seconds: 4, verdict: 'ineffective' },
    { name: 'half the asked speed-up is effective', rate: 1.2, speed: 1.1, seconds: 2, verdict: 'effective' },
    { name: 'a small speed-up is never judged', rate: 1.05, speed: 1, seconds: 10, verdict: 'unknown' },
    { name: 'playing at 1× is never judged', rate: 1, speed: 1, seconds: 10, verdict: 'unknown' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(play(initialRateCheck(), { now: 0, media: 0 }, c.seconds, c.rate, c.speed).s.verdict).toBe(c.verdict);
    });
  }

  it('does not judge while playback is not running (stalled, paused, seeking)', () => {
    expect(play(initialRateCheck(), { now: 0, media: 0 }, 10, 1.25, 0, false).s.verdict).toBe('unknown');
  });

  it('judges a window whose rate moves between steps by the media all its rates asked for', () => {
    let r = { s: initialRateCheck(), now: 0, media: 0 };
    for (let i = 0; i < 8; i++) r = play(r.s, r, 0.5, i % 2 ? 1.25 : 1.15, 1);
    expect(r.s.verdict).toBe('ineffective');
    let ok = { s: initialRateCheck(), now: 0, media: 0 };
    for (let i = 0; i < 4; i++) ok = play(ok.s, ok, 0.5, i % 2 ? 1.25 : 1.15, i % 2 ? 1.25 : 1.15);
    expect(ok.s.verdict).toBe('effective');
  });

  it('does not judge a window that mostly played at 1×', () => {
    let r = { s: initialRateCheck(), now: 0, media: 0 };
    for (let i = 0; i < 10; i++) r = play(r.s, r, 0.5, i % 4 ? 1 : 1.25, 1);
    expect(r.s.verdict).toBe('unknown');
    expect(r.s.misses).toBe(0);
  });

  it('an effective window in between clears the misses', () => {
    let r = play(initialRateCheck(), { now: 0, media: 0 }, 1.6, 1.25, 1);
    expect(r.s.misses).toBe(1);
    r = play(r.s, r, 1.6, 1.25, 1.1); // between a quarter and half of the asked speed-up
    expect(r.s.misses).toBe(0);
    expect(r.s.verdict).toBe('unknown');
  });

  it('a jump forward inside a window is not taken as the rate working', () => {
    let r = play(initialRateCheck(), { now: 0, media: 0 }, 1, 1.25, 1);
    r.media += 5; // a seek to live the caller did not report
    r = play(r.s, r, 1, 1.25, 1);
    expect(r.s.verdict).not.toBe('effective');
  });

  it('keeps its verdict once decided', () => {
    let r = play(initialRateCheck(), { now: 0, media: 0 }, 4, 1.25, 1);
    expect(r.s.verdict).toBe('ineffective');
    expect(r.s.misses).toBe(INEFFECTIVE_WINDOWS);
    r = play(r.s, r, 4, 1.25, 1.25);
    expect(r.s.verdict).toBe('ineffective');
  });
});
