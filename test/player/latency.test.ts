import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../player/config.js';
import { decide, initialControlState, SEEK_COOLDOWN_MS } from '../../player/latency.js';
import type { ControlParams, ControlState, Decision } from '../../player/latency.js';

const FRAME = 1 / 30;
const TICK_MS = 100;
const TARGET = DEFAULTS.targetLatency;

interface SimOptions {
  /** Seconds already buffered ahead at t=0. */
  backlog: number;
  seconds: number;
  params?: Partial<ControlParams>;
  /** Returns how many frames arrive in this tick; defaults to real time. */
  arrivals?: (tick: number) => number;
}

interface SimResult {
  rates: number[];
  ahead: number[];
  seeks: Array<{ at: number; to: number; end: number }>;
  stallTicks: number;
}

/** A simulated buffer: a producer appends frames, playback consumes at the decided rate. */
function simulate(o: SimOptions): SimResult {
  const params: ControlParams = { ...DEFAULTS, ...o.params };
  let state: ControlState = initialControlState();
  let end = o.backlog;
  let t = 0;
  let rate = 1;
  let frac = 0;
  const out: SimResult = { rates: [], ahead: [], seeks: [], stallTicks: 0 };
  for (let tick = 1; tick <= (o.seconds * 1000) / TICK_MS; tick++) {
    const now = tick * TICK_MS;
    if (o.arrivals) end += o.arrivals(tick) * FRAME;
    else {
      frac += TICK_MS / 1000 / FRAME;
      const whole = Math.floor(frac);
      frac -= whole;
      end += whole * FRAME;
    }
    const next = t + (TICK_MS / 1000) * rate;
    if (next > end) out.stallTicks += 1;
    t = Math.min(next, end);
    const d: Decision = decide({ now, bufferAhead: end - t, bufferEnd: end, target: TARGET, latency: NaN }, state, params);
    state = d.state;
    rate = d.rate;
    if (d.seekTo !== undefined) {
      out.seeks.push({ at: now, to: d.seekTo, end });
      t = d.seekTo;
    }
    out.rates.push(rate);
    out.ahead.push(end - t);
  }
  return out;
}

function changes(rates: number[]): number {
  let n = 0;
  for (let i = 1; i < rates.length; i++) if (rates[i] !== rates[i - 1]) n += 1;
  return n;
}

describe('latency controller', () => {
  it('converges from a 2 s backlog by rate alone, never above maxRate, when the ceiling allows it', () => {
    const r = simulate({ backlog: 2, seconds: 30, params: { seekCeiling: 5 } });
    expect(r.seeks).toHaveLength(0);
    expect(Math.max(...r.rates)).toBeLessThanOrEqual(DEFAULTS.maxRate);
    expect(Math.max(...r.rates)).toBe(DEFAULTS.maxRate); // it did use the cap on a big backlog
    // Converged within ~20 s and then holding at 1× near the target.
    const tail = r.ahead.slice(200);
    for (const a of tail) expect(Math.abs(a - TARGET)).toBeLessThan(DEFAULTS.deadbandEnter + FRAME);
    expect(r.rates.slice(200).every((x) => x === 1)).toBe(true);
    expect(r.stallTicks).toBe(0);
  });

  it('seeks once to buffered end minus target when a 2 s backlog is past the default ceiling, then holds', () => {
    const r = simulate({ backlog: 2, seconds: 10 });
    expect(r.seeks).toHaveLength(1);
    const s = r.seeks[0]!;
    expect(s.to).toBeCloseTo(s.end - TARGET, 9);
    expect(Math.abs(r.ahead[r.ahead.length - 1]! - TARGET)).toBeLessThan(DEFAULTS.deadbandEnter + FRAME);
  });

  it('plays slower than 1× when the buffer ahead drops under lowBuffer', () => {
    const d = decide(
      { now: 1000, bufferAhead: 0.05, bufferEnd: 10, target: TARGET, latency: NaN },
      initialControlState(),
      DEFAULTS,
    );
    expect(d.reason).toBe('low-buffer');
    expect(d.rate).toBeLessThan(1);
    expect(d.rate).toBeGreaterThanOrEqual(DEFAULTS.minRate);
    expect(d.seekTo).toBeUndefined();
  });

  it('slows down during a network hiccup so the buffer lasts longer than at 1×', () => {
    // Frames stop arriving for 400 ms at t=5 s, then the backlog arrives at once.
    const arrivals = (tick: number): number => (tick >= 50 && tick < 54 ? 0 : tick === 54 ? 15 : 3);
    const r = simulate({ backlog: TARGET, seconds: 10, arrivals });
    const during = r.rates.slice(50, 54);
    expect(Math.min(...during)).toBeLessThan(1);
    expect(Math.min(...r.rates)).toBeGreaterThanOrEqual(DEFAULTS.minRate);
  });

  it('seeks only past the hard ceiling, and not again during the cooldown', () => {
    const at = (ahead: number, now: number, state = initialControlState()): Decision =>
      decide({ now, bufferAhead: ahead, bufferEnd: 100, target: TARGET, latency: NaN }, state, DEFAULTS);
    const just = TARGET + DEFAULTS.seekCeiling;
    let state = initialControlState();
    for (let now = 0; now < 5000; now += TICK_MS) {
      const d = at(just - 0.01, now, state);
      expect(d.seekTo).toBeUndefined();
      expect(d.rate).toBeLessThanOrEqual(DEFAULTS.maxRate);
      state = d.state;
    }
    const past = at(just + 0.01, 10_000);
    expect(past.seekTo).toBeCloseTo(100 - TARGET, 9);
    expect(past.rate).toBe(1);
    const again = at(just + 0.5, 10_000 + SEEK_COOLDOWN_MS - 1, past.state);
    expect(again.seekTo).toBeUndefined();
    expect(at(just + 0.5, 10_000 + SEEK_COOLDOWN_MS, past.state).seekTo).toBeDefined();
  });

  it('does not oscillate: jittery arrivals around the target leave the rate at 1×', () => {
    // Frames arrive in bursts of 0–6 per tick (3 on average), a bumpy but healthy network.
    const pattern = [3, 0, 6, 3, 1, 5, 2, 4, 3, 3];
    const r = simulate({ backlog: TARGET + 0.05, seconds: 60, arrivals: (tick) => pattern[tick % pattern.length]! });
    expect(changes(r.rates)).toBeLessThanOrEqual(2);
    expect(r.stallTicks).toBe(0);
    expect(r.seeks).toHaveLength(0);
  });

  it('never touches the rate for ±1 frame of arrival jitter around the target', () => {
    const pattern = [3, 2, 4, 3, 3, 2, 4, 3, 4, 2];
    const r = simulate({ backlog: TARGET, seconds: 60, arrivals: (tick) => pattern[tick % pattern.length]! });
    expect(changes(r.rates)).toBe(0);
    expect(r.stallTicks).toBe(0);
  });

  it('changes the rate only in whole steps, and not more often than needed while converging', () => {
    const r = simulate({ backlog: 1, seconds: 20 });
    for (const x of r.rates) {
      const steps = (x - 1) / DEFAULTS.rateStep;
      const onGrid = Math.abs(steps - Math.round(steps)) < 1e-6;
      expect(onGrid || x === DEFAULTS.maxRate || x === DEFAULTS.minRate).toBe(true);
    }
    // A monotone glide down to 1×: a handful of changes, not a dither.
    expect(changes(r.rates)).toBeLessThanOrEqual(12);
  });

  it('keeps 1× inside the hysteresis band and starts correcting only past deadbandEnter', () => {
    const inBand = decide(
      { now: 0, bufferAhead: TARGET + DEFAULTS.deadbandEnter - 0.005, bufferEnd: 10, target: TARGET, latency: NaN },
      initialControlState(),
      DEFAULTS,
    );
    expect(inBand.rate).toBe(1);
    expect(inBand.reason).toBe('hold');
    const outside = decide(
      { now: 0, bufferAhead: TARGET + DEFAULTS.deadbandEnter + 0.01, bufferEnd: 10, target: TARGET, latency: NaN },
      initialControlState(),
      DEFAULTS,
    );
    expect(outside.rate).toBeGreaterThan(1);
    expect(outside.reason).toBe('catch-up');
  });

  it('plays at 1× and never seeks when nothing is buffered', () => {
    const d = decide(
      { now: 0, bufferAhead: NaN, bufferEnd: NaN, target: TARGET, latency: NaN },
      { ...initialControlState(), rate: 1.1 },
      DEFAULTS,
    );
    expect(d).toMatchObject({ rate: 1, reason: 'idle' });
    expect(d.seekTo).toBeUndefined();
  });
});
