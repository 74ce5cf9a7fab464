// Pure reductions from what the tabs recorded to one row of the report. All times are
// wall-clock ms (Date.now() in the page and in Node: the namespaces share the machine clock).
import { percentile, type GlassSample } from '../lib/pixel-clock.js';
import type { LatState } from './page.js';

export interface TabData {
  glass: GlassSample[];
  unreadable: number;
  lat: LatState;
  firstFrameMs: number;
}

export interface Window {
  from: number;
  to: number;
  /** The 2 s outage, if the scenario has one. */
  pauseAt?: number;
  resumeAt?: number;
  /** The bandwidth cut, if the scenario has one. */
  cutAt?: number;
  cutEndAt?: number;
}

export interface RowMetrics {
  frames: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Per-viewer medians. */
  tabP50: number[];
  /** `waiting` → `playing`, summed over viewers; in the backlog scenario the outage's own stall is left out. */
  stalls: number;
  stallMs: number;
  /** Presented-frame gaps > FREEZE_MS, summed over viewers (outage excluded likewise). */
  freezes: number;
  freezeMs: number;
  seeks: number;
  /** Stall-breaking seeks in place (player stats.unstalls), summed over viewers. */
  unstalls: number;
  maxRate: number;
  minRate: number;
  /**
   * Backlog: per viewer, seconds from resume until the pixel latency stays within ±BAND_MS of the
   * player's target on the pixel scale (stats.targetLatency + pixelOffset); when the player does not
   * expose both, of the viewer's pre-outage median.
   */
  recoveryS: number[];
  /** Backlog: per viewer, the same against the pre-outage median pixel latency. */
  recoveryRefS: number[];
  /** Per viewer, pixel latency − player latency (ms). */
  offsetMs: number[];
  /** Stalls during the join and warm-up (before the window), summed over viewers. */
  joinStalls: number;
  /** Backlog: per viewer, the same from the player's own stats (latency vs targetLatency, 10 Hz); NaN if not exposed or never. */
  recoveryPlayerS: number[];
  /** Backlog: per viewer, that reference (ms). */
  referenceMs: number[];
  /** Backlog: highest per-bucket latency after the resume (ms), worst viewer. */
  peakMs: number;
  /** Max − min of the viewers' latency in the same 100 ms of wall time. */
  spreadP50: number;
  spreadP95: number;
  spreadMax: number;
  dropped: number;
  policies: string[];
  pinned: string[];
  targets: number[];
  /**
   * Bandwidth cut: per viewer, s from the cut until the picture first showed a lower height
   * than before it (an ABR down-switch on screen), and from the cut's end until it showed that
   * height again; NaN: never.
   */
  downS: number[];
  upS: number[];
}

/** s from `from` until a 10 Hz poll first saw a video height for which `want` holds; NaN: never. */
export function heightAfter(poll: ReadonlyArray<{ t: number; height?: number }>, from: number, want: (h: number) => boolean): number {
  const p = poll.find((x) => x.t >= from && x.height !== undefined && x.height > 0 && want(x.height));
  return p ? (p.t - from) / 1000 : NaN;
}

export const FREEZE_MS = 200;
export const BAND_MS = 50;
/** Recovered only if it stays in the band for at least this long before the window ends. */
export const HOLD_MS = 2000;
const RECOVERY_BUCKET_MS = 250;
const SPREAD_BUCKET_MS = 100;

const inOutage = (t: number, w: Window): boolean => w.pauseAt !== undefined && w.resumeAt !== undefined && t >= w.pauseAt && t < w.resumeAt;

function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

function buckets(samples: GlassSample[], size: number): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const s of samples) {
    const k = Math.floor(s.shownAt / size);
    let a = m.get(k);
    if (!a) m.set(k, (a = []));
    a.push(s.latencyMs);
  }
  return m;
}

/** Seconds from resume until every later 250 ms bucket's median is within ±BAND_MS of `ref` (ms, or ms at wall time t); NaN if never. */
export function recoveryTime(samples: GlassSample[], ref: number | ((t: number) => number), resumeAt: number, to: number): number {
  const post = samples.filter((s) => s.shownAt >= resumeAt && s.shownAt <= to);
  const b = [...buckets(post, RECOVERY_BUCKET_MS).entries()].sort((x, y) => x[0] - y[0]);
  const refAt = typeof ref === 'number' ? () => ref : ref;
  if (!b.length) return NaN;
  let lastBad = -1;
  b.forEach(([k, xs], i) => {
    const r = refAt((k + 0.5) * RECOVERY_BUCKET_MS);
    if (!Number.isFinite(r) || Math.abs(median(xs) - r) > BAND_MS) lastBad = i;
  });
  if (lastBad === b.length - 1) return NaN;
  const at = lastBad < 0 ? resumeAt : b[lastBad + 1]![0] * RECOVERY_BUCKET_MS;
  if (to - at < HOLD_MS) return NaN;
  return Math.max(0, at - resumeAt) / 1000;
}

/**
 * Pixel latency − the player's own stats.latency (ms), median over the window: the part of the
 * pipeline before FFmpeg writes the chunk (capture, encode, RTMP), which the player cannot see.
 */
export function pixelOffset(t: TabData, frames: GlassSample[], from: number, to: number): number {
  const diffs: number[] = [];
  let j = 0;
  for (const p of t.lat.poll) {
    if (p.t < from || p.t > to || p.latency === undefined || !Number.isFinite(p.latency)) continue;
    while (j + 1 < frames.length && frames[j + 1]!.shownAt <= p.t) j++;
    const f = frames[j];
    if (f && Math.abs(f.shownAt - p.t) <= 40) diffs.push(f.latencyMs - p.latency * 1000);
  }
  return diffs.length >= 10 ? median(diffs) : NaN;
}

/** The player's target (ms) in force at wall time t, from the 10 Hz poll; NaN if not exposed. */
function targetAt(t: TabData): (at: number) => number {
  const rows = t.lat.poll.filter((p) => p.targetLatency !== undefined && Number.isFinite(p.targetLatency));
  return (at) => {
    let v = NaN;
    for (const p of rows) { if (p.t > at) break; v = p.targetLatency! * 1000; }
    return v;
  };
}

/** As recoveryTime, on the player's own figures: |stats.latency − stats.targetLatency| ≤ BAND_MS. */
function playerRecovery(t: TabData, resumeAt: number, to: number): number {
  const rows = t.lat.poll.filter((p) => p.t >= resumeAt && p.t <= to && p.latency !== undefined && p.targetLatency !== undefined
    && Number.isFinite(p.latency) && Number.isFinite(p.targetLatency));
  if (!rows.length) return NaN;
  let lastBad = -1;
  rows.forEach((p, i) => { if (Math.abs(p.latency! - p.targetLatency!) * 1000 > BAND_MS) lastBad = i; });
  if (lastBad === rows.length - 1) return NaN;
  const at = lastBad < 0 ? resumeAt : rows[lastBad + 1]!.t;
  if (to - at < HOLD_MS) return NaN;
  return Math.max(0, at - resumeAt) / 1000;
}

export function reduce(tabs: TabData[], w: Window): RowMetrics {
  const inWin = (t: number): boolean => t >= w.from && t <= w.to;
  const perTab = tabs.map((t) => t.glass.filter((s) => inWin(s.shownAt)));
  const all = perTab.flat().map((s) => s.latencyMs).sort((a, b) => a - b);

  let stalls = 0, stallMs = 0, freezes = 0, freezeMs = 0, seeks = 0, dropped = 0, unstalls = 0;
  let maxRate = -Infinity, minRate = Infinity;
  const policies = new Set<string>(), pinned = new Set<string>(), targets = new Set<number>();
  for (const [i, t] of tabs.entries()) {
    for (const [s, e0] of t.lat.stalls) {
      if (!inWin(s) || inOutage(s, w)) continue;
      stalls += 1;
      stallMs += Math.min(e0 || w.to, w.to) - s;
    }
    const frames = perTab[i]!;
    for (let k = 1; k < frames.length; k++) {
      const gap = frames[k]!.shownAt - frames[k - 1]!.shownAt;
      if (gap > FREEZE_MS && !inOutage(frames[k - 1]!.shownAt, w)) { freezes += 1; freezeMs += gap; }
    }
    seeks += t.lat.seeks.filter(inWin).length;
    // Rate: the value in force at the window start, every change inside it, and the polls.
    const before = t.lat.rates.filter(([at]) => at < w.from).at(-1);
    const rates = [...(before ? [before[1]] : []), ...t.lat.rates.filter(([at]) => inWin(at)).map(([, r]) => r),
      ...t.lat.poll.filter((p) => inWin(p.t)).map((p) => p.rate)];
    for (const r of rates) { maxRate = Math.max(maxRate, r); minRate = Math.min(minRate, r); }
    const polls = t.lat.poll.filter((p) => inWin(p.t));
    if (polls.length) dropped += polls.at(-1)!.dropped - polls[0]!.dropped;
    if (polls.length) unstalls += (polls.at(-1)!.unstalls ?? 0) - (polls[0]!.unstalls ?? 0);
    for (const p of polls) {
      policies.add(p.policy ?? '(none reported)');
      pinned.add(p.pinned === undefined ? '?' : String(p.pinned));
      if (p.targetLatency !== undefined) targets.add(Math.round(p.targetLatency * 1000));
    }
  }

  const offsetMs = tabs.map((t, i) => pixelOffset(t, perTab[i]!, w.from, w.to));
  const joinStalls = tabs.reduce((a, t) => a + t.lat.stalls.filter(([st]) => st < w.from).length, 0);
  const recoveryS: number[] = [], recoveryRefS: number[] = [], referenceMs: number[] = [], recoveryPlayerS: number[] = [];
  let peakMs = NaN;
  if (w.pauseAt !== undefined && w.resumeAt !== undefined) {
    for (const [i, frames] of perTab.entries()) {
      const ref = median(frames.filter((s) => s.shownAt < w.pauseAt!).map((s) => s.latencyMs));
      referenceMs.push(ref);
      recoveryRefS.push(recoveryTime(frames, ref, w.resumeAt, w.to));
      const target = targetAt(tabs[i]!), off = offsetMs[i]!;
      recoveryS.push(Number.isFinite(off) && Number.isFinite(target(w.resumeAt))
        ? recoveryTime(frames, (at) => target(at) + off, w.resumeAt, w.to)
        : recoveryRefS.at(-1)!);
    }
    for (const t of tabs) recoveryPlayerS.push(playerRecovery(t, w.resumeAt, w.to));
    for (const frames of perTab) {
      for (const xs of buckets(frames.filter((s) => s.shownAt >= w.resumeAt!), RECOVERY_BUCKET_MS).values()) {
        const m = median(xs);
        if (!(m <= peakMs)) peakMs = m;
      }
    }
  }

  const downS: number[] = [], upS: number[] = [];
  if (w.cutAt !== undefined && w.cutEndAt !== undefined) {
    for (const t of tabs) {
      const before = Math.max(0, ...t.lat.poll.filter((p) => p.t < w.cutAt! && p.t >= w.from).map((p) => p.height ?? 0));
      const down = heightAfter(t.lat.poll, w.cutAt, (h) => h < before);
      downS.push(down);
      upS.push(Number.isNaN(down) ? NaN : heightAfter(t.lat.poll, Math.max(w.cutEndAt, w.cutAt + down * 1000), (h) => h >= before));
    }
  }

  const spreads: number[] = [];
  if (tabs.length > 1) {
    const per = perTab.map((f) => buckets(f, SPREAD_BUCKET_MS));
    for (const [k, xs0] of per[0]!) {
      const means = [xs0, ...per.slice(1).map((m) => m.get(k))];
      if (means.some((x) => !x)) continue;
      const v = means.map((x) => x!.reduce((a, b) => a + b, 0) / x!.length);
      spreads.push(Math.max(...v) - Math.min(...v));
    }
    spreads.sort((a, b) => a - b);
  }

  return {
    frames: all.length,
    p50: percentile(all, 50), p95: percentile(all, 95), p99: percentile(all, 99), max: all.at(-1) ?? NaN,
    tabP50: perTab.map((f) => median(f.map((s) => s.latencyMs))),
    stalls, stallMs: Math.round(stallMs), freezes, freezeMs: Math.round(freezeMs), seeks, unstalls,
    maxRate: Number.isFinite(maxRate) ? maxRate : NaN, minRate: Number.isFinite(minRate) ? minRate : NaN,
    recoveryS, recoveryRefS, recoveryPlayerS, referenceMs, peakMs, offsetMs, joinStalls,
    spreadP50: percentile(spreads, 50), spreadP95: percentile(spreads, 95), spreadMax: spreads.at(-1) ?? NaN,
    dropped,
    policies: [...policies], pinned: [...pinned], targets: [...targets], downS, upS,
  };
}
