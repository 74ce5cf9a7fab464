// bench:network's relay-only parts, run on bench:fanout's machinery (run-one.ts, its C client and
// recorded 2 Mbit/s 720p source): what acks cost at 2,000 and 4,000 viewers, and 1,000 viewers
// with 5 % reading at 25 % of the rate, with Linux default kernel buffers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSource, recordArgs, writeChunkFile } from '../fanout/lib/source.js';
import { readArrivals } from '../fanout/lib/analyze.js';
import { readReceipts } from '../fanout/lib/receipts.js';
import type { Analysis } from '../fanout/lib/analyze.js';

export const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'bench', 'out', 'network');
const FANOUT = join(ROOT, 'bench', 'fanout');
const LOCK = '/tmp/nowcast-heavy.lock';

export interface FanoutRun {
  id: string;
  n: number;
  ackMs: number;
  slowEvery: number;
  relayCpu: number;
  background: number;
  /** Share of the relay's core that something else used in the window (processes, kernel threads). */
  core0Other: number;
  p50: number;
  p99: number;
  missing: number;
  skips: number;
  analysis: Analysis;
  /** Slow viewers: ms from their first chunk to the relay's decision to stop them (the send time of the last chunk before their first skip). */
  skipAfterMs: number[];
  slowViewers: number;
  /** The relay's own counts at the end (relay.skipsByRule, relay.staleAcks, relay.badMessages). */
  relayStop: { skipsByRule?: { ack: number; bytes: number }; staleAcks?: number; badMessages?: number } | null;
  error?: string;
}

/** The source and the C programs, as bench:fanout makes them (recorded under the heavy lock). */
export function prepare(): { source: string; chunks: string; bin: string; bitrate: number } {
  mkdirSync(join(OUT, 'bin'), { recursive: true });
  const source = join(OUT, 'source.mp4');
  if (!existsSync(source)) {
    const r = spawnSync('flock', [LOCK, 'ffmpeg', ...recordArgs(source, 12)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('recording the source failed');
  }
  const src = loadSource(source);
  const chunks = join(OUT, 'chunks.bin');
  writeChunkFile(src, chunks);
  for (const [name, file] of [['sender', 'senders/sender.c'], ['client', 'client/client.c']] as const) {
    const r = spawnSync('cc', ['-O2', '-Wall', '-o', join(OUT, 'bin', name), join(FANOUT, file)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`cc ${file} failed`);
  }
  return { source, chunks, bin: join(OUT, 'bin'), bitrate: src.bitrate };
}

/** One run-one.ts under the heavy lock (bounded: 420 s), its work files kept for the skip timing. */
export function fanoutRun(p: ReturnType<typeof prepare>, id: string, n: number, ackMs: number, slowEvery: number, windowS: number, clientArgs: string[] = []): FanoutRun {
  // Other processes on these 2 cores (other engineers' unlocked work) disturb a run: up to 3 tries.
  let best: FanoutRun | null = null;
  const disturbed = (r: FanoutRun): number => Math.max(r.background, r.core0Other);
  for (let i = 0; i < 3; i++) {
    const r = fanoutOnce(p, id, n, ackMs, slowEvery, windowS, clientArgs);
    if (!best || (!r.error && (best.error || disturbed(r) < disturbed(best)))) best = r;
    if (!r.error && r.background <= MAX_BACKGROUND && r.core0Other <= MAX_CORE0_OTHER) break;
    console.log(`${id}: other processes used ${(r.background * 100).toFixed(0)} % of a core, ${(r.core0Other * 100).toFixed(0)} % of the relay's; again`);
  }
  return best!;
}

/** A run where other processes used more than this of a core (window or join + warm-up) is retried. */
const MAX_BACKGROUND = 0.15;
/**
 * Or more than this of the relay's own core in the window: the relay's CPU reading moves with it
 * (2026-12-07, 2,000 viewers without acks, same build: 46–53 % with 18–30 % of its core used by others, 72 % alone).
 */
const MAX_CORE0_OTHER = 0.1;

function fanoutOnce(p: ReturnType<typeof prepare>, id: string, n: number, ackMs: number, slowEvery: number, windowS: number, clientArgs: string[]): FanoutRun {
  const out = join(OUT, `${id}.json`);
  const work = out.replace(/\.json$/, '') + '.tmp';
  const a = ['--sender', 'nowcast', '--n', String(n), '--client', 'c', '--slow-every', String(slowEvery), '--warmup-s', '3', '--window-s', String(windowS),
    '--source', p.source, '--chunkfile', p.chunks, '--bin', p.bin, '--out', out, '--tag', id, '--ack-ms', String(ackMs), '--keep', ...clientArgs];
  const r = spawnSync('flock', ['-w', '1800', LOCK, 'timeout', '-k', '10', '420', 'taskset', '-c', '1', 'node', '--import', 'tsx', join(FANOUT, 'run-one.ts'), ...a],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const res = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : { error: `run-one exited ${r.status}` };
  if (res.error) return { id, n, ackMs, slowEvery, error: String(res.error) } as FanoutRun;
  const an = res.analysis as Analysis;
  const skipAfterMs: number[] = [];
  let slowViewers = 0;
  const arrivals = join(work, 'arrivals.bin');
  const receipts = join(work, 'receipts.txt');
  if (slowEvery && existsSync(arrivals) && existsSync(receipts)) {
    const sent = new Map<number, number>();
    for (const rc of readReceipts(receipts)) if (!sent.has(rc.key)) sent.set(rc.key, rc.t);
    for (const v of readArrivals(arrivals)) {
      if (!v.slow || v.failed || v.keys.length === 0) continue;
      slowViewers++;
      const first = v.times[0]!;
      const at = v.keys.indexOf(-1);
      if (at <= 0) { skipAfterMs.push(Infinity); continue; }
      // The relay stopped feeding it after the last chunk it got before the skip notice.
      let j = at - 1;
      while (j >= 0 && v.keys[j]! < 0) j--;
      const t = sent.get(v.keys[j]!);
      skipAfterMs.push(t === undefined ? Infinity : t - first);
    }
  }
  const relay = res.relay as { cpu: number };
  return {
    id, n, ackMs, slowEvery, relayCpu: relay.cpu, background: Math.max(Number(res.background ?? 0), Number(res.backgroundBefore ?? 0)),
    core0Other: Number((res.core0Other as { window?: number } | undefined)?.window ?? 0),
    p50: an.healthy.latency.p50, p99: an.healthy.latency.p99, missing: an.healthy.missing, skips: an.slow.skips, analysis: an, skipAfterMs, slowViewers,
    relayStop: (res.relayStop as FanoutRun['relayStop']) ?? null,
  };
}
