// Joins the relay's receipt log with every viewer's arrival log: delivery latency per
// (viewer, chunk), chunks missing, order, skips. Healthy and slow viewers are kept apart.
import { readFileSync } from 'node:fs';
import type { Receipt } from './receipts.js';

export interface ViewerLog {
  idx: number;
  slow: boolean;
  closed: boolean;
  failed: boolean;
  bad: number;
  keys: Float64Array;
  times: Float64Array;
}

/** Reads the "NCAR" arrival dump written by both load generators (Node and C). */
export function readArrivals(file: string): ViewerLog[] {
  const b = readFileSync(file);
  if (b.toString('latin1', 0, 4) !== 'NCAR') throw new Error(`${file}: not an arrival dump`);
  const n = b.readUInt32LE(4);
  const out: ViewerLog[] = [];
  let p = 8;
  for (let i = 0; i < n; i++) {
    const idx = b.readUInt32LE(p);
    const flags = b.readUInt32LE(p + 4);
    const count = b.readUInt32LE(p + 8);
    const bad = b.readUInt32LE(p + 12);
    p += 16;
    const keys = new Float64Array(count);
    const times = new Float64Array(count);
    for (let j = 0; j < count; j++) keys[j] = b.readDoubleLE(p + j * 8);
    p += count * 8;
    for (let j = 0; j < count; j++) times[j] = b.readDoubleLE(p + j * 8);
    p += count * 8;
    out.push({ idx, slow: (flags & 1) !== 0, closed: (flags & 2) !== 0, failed: (flags & 4) !== 0, bad, keys, times });
  }
  return out;
}

export interface LatencyStats {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface Analysis {
  windowChunks: number;
  windowMs: number;
  healthy: {
    viewers: number;
    latency: LatencyStats;
    /** Arrival − the time the chunk was due from the replay: adds the sender's intake lag (a busy loop). */
    latencyFromDue: LatencyStats;
    /** Per chunk, the latest healthy viewer's latency; percentiles over chunks. */
    lastViewer: { p50: number; p99: number; max: number };
    missing: number;
    viewersMissing: number;
    outOfOrder: number;
    closed: number;
    skipped: number;
  };
  slow: {
    viewers: number;
    skips: number;
    viewersSkipped: number;
    /** Skips after which the next chunk was a keyframe / all skips followed by a chunk. */
    resumedAtKeyframe: number;
    resumedTotal: number;
    /** Slow viewers that got media after their last skip. */
    recovered: number;
    /** Slow viewers that resumed (a chunk after a skip) at least once; unlike `recovered`, not confused by a skip that arrives just before the run stops. */
    resumedViewers?: number;
    /** Fraction of the window's chunks slow viewers received. */
    receivedFraction: number;
    latency: LatencyStats | null;
    closed: number;
  };
  /** How late the sender took chunks from the replay (handover − schedule): p99 and max, ms. */
  senderLag: { p99: number; max: number };
  failed: number;
  badFrames: number;
  /** Payload bits delivered to all viewers during the window, per second. */
  deliveredGbps: number;
}

function stats(a: Float64Array): LatencyStats {
  if (a.length === 0) return { samples: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  a.sort();
  const q = (f: number): number => a[Math.min(a.length - 1, Math.floor(f * a.length))]!;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]!;
  return { samples: a.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: a[a.length - 1]!, mean: sum / a.length };
}

export function analyze(receipts: Receipt[], viewers: ViewerLog[], t0: number, t1: number): Analysis {
  const all = new Map<number, Receipt>();
  for (const r of receipts) all.set(r.key, r);
  const win = receipts.filter((r) => r.t >= t0 && r.t <= t1);
  const winIndex = new Map<number, number>();
  win.forEach((r, i) => winIndex.set(r.key, i));
  const W = win.length;

  const healthy = viewers.filter((v) => !v.slow && !v.failed);
  const slow = viewers.filter((v) => v.slow && !v.failed);
  const lat = new Float64Array(healthy.length * W);
  const latDue = new Float64Array(healthy.length * W);
  let nLat = 0;
  const lastPerChunk = new Float64Array(W).fill(-Infinity);
  let missing = 0;
  let viewersMissing = 0;
  let outOfOrder = 0;
  let healthySkipped = 0;
  let deliveredBytes = 0;
  let badFrames = 0;

  const seen = new Uint8Array(W);
  for (const v of viewers) {
    badFrames += v.bad;
    for (let j = 0; j < v.keys.length; j++) {
      const t = v.times[j]!;
      if (t >= t0 && t <= t1) deliveredBytes += all.get(v.keys[j]!)?.size ?? 0;
    }
  }
  for (const v of healthy) {
    seen.fill(0);
    let prev = -Infinity;
    for (let j = 0; j < v.keys.length; j++) {
      const k = v.keys[j]!;
      if (k === -1) { healthySkipped++; continue; }
      if (k <= prev) outOfOrder++;
      prev = k;
      const i = winIndex.get(k);
      if (i === undefined) continue;
      seen[i] = 1;
      const l = v.times[j]! - win[i]!.t;
      latDue[nLat] = l + win[i]!.lag;
      lat[nLat++] = l;
      if (l > lastPerChunk[i]!) lastPerChunk[i] = l;
    }
    let m = 0;
    for (let i = 0; i < W; i++) if (!seen[i]) m++;
    missing += m;
    if (m) viewersMissing++;
  }

  let skips = 0;
  let viewersSkipped = 0;
  let resumedAtKeyframe = 0;
  let resumedTotal = 0;
  let recovered = 0;
  let resumedViewers = 0;
  let slowReceived = 0;
  const slowLat: number[] = [];
  for (const v of slow) {
    let mySkips = 0;
    let myResumes = 0;
    let lastSkip = -1;
    for (let j = 0; j < v.keys.length; j++) {
      const k = v.keys[j]!;
      if (k === -1) {
        mySkips++;
        lastSkip = j;
        const nextKey = v.keys[j + 1];
        if (nextKey !== undefined && nextKey !== -1) {
          resumedTotal++;
          myResumes++;
          if (all.get(nextKey)?.keyframe) resumedAtKeyframe++;
        }
        continue;
      }
      const i = winIndex.get(k);
      if (i !== undefined) { slowReceived++; slowLat.push(v.times[j]! - win[i]!.t); }
    }
    skips += mySkips;
    if (mySkips) viewersSkipped++;
    if (mySkips && lastSkip < v.keys.length - 1) recovered++;
    if (myResumes) resumedViewers++;
  }

  const lastSorted = Float64Array.from(lastPerChunk.filter((x) => Number.isFinite(x))).sort();
  const q = (f: number): number => lastSorted[Math.min(lastSorted.length - 1, Math.floor(f * lastSorted.length))] ?? NaN;
  const windowMs = t1 - t0;
  const lags = Float64Array.from(win.map((r) => r.lag)).sort();
  const senderLag = { p99: lags[Math.min(lags.length - 1, Math.floor(0.99 * lags.length))] ?? NaN, max: lags[lags.length - 1] ?? NaN };
  return {
    senderLag,
    windowChunks: W,
    windowMs,
    healthy: {
      viewers: healthy.length,
      latency: stats(lat.subarray(0, nLat)),
      latencyFromDue: stats(latDue.subarray(0, nLat)),
      lastViewer: { p50: q(0.5), p99: q(0.99), max: lastSorted[lastSorted.length - 1] ?? NaN },
      missing,
      viewersMissing,
      outOfOrder,
      closed: healthy.filter((v) => v.closed).length,
      skipped: healthySkipped,
    },
    slow: {
      viewers: slow.length,
      skips,
      viewersSkipped,
      resumedAtKeyframe,
      resumedTotal,
      recovered,
      resumedViewers,
      receivedFraction: slow.length && W ? slowReceived / (slow.length * W) : 0,
      latency: slowLat.length ? stats(Float64Array.from(slowLat)) : null,
      closed: slow.filter((v) => v.closed).length,
    },
    failed: viewers.filter((v) => v.failed).length,
    badFrames,
    deliveredGbps: (deliveredBytes * 8) / (windowMs / 1000) / 1e9,
  };
}
