// The QoE report the player sends the relay every qoeIntervalMs (protocol's QoeMessage): its
// stats now, and the latency percentiles of the interval just ended.
import type { QoeMessage } from '../protocol/messages.js';
import type { PlayerStats } from './events.js';

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Milliseconds to 0.1 ms; null when unknown (JSON has no NaN). */
function ms(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : null;
}

/** The report for an interval of `intervalMs` whose latency samples (s) were `latencies`. */
export function qoeReport(s: PlayerStats, latencies: readonly number[], intervalMs: number): QoeMessage {
  const lat = latencies.map((x) => x * 1000).sort((a, b) => a - b);
  return {
    type: 'qoe',
    intervalMs: Math.round(intervalMs),
    startupMs: ms(s.startupMs),
    latencyP50Ms: lat.length ? ms(percentile(lat, 50)) : null,
    latencyP95Ms: lat.length ? ms(percentile(lat, 95)) : null,
    latencyP99Ms: lat.length ? ms(percentile(lat, 99)) : null,
    latencyMs: ms(s.latency * 1000),
    targetMs: Math.round(s.targetLatency * 1000),
    stalls: s.stalls,
    stallMs: s.stallMs,
    rateChanges: s.rateChanges,
    jumps: s.jumps,
    droppedFrames: s.droppedFrames,
    rate: s.playbackRate,
    policy: s.policy,
    pinned: s.pinned,
    clockOffsetMs: ms(s.clockOffsetMs),
    switches: s.switches,
  };
}
