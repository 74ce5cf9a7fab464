// Chunks in, LL-HLS parts out: whole chunks (moof+mdat, prft and the rest left out) grouped
// into parts of at most PART-TARGET, a keyframe starting a part, and a segment from a keyframe
// once the segment so far spans MIN_SEGMENT_S. Pure: no clock, no I/O (hls/stream.ts numbers
// what comes out).
//
// The in-process remux writes a chunk's video frame with twice the last frame interval, since
// the next frame's time is unknown then (ingest/flv/remuxer.ts); the next chunk's decode time
// is exact. A part therefore takes a chunk only once the next video chunk has arrived, and its
// copy of the chunk gets the real interval in the trun: playlist durations, the media's own
// durations and the next part's start then agree. The buffer WebSocket viewers share is never
// written: a part is a fresh Buffer.concat of views, patched after the copy.
import type { Chunk, InitSegment } from '../media/types.js';
import { readChunk, type TrafInfo } from './boxes.js';

/** A keyframe starts a new segment once the open one spans this much (s): a 1 s GOP, whose ms-rounded length wobbles, is one segment. */
export const MIN_SEGMENT_S = 0.9;
/** Float slack when comparing durations (s). */
const EPS = 1e-6;

/** A part as the assembler hands it over; hls/stream.ts numbers it. */
export interface AssembledPart {
  bytes: Buffer;
  /** Seconds on the reference track (video, else the first track). */
  duration: number;
  independent: boolean;
  /** Wall clock (ms) of its first chunk: prft, else when it arrived. */
  wallMs: number;
}

export interface AssemblerOut {
  part(p: AssembledPart): void;
  /** The segment being built is complete: the next part starts a new one. */
  segmentEnd(): void;
}

export interface AssemblerOptions {
  /** Wanted part duration (ms); the PART-TARGET is the nearest whole number of frames (partTarget). */
  partTargetMs: number;
  /** A segment without a keyframe is cut before it grows past this. */
  maxSegmentBytes: number;
}

interface Held {
  /** The chunk from its moof on: a view of the shared buffer, never written. */
  view: Buffer;
  keyframe: boolean;
  wallMs: number;
  /** Reference-track timing (s); NaN when the chunk has no sample of that track. */
  start: number;
  end: number;
  /** The video traf whose last duration the next video chunk settles (null: nothing to settle). */
  video: TrafInfo | null;
  videoScale: number;
  /** The settled last-sample duration to write into the copy; -1: leave as written. */
  patch: number;
  settled: boolean;
}

interface OpenPart { items: Held[]; start: number; end: number; independent: boolean; wallMs: number }

export class PartAssembler {
  /** Seconds; NaN until the first chunk with a known duration sets it, then fixed for the stream's life. */
  partTarget = NaN;
  /** Chunks without a readable moof (never expected: the splitter checked them). */
  unreadable = 0;
  readonly #o: AssemblerOptions;
  readonly #out: AssemblerOut;
  #videoId = -1;
  #refId = -1;
  #scales = new Map<number, number>();
  #held: Held[] = [];
  /** The last settled frame interval, in video ticks: a guess for the last frame before a flush. */
  #frameTicks = NaN;
  #part: OpenPart | null = null;
  #segOpen = false;
  #segDuration = 0;
  #segBytes = 0;

  constructor(o: AssemblerOptions, out: AssemblerOut) {
    this.#o = o;
    this.#out = out;
  }

  /** A new generation: what is held goes out and the segment ends; the tracks are the new init's. */
  init(init: InitSegment): void {
    this.flush();
    this.#scales = new Map(init.tracks.map((t) => [t.id, t.timescale]));
    this.#videoId = init.tracks.find((t) => t.kind === 'video')?.id ?? -1;
    this.#refId = this.#videoId >= 0 ? this.#videoId : (init.tracks[0]?.id ?? -1);
    this.#frameTicks = NaN;
  }

  chunk(c: Chunk, arrivedMs: number): void {
    const boxes = readChunk(c.bytes);
    if (!boxes || this.#refId < 0) {
      this.unreadable++;
      return;
    }
    const ref = boxes.trafs.find((t) => t.trackId === this.#refId);
    const video = boxes.trafs.find((t) => t.trackId === this.#videoId) ?? null;
    const refScale = this.#scales.get(this.#refId) ?? 1;
    const videoScale = this.#scales.get(this.#videoId) ?? 1;
    if (video) this.#settle(video.dts);
    this.#held.push({
      view: c.bytes.subarray(boxes.moofAt),
      keyframe: c.keyframe,
      wallMs: c.prftMs ?? arrivedMs,
      start: ref ? ref.dts / refScale : NaN,
      end: ref ? (ref.dts + ref.duration) / refScale : NaN,
      video: video && video.lastDurationAt >= 0 ? video : null,
      videoScale,
      patch: -1,
      settled: !video || video.lastDurationAt < 0,
    });
    this.#drain();
    // A video keyframe waiting to settle already closes the part (and maybe the segment) before
    // it: the frame before it is settled now, so the newest part need not wait one more frame.
    const head = this.#held[0];
    if (head?.keyframe && this.#videoId >= 0) this.#cut(head, 0);
  }

  /** The publisher left (or a new init): the last frame takes the last known interval, and the segment ends. */
  flush(): void {
    for (const h of this.#held) {
      if (!h.settled && h.video && Number.isFinite(this.#frameTicks)) this.#setLast(h, this.#frameTicks);
      h.settled = true;
    }
    this.#drain();
    this.#endSegment();
  }

  /** A video chunk starting at `dts` arrived: the held video chunk before it now has an exact last frame. */
  #settle(dts: number): void {
    const h = this.#held.findLast((x) => x.video !== null && !x.settled);
    if (!h) return;
    const v = h.video!;
    const delta = dts - (v.dts + v.duration - v.lastDuration);
    // A jump back, or forward by over a second (a discontinuity), keeps the written duration.
    if (delta > 0 && delta <= Math.max(v.lastDuration, h.videoScale)) {
      this.#setLast(h, delta);
      this.#frameTicks = delta;
    }
    h.settled = true;
  }

  #setLast(h: Held, ticks: number): void {
    const v = h.video!;
    h.patch = ticks;
    if (this.#refId === this.#videoId) h.end = (v.dts + v.duration - v.lastDuration + ticks) / h.videoScale;
  }

  /** Settled chunks, in order, go into parts. */
  #drain(): void {
    let i = 0;
    while (i < this.#held.length && this.#held[i]!.settled) this.#add(this.#held[i++]!);
    if (i) this.#held.splice(0, i);
  }

  #add(h: Held): void {
    const dur = Number.isFinite(h.end - h.start) ? Math.max(0, h.end - h.start) : 0;
    if (!Number.isFinite(this.partTarget) && dur > 0) this.#setPartTarget(h, dur);
    this.#cut(h, dur);
    const part = (this.#part ??= { items: [], start: NaN, end: NaN, independent: h.keyframe, wallMs: h.wallMs });
    this.#segOpen = true;
    part.items.push(h);
    if (Number.isFinite(h.start)) {
      part.start = Number.isFinite(part.start) ? Math.min(part.start, h.start) : h.start;
      part.end = Number.isFinite(part.end) ? Math.max(part.end, h.end) : h.end;
    }
    this.#segBytes += h.view.length;
    // The next chunk is about as long as this one: close now if it could not fit, not one chunk later.
    if (partDuration(part) + dur > this.partTarget + EPS) this.#closePart();
  }

  /** Ends the segment or the part before `h` if it must not join them. */
  #cut(h: Held, dur: number): void {
    const p = this.#part;
    const segDuration = this.#segDuration + (p ? partDuration(p) : 0);
    if (this.#segOpen && h.keyframe && segDuration >= MIN_SEGMENT_S - EPS) this.#endSegment();
    else if (this.#segOpen && this.#segBytes + h.view.length > this.#o.maxSegmentBytes) this.#endSegment();
    // A video keyframe starts a part (a player may start there); audio-only chunks are all "keyframes".
    else if (p && ((h.keyframe && this.#videoId >= 0) || partDuration(p) + dur > this.partTarget + EPS)) this.#closePart();
  }

  /** k whole frame intervals nearest partTargetMs, each rounded up to the ms plus 1 ms: FLV's ms timestamps make 30 fps steps 33 or 34 ms. */
  #setPartTarget(h: Held, dur: number): void {
    const frame = h.patch > 0 ? h.patch / h.videoScale : dur;
    const frameMs = Math.max(1, Math.ceil(frame * 1000 - EPS));
    const k = Math.max(1, Math.round(this.#o.partTargetMs / frameMs));
    this.partTarget = (k * (frameMs + 1)) / 1000;
  }

  #closePart(): void {
    const p = this.#part;
    if (!p) return;
    this.#part = null;
    const bytes = Buffer.concat(p.items.map((h) => h.view));
    let at = 0;
    for (const h of p.items) {
      if (h.patch > 0) bytes.writeUInt32BE(h.patch, at + h.video!.lastDurationAt);
      at += h.view.length;
    }
    const duration = partDuration(p);
    this.#segDuration += duration;
    this.#out.part({ bytes, duration, independent: p.independent, wallMs: p.wallMs });
  }

  #endSegment(): void {
    this.#closePart();
    if (!this.#segOpen) return;
    this.#segOpen = false;
    this.#segDuration = 0;
    this.#segBytes = 0;
    this.#out.segmentEnd();
  }
}

function partDuration(p: OpenPart): number {
  return Number.isFinite(p.end - p.start) ? Math.max(0, p.end - p.start) : 0;
}
