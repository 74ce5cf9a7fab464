// One stream's LL-HLS window: the parts and segments the assembler makes, numbered, kept within
// hls.windowSegments and hls.maxStreamBytes, the init segments they refer to, and the playlist
// text, built once per change (per new part) and cached, never per request.
//
// Numbers start from the wall clock in tenths of a second (MSN, discontinuity sequence, part
// numbers ×1000), so a stream the relay forgot and that comes back later never reuses a URI a
// CDN may have cached, and players see its numbers move forward. Segments last ≥ 0.9 s, so the
// numbering never catches up with the clock.
import type { Chunk, InitSegment } from '../media/types.js';
import { PartAssembler, type AssembledPart } from './assembler.js';
import type { Position } from './reload.js';
import { writePlaylist } from './playlist.js';
import type { Part, Segment } from './types.js';

export interface HlsStreamOptions {
  partTargetMs: number;
  windowSegments: number;
  maxStreamBytes: number;
}

/** Segments whose parts the playlist lists (the spec: parts within three target durations of the end). */
export const PART_SEGMENTS = 3;
/** Playlists cached per URI suffix (a view token): the common one, plus a few tokens at a time. */
const MAX_CACHED = 16;
/**
 * A stream nobody fetched LL-HLS of for this long (ms) keeps IDLE_SEGMENTS, not windowSegments:
 * every live stream is repackaged, and most may have no LL-HLS viewer at all.
 */
export const IDLE_MS = 60_000;
/** The spec's least: a live playlist spans three target durations. */
export const IDLE_SEGMENTS = 3;

export class HlsStream {
  readonly #o: HlsStreamOptions;
  readonly #asm: PartAssembler;
  /** Complete segments, oldest first, then the one being built (null before its first part). */
  #segments: Segment[] = [];
  #open: Segment | null = null;
  #parts = new Map<number, Part>();
  #inits = new Map<number, { bytes: Buffer; type: string }>();
  #initId = -1;
  #nextMsn: number;
  #nextPart: number;
  #disc: number;
  #newGeneration = false;
  #targetDuration = 1;
  #bytes = 0;
  #dirty = false;
  /** Wall clock of the last chunk and of the last request (ms). */
  #now = 0;
  #requestedAt = -Infinity;
  #cache = new Map<string, string>();
  /** Called once per change of the window (a part, a complete segment): blocked requests are re-decided. */
  onChange: (() => void) | null = null;

  constructor(o: HlsStreamOptions, nowMs: number) {
    this.#o = o;
    const tenths = Math.floor(nowMs / 100);
    this.#nextMsn = tenths;
    this.#disc = tenths;
    this.#nextPart = tenths * 1000;
    this.#asm = new PartAssembler({ partTargetMs: o.partTargetMs, maxSegmentBytes: o.maxStreamBytes / 2 }, {
      part: (p) => this.#addPart(p),
      segmentEnd: () => this.#endSegment(),
    });
  }

  /** A new generation: a discontinuity and a new EXT-X-MAP from the next segment on. */
  init(init: InitSegment): void {
    this.#asm.init(init);
    this.#initId = this.#nextMsn;
    this.#inits.set(this.#initId, { bytes: init.bytes, type: init.mime.startsWith('audio/') ? 'audio/mp4' : 'video/mp4' });
    this.#newGeneration = this.#segments.length > 0 || this.#open !== null;
    this.#commit();
  }

  chunk(c: Chunk, nowMs: number): void {
    this.#now = nowMs;
    if (this.#initId < 0) return;
    this.#asm.chunk(c, nowMs);
    this.#commit();
  }

  /** The publisher left or failed: what is held goes out, the segment ends. */
  end(): void {
    this.#asm.flush();
    this.#commit();
  }

  /** A request for this stream's playlist or media: the full window is kept for IDLE_MS from now. */
  requested(nowMs: number): void {
    this.#requestedAt = nowMs;
  }

  get partTarget(): number {
    return this.#asm.partTarget;
  }

  get targetDuration(): number {
    return this.#targetDuration;
  }

  /** The newest part and the newest complete segment (what a blocking reload waits for); null before the first part. */
  get position(): Position | null {
    if (!Number.isFinite(this.#asm.partTarget)) return null; // nothing can be listed yet
    const open = this.#open;
    const last = this.#segments.at(-1);
    const completeMsn = last ? last.msn : this.#nextMsn - 1 - (open ? 1 : 0);
    if (open && open.parts.length) return { msn: open.msn, part: open.parts.length - 1, completeMsn };
    if (last) return { msn: last.msn, part: last.parts.length - 1, completeMsn };
    return null;
  }

  /** Part numbers held, [first, next): `next` is the preload hint's. */
  get parts(): { first: number; next: number } | null {
    const first = (this.#segments[0] ?? this.#open)?.parts[0];
    return first ? { first: first.n, next: this.#nextPart } : null;
  }

  part(n: number): Part | undefined {
    return this.#parts.get(n);
  }

  /** A complete segment in the window. */
  segment(msn: number): Segment | undefined {
    const first = this.#segments[0];
    return first ? this.#segments[msn - first.msn] : undefined;
  }

  initSegment(id: number): { bytes: Buffer; type: string } | undefined {
    return this.#inits.get(id);
  }

  /** The current init's media type, for parts and segments. */
  get mediaType(): string {
    return this.#inits.get(this.#initId)?.type ?? 'video/mp4';
  }

  /** Bytes of media held (complete segments and the open one's parts). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The playlist, with `suffix` after every URI (e.g. `?token=…`); null before the first part. */
  playlist(suffix = ''): string | null {
    const cached = this.#cache.get(suffix);
    if (cached !== undefined) return cached;
    const target = this.#asm.partTarget;
    if (!this.position) return null;
    const text = writePlaylist({
      segments: this.#segments, open: this.#open, partTarget: target, targetDuration: this.#targetDuration,
      hint: this.#nextPart, partSegments: PART_SEGMENTS, suffix,
    });
    if (this.#cache.size < MAX_CACHED) this.#cache.set(suffix, text);
    return text;
  }

  #addPart(a: AssembledPart): void {
    let seg = this.#open;
    if (!seg) {
      if (this.#newGeneration) this.#disc++;
      this.#newGeneration = false;
      seg = { msn: this.#nextMsn++, disc: this.#disc, initId: this.#initId, wallMs: a.wallMs, duration: 0, independent: a.independent, parts: [], bytes: null };
      this.#open = seg;
    }
    const part: Part = { n: this.#nextPart++, index: seg.parts.length, duration: a.duration, independent: a.independent, bytes: a.bytes };
    seg.parts.push(part);
    seg.duration += a.duration;
    this.#parts.set(part.n, part);
    this.#bytes += a.bytes.length;
    this.#trim();
    this.#dirty = true;
  }

  #endSegment(): void {
    const seg = this.#open;
    if (!seg) return;
    this.#open = null;
    // One buffer per segment, the parts re-pointed into it: the window holds each byte once.
    seg.bytes = Buffer.concat(seg.parts.map((p) => p.bytes));
    let at = 0;
    for (const p of seg.parts) {
      p.bytes = seg.bytes.subarray(at, at + p.bytes.length);
      at += p.bytes.length;
    }
    this.#segments.push(seg);
    // EXTINF rounded to the nearest integer must not exceed it; it never goes down.
    this.#targetDuration = Math.max(this.#targetDuration, Math.round(seg.duration));
    this.#trim();
    this.#dirty = true;
  }

  #trim(): void {
    const keep = this.#now - this.#requestedAt < IDLE_MS ? this.#o.windowSegments : Math.min(IDLE_SEGMENTS, this.#o.windowSegments);
    while (this.#segments.length > keep || (this.#segments.length && this.#bytes > this.#o.maxStreamBytes)) {
      const old = this.#segments.shift()!;
      this.#bytes -= old.bytes!.length;
      for (const p of old.parts) this.#parts.delete(p.n);
    }
    const used = new Set([this.#initId, ...this.#segments.map((s) => s.initId)]);
    if (this.#open) used.add(this.#open.initId);
    for (const id of this.#inits.keys()) if (!used.has(id)) this.#inits.delete(id);
  }

  #commit(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#cache.clear();
    this.onChange?.();
  }
}
