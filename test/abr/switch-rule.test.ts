import { describe, expect, it } from 'vitest';
import { decide, DEFAULT_SWITCH_RULES as R, initialSwitchState, type Ladder, type PathNow, type ProbeNow, type SwitchState } from '../../abr/switch-rule.js';

// Source 2.5 Mbit/s, then 800 and 250 kbit/s renditions.
const LADDER: Ladder = { bitrates: [2_500_000, 800_000, 250_000], top: 0, pinned: -1 };
const good = (bps: number): PathNow => ({ acking: true, lagMs: 40, throughputBps: bps });
const lagging: PathNow = { acking: true, lagMs: 600, throughputBps: 1_100_000 };
/** Lagging on a path that carries more than any rendition (a stall upstream of it, not its capacity). */
const laggingFast: PathNow = { acking: true, lagMs: 600, throughputBps: 5_000_000 };

/** Runs the rule every 50 ms of simulated time over `steps` [until ms, path]; returns when each switch happened. */
function run(steps: Array<[number, (s: SwitchState) => PathNow]>, ladder: Ladder = LADDER, start = 0): Array<[number, number]> {
  let s = initialSwitchState(start);
  const switches: Array<[number, number]> = [];
  let t = 0;
  for (const [until, path] of steps) {
    for (; t < until; t += 50) {
      const next = decide(s, path(s), ladder, t);
      if (next.current !== s.current) switches.push([t, next.current]);
      s = next;
    }
  }
  return switches;
}

describe('the switch rule', () => {
  it.each([
    ['keeps a viewer that keeps up where it is', { acking: true, lagMs: 30, throughputBps: 2_500_000 }, 0, 0],
    ['goes one step down when the lag passes downLagMs', { acking: true, lagMs: R.downLagMs + 1, throughputBps: 2_500_000 }, 0, 1],
    ['goes one step down when throughput falls short with some lag', { acking: true, lagMs: 200, throughputBps: 1_500_000 }, 0, 1],
    ['does not go down on low throughput without lag (a keyframe burst)', { acking: true, lagMs: 50, throughputBps: 1_500_000 }, 0, 0],
    ['leaves a viewer that never acknowledges alone', { acking: false, lagMs: 0, throughputBps: 0 }, 0, 0],
    ['does not go below the lowest rendition', lagging, 2, 2],
    ['goes one step down when the queue at its last ack passes downLagMs, before the lag shows', { acking: true, lagMs: 0, throughputBps: 2_500_000, queueMs: R.downLagMs + 1 }, 0, 1],
    ['goes one step down on low throughput with a queue', { acking: true, lagMs: 0, throughputBps: 1_500_000, queueMs: 200 }, 0, 1],
  ])('%s', (_what, path, from, to) => {
    expect(decide(initialSwitchState(from), path, LADDER, 10_000).current).toBe(to);
  });

  it('takes at most one step per decision window, however bad the path', () => {
    const sw = run([[3000, () => lagging]]);
    expect(sw).toEqual([[0, 1], [R.windowMs, 2]]);
  });

  it('goes back up one step at a time, each after upHoldMs of keeping up with headroom', () => {
    const sw = run([[2000, () => laggingFast], [40_000, (s) => good(LADDER.bitrates[s.current]!)]]);
    expect(sw[0]).toEqual([0, 1]);
    expect(sw[1]).toEqual([1000, 2]);
    // Good from 2000 ms: up after upHoldMs, then again upHoldMs later.
    expect(sw[2]).toEqual([2000 + R.upHoldMs, 1]);
    expect(sw[3]).toEqual([2000 + 2 * R.upHoldMs, 0]);
    expect(sw).toHaveLength(4);
  });

  it('does not go up without headroom, however long the lag stays low', () => {
    const sw = run([[1000, () => lagging], [30_000, () => ({ acking: true, lagMs: 30, throughputBps: 500_000 })]]);
    expect(sw).toEqual([[0, 1]]);
  });

  it('restarts the hold when the path is not good for a moment', () => {
    let flaky = 0;
    const sw = run([[100, () => lagging], [60_000, (s) => (++flaky % 60 === 0 ? { ...good(0), lagMs: 300 } : good(LADDER.bitrates[s.current]!))]]);
    // A blip every 3 s: the 5 s hold never completes.
    expect(sw).toEqual([[0, 1]]);
  });

  it('doubles the hold after an up-switch that had to come back down at once', () => {
    // Down, up after the hold, then the path fails again right after the up-switch.
    const upAt = 100 + R.upHoldMs;
    const sw = run([[100, () => laggingFast], [upAt + 50, (s) => good(LADDER.bitrates[s.current]!)], [upAt + R.windowMs + 50, () => laggingFast],
      [80_000, (s) => good(LADDER.bitrates[s.current]!)]]);
    expect(sw.slice(0, 3)).toEqual([[0, 1], [upAt, 0], [upAt + R.windowMs, 1]]);
    // The next up-switch waits twice the hold from when the path became good again.
    expect(sw[3]).toEqual([upAt + R.windowMs + 50 + 2 * R.upHoldMs, 0]);
  });

  it('tries a rendition above what the path carried while it could not keep up only capacityMs after that, and one within it at the hold', () => {
    // 1.1 Mbit/s while lagging: 800 kbit/s fits (≤ 0.85 × 1.1 M), the 2.5 Mbit/s source does not.
    const sw = run([[2000, () => lagging], [60_000, (s) => good(LADDER.bitrates[s.current]!)]]);
    expect(sw.slice(0, 2)).toEqual([[0, 1], [1000, 2]]);
    expect(sw[2]).toEqual([2000 + R.upHoldMs, 1]);
    // The last lagging measure was at 1950 ms.
    expect(sw[3]).toEqual([1950 + R.capacityMs, 0]);
    expect(sw).toHaveLength(4);
  });

  it('is back up within 15 s of a long cut ending, however many tries failed during it', () => {
    // A path at 1.1 Mbit/s for 40 s: every try of the source fails at once; then it recovers.
    const cutEnd = 40_000;
    const sw = run([[cutEnd, (s) => (s.current === 0 ? lagging : good(LADDER.bitrates[s.current]!))], [80_000, (s) => good(LADDER.bitrates[s.current]!)]]);
    const backUp = sw.find(([t, to]) => t >= cutEnd && to === 0);
    expect(backUp).toBeDefined();
    expect(backUp![0] - cutEnd).toBeLessThanOrEqual(15_000);
    // And the source was tried during the cut no more often than every capacityMs.
    const tries = sw.filter(([t, to]) => t < cutEnd && to === 0).map(([t]) => t);
    for (let i = 1; i < tries.length; i++) expect(tries[i]! - tries[i - 1]!).toBeGreaterThanOrEqual(R.capacityMs);
  });

  describe('with a viewer that answers probes', () => {
    /**
     * Runs the rule every 50 ms; a probe asked for is answered 100 ms later with the rate
     * `pathBps(t)` says the path carries then. Returns the switches and when probes were asked.
     */
    function probed(steps: Array<[number, (s: SwitchState) => PathNow]>, pathBps: (t: number) => number, answers = true): { switches: Array<[number, number]>; asked: number[] } {
      let s = initialSwitchState(0);
      const switches: Array<[number, number]> = [];
      const asked: number[] = [];
      let probe: ProbeNow = { bps: 0, at: 0, answers: false, deaf: false };
      let answerAt = Infinity;
      let t = 0;
      for (const [until, path] of steps) {
        for (; t < until; t += 50) {
          if (t >= answerAt) { probe = answers ? { bps: pathBps(t), at: t, answers: true, deaf: false } : { ...probe, deaf: asked.length >= 2 }; answerAt = Infinity; }
          const next = decide(s, path(s), LADDER, t, R, probe);
          if (next.probeAskedAt === t && s.probeAskedAt !== t) { asked.push(t); answerAt = t + 100; }
          if (next.current !== s.current) switches.push([t, next.current]);
          s = next;
        }
      }
      return { switches, asked };
    }
    const cut = (s: SwitchState): PathNow => (s.current === 0 ? lagging : good(LADDER.bitrates[s.current]!));

    it('probes instead of trying the source while the path it measured holds it down, and never tries it during the cut', () => {
      const cutEnd = 40_000;
      const { switches, asked } = probed([[cutEnd, cut], [60_000, (s) => good(LADDER.bitrates[s.current]!)]], (t) => (t < cutEnd ? 1_200_000 : 20_000_000));
      expect(switches.filter(([t, to]) => t < cutEnd && to === 0)).toEqual([]);
      // Down at 0 (the capacity measured then); the first probe once the hold at 800 kbit/s is done, then every probeEveryMs.
      expect(switches[0]).toEqual([0, 1]);
      expect(asked[0]).toBe(50 + R.upHoldMs);
      for (let i = 1; i < asked.length; i++) expect(asked[i]! - asked[i - 1]!).toBe(R.probeEveryMs);
      // Back up at the first probe after the cut, when its answer comes.
      const firstAfter = asked.find((t) => t >= cutEnd)!;
      expect(switches.find(([t, to]) => t >= cutEnd && to === 0)).toEqual([firstAfter + 100, 0]);
      expect(firstAfter - cutEnd).toBeLessThan(R.probeEveryMs);
    });

    it('goes up on a probe only when it shows 1/capacityShare of the rendition above', () => {
      const need = LADDER.bitrates[0]! / R.capacityShare;
      expect(probed([[2000, cut], [20_000, (s) => good(LADDER.bitrates[s.current]!)]], () => need * 0.99).switches.filter(([, to]) => to === 0)).toEqual([]);
      expect(probed([[2000, cut], [20_000, (s) => good(LADDER.bitrates[s.current]!)]], () => need * 1.01).switches.filter(([, to]) => to === 0)).toHaveLength(1);
    });

    it('does not take a probe answered before the path was last measured slow, or an old one', () => {
      const state: SwitchState = { ...initialSwitchState(1), capBps: 1_100_000, capAt: 10_000 };
      const at = 10_000 + R.upHoldMs + 1000;
      const held = { ...state, goodSince: 10_000 };
      expect(decide(held, good(800_000), LADDER, at, R, { bps: 50e6, at: 9_000, answers: true, deaf: false }).current).toBe(1);
      expect(decide(held, good(800_000), LADDER, at, R, { bps: 50e6, at: at - R.probeFreshMs - 1, answers: true, deaf: false }).current).toBe(1);
      expect(decide(held, good(800_000), LADDER, at, R, { bps: 50e6, at: at - 100, answers: true, deaf: false }).current).toBe(0);
    });

    it('falls back to the timed try after probedRetryMs, in case its probes read the path low', () => {
      const { switches } = probed([[2000, cut], [R.probedRetryMs + 5000, (s) => good(LADDER.bitrates[s.current]!)]], () => 1_000_000);
      expect(switches.filter(([, to]) => to === 0)).toEqual([[R.probedRetryMs, 0]]);
    });

    it('stops asking a viewer that never answers, and tries the source at capacityMs as before', () => {
      const { switches, asked } = probed([[2000, cut], [20_000, (s) => good(LADDER.bitrates[s.current]!)]], () => 50e6, false);
      expect(asked).toHaveLength(2);
      expect(switches.find(([, to]) => to === 0)).toEqual([R.capacityMs, 0]);
    });
  });

  it('obeys a pin at once and stays there whatever the path', () => {
    expect(run([[5000, () => lagging]], { ...LADDER, pinned: 0 }, 2)).toEqual([[0, 0]]);
    expect(run([[20_000, (s) => good(LADDER.bitrates[s.current]!)]], { ...LADDER, pinned: 2 })).toEqual([[0, 2]]);
  });

  it('never goes above the viewer\'s cap, and moves under it at once', () => {
    expect(run([[30_000, (s) => good(LADDER.bitrates[s.current]!)]], { ...LADDER, top: 1 }, 0)).toEqual([[0, 1]]);
    expect(run([[30_000, (s) => good(LADDER.bitrates[s.current]!)]], { ...LADDER, top: 1 }, 2)).toEqual([[R.upHoldMs, 1]]);
  });
});
