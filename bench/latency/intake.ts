// Where a pause in delivery began: every chunk the relay takes in, with the wall clock the remux
// FFmpeg stamped on it (prft) and its media time. Across a gap in intake, a prft gap as long
// says the remux wrote nothing (its input, the publisher or the RTMP hand-off, paused); a
// continuous prft says the chunks were written on time and waited between FFmpeg and the relay.
import { Stream } from '../../relay/stream.js';
import type { Chunk } from '../../media/types.js';

export interface Intake { at: number; prft: number; dts: number }

const MAX = 40_000; // > 10 min at 30 chunks/s with audio
const log: Intake[] = [];
let wrapped = false;

/** Wraps Stream.prototype.onChunk (once, whatever the calls); the relay itself is unchanged. */
export function recordIntake(): void {
  if (wrapped) return;
  wrapped = true;
  const orig = Stream.prototype.onChunk;
  Stream.prototype.onChunk = function (this: Stream, c: Chunk): void {
    if (log.length >= MAX) log.splice(0, MAX / 2);
    log.push({ at: Date.now(), prft: c.prftMs ?? NaN, dts: c.dts });
    orig.call(this, c);
  };
}

/** The record itself, for the run's JSON (bench/latency/out/). */
export function intakeLog(): readonly Intake[] {
  return log;
}

/** Intake gaps over `minMs` in [from, to] (Date.now() ms), each with the prft and media-time gap across it. */
export function intakeGaps(from: number, to: number, minMs = 100): string {
  const out: string[] = [];
  for (let i = 1; i < log.length; i++) {
    const a = log[i - 1]!, b = log[i]!;
    if (b.at < from || b.at > to || b.at - a.at <= minMs) continue;
    out.push(`${((b.at - from) / 1000).toFixed(1)} s: ${b.at - a.at} ms (prft ${Math.round(b.prft - a.prft)}, media ${Math.round((b.dts - a.dts) * 1000)})`);
  }
  return out.length ? out.slice(0, 12).join(', ') + (out.length > 12 ? `, … (${out.length})` : '') : 'none';
}
