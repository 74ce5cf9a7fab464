// Pure helpers over the buffered ranges: how far ahead we are, where a hole can be
// jumped, and where a new generation (or a reconnect) should land on the timeline.

export interface Range {
  start: number;
  end: number;
}

export function toRanges(tr: TimeRanges | undefined): Range[] {
  const out: Range[] = [];
  if (!tr) return out;
  for (let i = 0; i < tr.length; i++) out.push({ start: tr.start(i), end: tr.end(i) });
  return out;
}

/** currentTime may sit a hair before a range it was seeked to. */
const EPS = 0.01;
/** Seek this far into a range when jumping a gap, clear of its very first frame. */
export const GAP_NUDGE = 0.01;
/** Same-generation media within this many seconds of the buffered end continues the timeline. */
export const CONTINUE_WINDOW_S = 10;

export interface BufferInfo {
  /** Seconds of contiguous media ahead of t (0 in a hole). */
  contiguous: number;
  /** Seconds from t to the end of the last range (the live edge); NaN if nothing ahead. */
  toEnd: number;
  /** End of the last range; NaN when nothing is buffered. */
  end: number;
  /** Start of the last range; NaN when nothing is buffered. */
  lastStart: number;
}

export function bufferInfo(ranges: readonly Range[], t: number): BufferInfo {
  const last = ranges[ranges.length - 1];
  if (!last) return { contiguous: 0, toEnd: NaN, end: NaN, lastStart: NaN };
  const here = ranges.find((r) => t >= r.start - EPS && t < r.end);
  return {
    contiguous: here ? here.end - t : 0,
    toEnd: last.end > t ? last.end - t : NaN,
    end: last.end,
    lastStart: last.start,
  };
}

/**
 * Where to seek to get past a hole, or undefined. Jumps when nothing is buffered at t, or
 * when playback is stuck at the very end of a range (the decoder needs a little data ahead),
 * and only if the next range starts within `maxGap` seconds.
 */
export function gapJumpTarget(ranges: readonly Range[], t: number, maxGap: number, stuck: boolean): number | undefined {
  const here = ranges.find((r) => t >= r.start - EPS && t < r.end);
  if (here && !(stuck && here.end - t < 0.1)) return undefined;
  const next = ranges.find((r) => r.start > t + EPS);
  if (!next || next.start - t > maxGap) return undefined;
  return next.start + GAP_NUDGE;
}

/** A seek pending this long (ms) with media after a gap is given up for that media. */
export const SEEK_STUCK_MS = 1500;
/**
 * ...or this long (ms) when it waits where nothing is buffered ahead (less than SEEK_DEAD_END_S):
 * after an outage the relay resumes after a gap, and Chromium left a seek in place at the end
 * of the stale part pending for good, which held the resumed media back 1.5 s (bench:network freeze).
 */
export const SEEK_DEAD_END_MS = 250;
export const SEEK_DEAD_END_S = 0.3;

/** Where to go instead of a seek pending for `pendingMs` at `t`, or undefined to wait on. */
export function stuckSeekTarget(ranges: readonly Range[], t: number, pendingMs: number): number | undefined {
  const next = ranges.find((r) => r.start > t + EPS);
  if (!next) return undefined;
  const here = ranges.find((r) => t >= r.start - EPS && t < r.end);
  const deadEnd = !here || here.end - t < SEEK_DEAD_END_S;
  return pendingMs >= SEEK_STUCK_MS || (deadEnd && pendingMs >= SEEK_DEAD_END_MS) ? next.start + GAP_NUDGE : undefined;
}

export interface PlacementInput {
  ranges: readonly Range[];
  currentTime: number;
  /** Playback has started on this MediaSource (currentTime is meaningful). */
  started: boolean;
  /** Decode time (s) of the first chunk after the init, before any offset. */
  firstDts: number;
  generation: number;
  /** Generation of the media already on the timeline; undefined for a fresh MediaSource. */
  previousGeneration: number | undefined;
  currentOffset: number;
}

/**
 * The SourceBuffer timestampOffset for the media that follows an init segment.
 * Same generation near the buffered end: keep the offset (a reconnect's GOP overlaps what
 * we have, which MSE handles). Anything else: butt the new media against the buffered
 * end (or currentTime), so playback continues without a jump. A fresh MediaSource keeps
 * the encoder's own timestamps.
 */
export function placeOffset(p: PlacementInput): number {
  const last = p.ranges[p.ranges.length - 1];
  if (p.generation === p.previousGeneration && last) {
    const mapped = p.firstDts + p.currentOffset;
    if (Math.abs(mapped - last.end) <= CONTINUE_WINDOW_S) return p.currentOffset;
  }
  const base = Math.max(last ? last.end : -Infinity, p.started ? p.currentTime : -Infinity);
  if (!Number.isFinite(base)) return p.previousGeneration === undefined ? 0 : p.currentOffset;
  return base - p.firstDts;
}
