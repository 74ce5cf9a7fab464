// bench:network's browser parts, run on bench:latency's machinery (bench/latency/run.ts: one
// headless Chromium in its own network namespace, a proxy per viewer, HTB on the veth for a
// bandwidth cut, glass-to-glass read back from the pixels): the bottleneck and the 2 s freeze.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const LOCK = '/tmp/nowcast-heavy.lock';

/** The fields of a bench:latency row this benchmark reads (bench/latency/metrics.ts RowMetrics). */
export interface LatencyRow {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  stalls: number;
  stallMs: number;
  seeks: number;
  recoveryS: number[];
  recoveryPlayerS: number[];
  peakMs: number;
  relaySkips?: { ack: number; bytes: number };
  /** Per viewer, s from the cut to a lower rendition on screen, and from the cut's end to the first one again (bench/latency/metrics.ts). */
  downS?: number[];
  upS?: number[];
  streamKbps?: number;
  shapedKbps?: number;
  note: string;
}

/** One bench:latency scenario for the nowcast policy, one viewer; null when it produced no row. */
export function latencyRow(scenario: 'bandwidth' | 'backlog', seconds: number, extra: string[] = []): { row: LatencyRow | null; command: string; log: string } {
  const a = ['--policies', 'nowcast', '--scenarios', scenario, '--tabs', '1', '--seconds', String(seconds), '--no-write', ...extra];
  const r = spawnSync('flock', ['-w', '1800', LOCK, 'timeout', '-k', '10', '600', 'node', '--import', 'tsx', join(ROOT, 'bench', 'latency', 'run.ts'), ...a],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('  {'));
  return { row: line ? (JSON.parse(line.trim()) as LatencyRow) : null, command: `bench/latency/run.ts ${a.join(' ')}`, log: out.slice(-3000) };
}
