// The outage rule on a simulated clock: a 50 ms tick, a picture that stands still for a while,
// then data that returns as a backlog (or trickles back without one).
import { describe, expect, it } from 'vitest';
import { initialOutageState, outageStep, type OutageState } from '../../player/outage.js';

const TARGET_BUFFER = 0.1;

interface Script {
  /** The picture stands still from..to (ms). */
  stillFrom: number;
  stillTo: number;
  /** From this time (ms) on, the buffer holds `backlog` s beyond currentTime. */
  backAt: number;
  backlog: number;
  /** Keyframes (media s) buffered. */
  keyframes: number[];
  /** After backAt, media goes on arriving at real time (the relay's live edge). */
  grows?: boolean;
}

/** Runs 0–5 s of ticks; returns when (ms) and where (s) the rule seeked, if it did. */
function run(sc: Script): { at: number; to: number } | null {
  let s: OutageState = initialOutageState();
  const currentTime = 10;
  for (let now = 0; now <= 5000; now += 50) {
    const stalled = now >= sc.stillFrom && now < sc.stillTo;
    const ahead = now >= sc.backAt ? sc.backlog + (sc.grows ? (now - sc.backAt) / 1000 : 0) : (stalled ? 0 : TARGET_BUFFER);
    const d = outageStep(s, {
      now, stalled, bufferAhead: ahead, bufferEnd: currentTime + ahead, lastStart: 9, targetBuffer: TARGET_BUFFER,
      keyframeAtOrBefore: (t) => { const k = sc.keyframes.filter((x) => x <= t); return k.length ? Math.max(...k) : NaN; },
    });
    s = d.state;
    if (d.seekTo !== undefined) return { at: now, to: d.seekTo };
  }
  return null;
}

describe('recovery at live after an outage', () => {
  it.each<[string, Script, { at: number; to: number } | null]>([
    // A 2 s freeze whose backlog lands while the picture still stands, and then nothing more:
    // seek once it has landed (the next tick) and LIVE_PROBE_MS showed no more coming, to the
    // target moment kept SEEK_MARGIN_S (0.3 s) from the end: 12.0 − 0.3; the keyframe at 11.0
    // is too far back.
    ['a 2 s stall, then a 2 s backlog and nothing after it', { stillFrom: 1000, stillTo: 3200, backAt: 3000, backlog: 2, keyframes: [11] }, { at: 3200, to: 11.7 }],
    // The same with live media arriving after the backlog: LIVE_SEEK_MARGIN_S (0.15 s) from the end, 12.2 − 0.15.
    ['a 2 s stall, then a 2 s backlog and live media after it', { stillFrom: 1000, stillTo: 3200, backAt: 3000, backlog: 2, keyframes: [11], grows: true }, { at: 3200, to: 12.05 }],
    // The same with a keyframe 0.1 s before the target moment: seek to it.
    ['a 2 s stall, a keyframe near the target', { stillFrom: 1000, stillTo: 3200, backAt: 3000, backlog: 2, keyframes: [11, 11.6] }, { at: 3200, to: 11.6 }],
    // The picture moved again a tick before the backlog was seen: still within the window.
    ['a stall that ended a tick before the backlog', { stillFrom: 1000, stillTo: 3000, backAt: 3050, backlog: 1.5, keyframes: [] }, { at: 3250, to: 11.2 }],
    // 0.4 s still: shorter than the rule's 0.5 s: the rate drains the backlog.
    ['a 0.4 s stall', { stillFrom: 1000, stillTo: 1400, backAt: 1400, backlog: 1, keyframes: [] }, null],
    // A backlog without a stall (a burst after jitter): the rate's (≤ 1.25×), as before.
    ['a backlog without a stall', { stillFrom: 99_000, stillTo: 99_000, backAt: 1000, backlog: 2, keyframes: [] }, null],
    // A long stall whose data returns with no more than the target: nothing to skip.
    ['a stall with no backlog after it', { stillFrom: 1000, stillTo: 3000, backAt: 3000, backlog: 0.3, keyframes: [] }, null],
    // A backlog that builds up later than the window (2.5 s) after playback resumed: the rate's.
    ['a backlog 3 s after the stall ended', { stillFrom: 500, stillTo: 1500, backAt: 4500, backlog: 2, keyframes: [] }, null],
    // The relay's resumed media landing 1.5 s after the picture moved on the held bytes: still
    // the outage's (a clean-clone CI run drained it by rate when the window was 1 s).
    ['a backlog 1.5 s after the stall ended', { stillFrom: 500, stillTo: 1500, backAt: 3000, backlog: 2, keyframes: [] }, { at: 3200, to: 11.7 }],
  ])('%s', (_label, sc, want) => {
    const got = run(sc);
    if (want === null) expect(got).toBeNull();
    else {
      expect(got?.at).toBe(want.at);
      expect(got?.to).toBeCloseTo(want.to, 9);
    }
  });

  it('waits while the backlog is still landing, and aims at where it ends', () => {
    let s = initialOutageState();
    const base = { targetBuffer: 0.1, lastStart: 9, keyframeAtOrBefore: () => NaN };
    for (let now = 0; now <= 550; now += 50) s = outageStep(s, { ...base, now, stalled: true, bufferAhead: 0, bufferEnd: 10 }).state;
    // 2 s of media lands over 150 ms, 0.7 s a tick, then media at real time: no seek until it
    // stopped racing ahead and LIVE_PROBE_MS showed it live.
    for (const [now, end] of [[600, 10.7], [650, 11.4], [700, 12.0], [750, 12.05], [800, 12.1], [850, 12.15]] as const) {
      const d = outageStep(s, { ...base, now, stalled: true, bufferAhead: end - 10, bufferEnd: end });
      expect(d.seekTo).toBeUndefined();
      expect(d.hold).toBe(true);
      s = d.state;
    }
    const d = outageStep(s, { ...base, now: 900, stalled: true, bufferAhead: 2.2, bufferEnd: 12.2 });
    expect(d.seekTo).toBeCloseTo(12.05, 9);
  });

  it('after a gap the relay left (it resumed at a keyframe), holds the gap jump until the new range can land at the target, then seeks there', () => {
    let s = initialOutageState();
    const base = { targetBuffer: 0.3, keyframeAtOrBefore: (t: number) => (t >= 12 ? 12 : NaN) };
    // Stalled at 11.0, the end of what arrived; nothing after it for 0.6 s.
    for (let now = 0; now <= 600; now += 50) s = outageStep(s, { ...base, now, stalled: true, bufferAhead: NaN, bufferEnd: 11, lastStart: 9 }).state;
    // The relay's keyframe at 12.0 lands, then media at real time: 12.0–12.1, 12.15, 12.2 …
    const seen: Array<number | 'hold' | undefined> = [];
    for (let k = 0; k <= 8; k++) {
      const end = 12.1 + k * 0.05;
      const d = outageStep(s, { ...base, now: 650 + k * 50, stalled: true, bufferAhead: end - 11, bufferEnd: end, lastStart: 12 });
      s = d.state;
      seen.push(d.seekTo ?? (d.hold ? 'hold' : undefined));
      if (d.seekTo !== undefined) break;
    }
    // Held while 12.0–12.3 (the target buffer) has not landed; then to the keyframe at 12.0,
    // within 0.2 s of the target moment (12.3 − 0.3 = 12.0).
    expect(seen.slice(0, -1).every((x) => x === 'hold')).toBe(true);
    expect(seen.at(-1)).toBeCloseTo(12.0, 9);
  });

  it('seeks once per part of the data that returns, and takes a second part (the relay resumed after a gap) within REARM_MS', () => {
    let s = initialOutageState();
    const input = { stalled: true, bufferAhead: 2, bufferEnd: 12, lastStart: 9, targetBuffer: 0.1, keyframeAtOrBefore: () => NaN };
    s = outageStep(s, { ...input, now: 0, bufferAhead: 0, bufferEnd: 10 }).state;
    s = outageStep(s, { ...input, now: 550 }).state;
    for (let now = 600; now < 750; now += 50) s = outageStep(s, { ...input, now }).state;
    const first = outageStep(s, { ...input, now: 750 });
    expect(first.seekTo).toBeCloseTo(11.7, 9);
    // Playing at 11.7 with 0.3 s ahead: no second seek.
    const again = outageStep(first.state, { ...input, now: 800, stalled: false, bufferAhead: 0.3 });
    expect(again.seekTo).toBeUndefined();
    // 0.3 s later the relay's resumed media lands after a gap, 13.0–14.0, then goes on live: a seek into it.
    let t = again.state;
    t = outageStep(t, { ...input, now: 1100, stalled: true, bufferAhead: 0, bufferEnd: 12 }).state;
    const landed = outageStep(t, { ...input, now: 1150, stalled: true, bufferAhead: 2, bufferEnd: 14, lastStart: 13 });
    expect(landed.hold).toBe(true); // still landing
    let u = landed.state;
    for (let k = 1; k < 4; k++) u = outageStep(u, { ...input, now: 1150 + 50 * k, stalled: true, bufferAhead: 2 + 0.05 * k, bufferEnd: 14 + 0.05 * k, lastStart: 13 }).state;
    const second = outageStep(u, { ...input, now: 1350, stalled: true, bufferAhead: 2.2, bufferEnd: 14.2, lastStart: 13 });
    expect(second.seekTo).toBeCloseTo(14.05, 9);
    // Past REARM_MS a backlog after a short stall is the rate's again.
    const late = outageStep(second.state, { ...input, now: 4000, stalled: false, bufferAhead: 1, bufferEnd: 15, lastStart: 13 });
    expect(late.seekTo).toBeUndefined();
  });
});
