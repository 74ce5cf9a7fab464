// Per-chunk breakdown of one kept run (run-one.ts --diag --keep): which chunks make the p99,
// and what else happened while they were being fanned out (the sender's loop time, GC pauses,
// sweeps, the sender's main thread waiting for its core, other threads, steal, softirq).
//
// Usage: node --import tsx bench/fanout/diagnose.ts RESULT.json [--json OUT] [--top 12]
//   (the work dir RESULT.tmp/ must have been kept: run-one.ts --diag --keep)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readArrivals } from './lib/analyze.js';
import { readReceipts, type Receipt } from './lib/receipts.js';
import { parseArgs } from './lib/control.js';
import type { SenderDiag } from './lib/diag.js';
import type { Samples } from './lib/sampler.js';

const argv = process.argv.slice(2);
const file = argv.find((a) => !a.startsWith('--'))!;
const args = parseArgs(argv.filter((a) => a !== file));
const TOP = Number(args.top ?? 12);
const TARGET = 33;
const res = JSON.parse(readFileSync(file, 'utf8')) as { windowAt: { t0: number; t1: number }; analysis: { healthy: { latency: { p99: number } } }; tag?: string };
const work = file.replace(/\.json$/, '') + '.tmp';
const { t0, t1 } = res.windowAt;
const receipts = readReceipts(`${work}/receipts.txt`);
const viewers = readArrivals(`${work}/arrivals.bin`).filter((v) => !v.slow && !v.failed);
const diag: SenderDiag | null = existsSync(`${work}/sender-diag.json`) ? JSON.parse(readFileSync(`${work}/sender-diag.json`, 'utf8')) as SenderDiag : null;
const samples: Samples | null = existsSync(`${work}/samples.json`) ? JSON.parse(readFileSync(`${work}/samples.json`, 'utf8')) as Samples : null;

// Position in the GOP: 0 = keyframe.
const gopPos = new Map<number, number>();
let pos = 0;
for (const r of receipts) { pos = r.keyframe ? 0 : pos + 1; gopPos.set(r.key, pos); }
const win = receipts.filter((r) => r.t >= t0 && r.t <= t1);
const idx = new Map<number, number>();
win.forEach((r, i) => idx.set(r.key, i));
const per: number[][] = win.map(() => []);
for (const v of viewers) {
  for (let j = 0; j < v.keys.length; j++) {
    const i = idx.get(v.keys[j]!);
    if (i !== undefined) per[i]!.push(v.times[j]! - win[i]!.t);
  }
}
const all = Float64Array.from(per.flat()).sort();
const q = (a: ArrayLike<number>, f: number): number => a[Math.min(a.length - 1, Math.floor(f * a.length))]!;
const L99 = q(all, 0.99);

// Samples between two times: difference of the nearest samples around them.
function between(a: number, b: number): Record<string, number> | null {
  if (!samples || samples.fast.length < 2) return null;
  const f = samples.fast;
  let i = f.findIndex((s) => s[0]! >= a);
  if (i < 0) return null;
  i = Math.max(0, i - 1);
  let k = f.findIndex((s) => s[0]! >= b);
  if (k < 0) k = f.length - 1;
  const x = f[i]!;
  const y = f[k]!;
  const d = (n: number): number => y[n]! - x[n]!;
  // cpu0 fields 1..8, cpu1 9..16, then main run/wait, other run/wait (ns)
  return {
    ms: y[0]! - x[0]!,
    c0user: d(1) * 10, c0sys: d(3) * 10, c0idle: d(4) * 10, c0irq: d(6) * 10, c0soft: d(7) * 10, c0steal: d(8) * 10,
    c1idle: d(12) * 10, c1steal: d(16) * 10,
    mainRun: d(17) / 1e6, mainWait: d(18) / 1e6, otherRun: d(19) / 1e6, otherWait: d(20) / 1e6,
  };
}
const overlaps = (list: Array<[number, number, ...unknown[]]> | undefined, a: number, b: number): Array<[number, number, ...unknown[]]> =>
  (list ?? []).filter(([s, d]) => s < b && s + d > a);

interface Row { key: number; gop: number; size: number; kf: boolean; lag: number; dur: number; p50: number; p99: number; max: number; over99: number; over33: number; gcMs: number; sweepMs: number; ctx: Record<string, number> | null }
const rows: Row[] = win.map((r: Receipt, i) => {
  const l = Float64Array.from(per[i]!).sort();
  const max = l.length ? l[l.length - 1]! : NaN;
  let over99 = 0;
  let over33 = 0;
  for (const x of l) { if (x > L99) over99++; if (x > TARGET) over33++; }
  const a = r.t - (r.lag ?? 0);
  const b = r.t + max;
  const gc = overlaps(diag?.gc, a, b).reduce((s, [st, d]) => s + Math.min(b, st + d) - Math.max(a, st), 0);
  const sw = overlaps(diag?.calls.sweep, a, b).reduce((s, [st, d]) => s + Math.min(b, st + d) - Math.max(a, st), 0);
  return { key: r.key, gop: gopPos.get(r.key) ?? -1, size: r.size, kf: r.keyframe, lag: r.lag, dur: r.dur ?? 0, p50: q(l, 0.5), p99: q(l, 0.99), max, over99, over33, gcMs: gc, sweepMs: sw, ctx: between(a, b) };
});

const totalOver = rows.reduce((s, r) => s + r.over99, 0);
const byOver = [...rows].sort((x, y) => y.over99 - x.over99);
let acc = 0;
let chunks50 = 0;
let chunks90 = 0;
for (const r of byOver) { acc += r.over99; if (!chunks50 && acc >= totalOver * 0.5) chunks50 = byOver.indexOf(r) + 1; if (!chunks90 && acc >= totalOver * 0.9) chunks90 = byOver.indexOf(r) + 1; }
const share = (pred: (r: Row) => boolean): number => rows.filter(pred).reduce((s, r) => s + r.over99, 0) / totalOver;

const sumBy = (pred: (r: Row) => boolean, f: (r: Row) => number): number => { const x = rows.filter(pred); return x.reduce((s, r) => s + f(r), 0) / Math.max(1, x.length); };
const gcIn = (diag?.gc ?? []).filter(([s]) => s >= t0 && s <= t1);
const swIn = (diag?.calls.sweep ?? []).filter(([s]) => s >= t0 && s <= t1);
const whole = between(t0, t1);
const others: Record<string, number> = {};
for (const s of samples?.slow ?? []) if (s.t >= t0 && s.t <= t1 + 1000) for (const [k, v] of Object.entries(s.others)) others[k] = (others[k] ?? 0) + v;

const f1 = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : "-");
console.log(`${res.tag ?? file}: ${win.length} chunks, ${viewers.length} viewers, p99 ${f1(L99)} ms (analysis ${f1(res.analysis.healthy.latency.p99)}), pairs > p99: ${totalOver}, ` +
  `half of them in ${chunks50} chunks, 90% in ${chunks90}; share from keyframes ${(share((r) => r.kf) * 100).toFixed(0)}%, from the 1-3 chunks after one ${(share((r) => r.gop >= 1 && r.gop <= 3) * 100).toFixed(0)}%`);
console.log(`  loop time (dur) mean: keyframes ${f1(sumBy((r) => r.kf, (r) => r.dur))} ms, others ${f1(sumBy((r) => !r.kf, (r) => r.dur))} ms; max over viewers mean: keyframes ${f1(sumBy((r) => r.kf, (r) => r.max))}, others ${f1(sumBy((r) => !r.kf, (r) => r.max))}`);
console.log(`  chunks with a viewer > 33 ms: ${rows.filter((r) => r.max > TARGET).length} (keyframes ${rows.filter((r) => r.max > TARGET && r.kf).length} of ${rows.filter((r) => r.kf).length})`);
if (diag) console.log(`  GC in window: ${gcIn.length} (${Object.entries(gcIn.reduce<Record<string, number[]>>((m, [, d, k]) => { (m[k] ??= []).push(d); return m; }, {})).map(([k, d]) => `${k} ${d.length}× max ${f1(Math.max(...d))} sum ${f1(d.reduce((a, b) => a + b, 0))} ms`).join(', ')}); sweeps ${swIn.length}, mean ${(swIn.reduce((s, [, d]) => s + d, 0) / Math.max(1, swIn.length)).toFixed(2)} max ${f1(Math.max(0, ...swIn.map(([, d]) => d)))} ms`);
if (whole) console.log(`  window: core0 steal ${f1(whole.c0steal)} ms, softirq ${f1(whole.c0soft)} ms, idle ${f1(whole.c0idle)} ms; core1 steal ${f1(whole.c1steal)}, idle ${f1(whole.c1idle)} ms; sender main thread ran ${f1(whole.mainRun)} ms, waited ${f1(whole.mainWait)} ms; its other threads ran ${f1(whole.otherRun)} ms`);
console.log(`  others in window (CPU s): ${Object.entries(others).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
console.log('  top chunks by pairs > p99:  key gop size lag dur | p50 p99 max | >p99 >33 | gc sweep | main wait, other thr run, c0 steal, c0 soft ms');
for (const r of byOver.slice(0, TOP)) {
  const c = r.ctx;
  console.log(`   ${r.key} ${r.gop} ${r.size} ${f1(r.lag)} ${f1(r.dur)} | ${f1(r.p50)} ${f1(r.p99)} ${f1(r.max)} | ${r.over99} ${r.over33} | ${f1(r.gcMs)} ${f1(r.sweepMs)} | ${c ? `${f1(c.mainWait)} ${f1(c.otherRun)} ${f1(c.c0steal)} ${f1(c.c0soft)}` : '-'}`);
}
if (args.json) writeFileSync(args.json, JSON.stringify({ L99, totalOver, chunks50, chunks90, rows }, null, 1));
