// Incremental top-level ISO-BMFF reader for FFmpeg's fragmented-MP4 stdout.
// Turns an arbitrary byte stream into whole units: init segments (ftyp+moov) and
// chunks ([prft] [emsg] [styp] [sidx] moof mdat). Sizes are untrusted: every
// limit is enforced from the box header, before any body byte is buffered.
import { parseMoov, parsePrft, summarizeMoof } from './boxes.js';
import type { BoxRef, MoofSummary, MoovTrack } from './boxes.js';
import { describeInit } from './codec.js';
import { Fmp4Error } from './errors.js';
import type { Chunk, Fmp4Unit } from '../../media/types.js';
import type { Fmp4ErrorCode } from './errors.js';

export interface Fmp4SplitterOptions {
  /** Largest box, and largest whole chunk (prefix boxes + moof + mdat). Default 16 MiB. */
  maxBoxBytes?: number;
  /** Largest init segment (ftyp+moov). Default 1 MiB. */
  maxInitBytes?: number;
}

/** Where we are between units: idle, after ftyp, after chunk prefix boxes, after moof. */
type Phase = 'idle' | 'init' | 'prefix' | 'moof';

/** What to do with a box: part of a unit (maybe parsed), or dropped. */
type Role = 'ftyp' | 'moov' | 'prefix' | 'prft' | 'moof' | 'mdat' | 'inner' | 'drop';

interface OpenBox {
  type: string;
  role: Role;
  /** Stream offset of the box's first byte. */
  start: number;
  size: number;
  headerSize: number;
  /** Bytes still to come from later input. */
  remaining: number;
  /** Pieces of the box seen so far (empty for dropped boxes). */
  parts: Buffer[];
}

const PARSED: ReadonlySet<Role> = new Set<Role>(['moov', 'moof', 'prft']);

function raise(code: Fmp4ErrorCode, message: string): never {
  throw new Fmp4Error(code, message);
}

function isPrintable(type: string): boolean {
  for (let i = 0; i < 4; i++) {
    const c = type.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function hex(type: string): string {
  return Buffer.from(type, 'latin1').toString('hex');
}

/** One buffer for a unit: a view when the parts are adjacent in memory (whole unit in one piece), else one copy. */
function joinParts(parts: Buffer[], total: number): Buffer {
  const first = parts[0];
  if (!first) return Buffer.alloc(0);
  let end = first.byteOffset + first.length;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.buffer !== first.buffer || p.byteOffset !== end) return Buffer.concat(parts, total);
    end += p.length;
  }
  return parts.length === 1 ? first : Buffer.from(first.buffer, first.byteOffset, total);
}

export class Fmp4Splitter {
  private readonly maxBoxBytes: number;
  private readonly maxInitBytes: number;
  private failure: Fmp4Error | null = null;
  /** Stream offset of the next byte to be read. */
  private offset = 0;
  /** A box header split across pieces (at most 16 bytes). */
  private readonly hdr = Buffer.alloc(16);
  private hdrLen = 0;
  private box: OpenBox | null = null;
  private boxHeld = 0;
  private phase: Phase = 'idle';
  private unitParts: Buffer[] = [];
  private unitBytes = 0;
  private moofStart = 0;
  /** Tracks of the current init; null until the first moov. */
  private tracks: Map<number, MoovTrack> | null = null;
  private pendingTracks: Map<number, MoovTrack> | null = null;
  private summary: MoofSummary | null = null;
  private prftMs: number | undefined;

  constructor(opts: Fmp4SplitterOptions = {}) {
    this.maxBoxBytes = opts.maxBoxBytes ?? 16 * 1024 * 1024;
    this.maxInitBytes = opts.maxInitBytes ?? 1024 * 1024;
  }

  /** Bytes held for a unit that is not complete yet; never more than maxBoxBytes + 8. */
  get bufferedBytes(): number {
    return this.unitBytes + this.boxHeld + this.hdrLen;
  }

  /**
   * Feeds the next piece of the stream; `emit` gets every unit completed by it, in order.
   * `data` must not be mutated afterwards: emitted units may be views of it.
   * Throws Fmp4Error on bad input, then keeps throwing it until reset().
   */
  push(data: Buffer, emit: (unit: Fmp4Unit) => void): void {
    if (this.failure) throw this.failure;
    // Collect first, emit after: a throwing `emit` then cannot leave the parser mid-piece.
    const out: Fmp4Unit[] = [];
    let error: unknown = null;
    try {
      this.consume(data, out);
    } catch (err) {
      if (err instanceof Fmp4Error) this.fail(err);
      error = err;
    }
    for (const unit of out) emit(unit);
    if (error) throw error;
  }

  /** Forgets everything, including the current init: the next input must be a fresh stream. */
  reset(): void {
    this.failure = null;
    this.offset = 0;
    this.tracks = null;
    this.clearUnit();
  }

  private fail(err: Fmp4Error): void {
    this.failure = err;
    this.clearUnit();
  }

  private clearUnit(): void {
    this.hdrLen = 0;
    this.box = null;
    this.boxHeld = 0;
    this.phase = 'idle';
    this.unitParts = [];
    this.unitBytes = 0;
    this.pendingTracks = null;
    this.summary = null;
    this.prftMs = undefined;
  }

  private consume(data: Buffer, out: Fmp4Unit[]): void {
    const n = data.length;
    let p = 0;
    while (p < n) {
      const box = this.box;
      if (box) {
        const take = Math.min(box.remaining, n - p);
        if (box.role !== 'drop') {
          box.parts.push(data.subarray(p, p + take));
          this.boxHeld += take;
        }
        box.remaining -= take;
        p += take;
        this.offset += take;
        if (box.remaining === 0) this.closeBox(box, out);
        continue;
      }
      // Fast path: the whole header is in this piece; the box (header included) is then read as body.
      if (this.hdrLen === 0 && n - p >= 8) {
        const size32 = data.readUInt32BE(p);
        if (size32 !== 1 || n - p >= 16) {
          const size = size32 === 1 ? data.readUInt32BE(p + 8) * 2 ** 32 + data.readUInt32BE(p + 12) : size32;
          this.openBox(data.toString('latin1', p + 4, p + 8), size32, size, size32 === 1 ? 16 : 8, this.offset, null, out);
          continue;
        }
      }
      // Slow path: gather a header split across pieces.
      const want = this.hdrLen >= 8 && this.hdr.readUInt32BE(0) === 1 ? 16 : 8;
      const take = Math.min(want - this.hdrLen, n - p);
      data.copy(this.hdr, this.hdrLen, p, p + take);
      this.hdrLen += take;
      p += take;
      this.offset += take;
      if (this.hdrLen < 8) continue;
      const start = this.offset - this.hdrLen;
      const size32 = this.hdr.readUInt32BE(0);
      const type = this.hdr.toString('latin1', 4, 8);
      if (size32 === 1 && this.hdrLen < 16) {
        // Judge what we can now, so a largesize header cannot park 15 bytes past the limit.
        this.checkType(type, start);
        this.checkUnitRoom(type, 16, start);
        continue;
      }
      const size = size32 === 1 ? this.hdr.readUInt32BE(8) * 2 ** 32 + this.hdr.readUInt32BE(12) : size32;
      this.openBox(type, size32, size, this.hdrLen, start, Buffer.from(this.hdr.subarray(0, this.hdrLen)), out);
    }
  }

  /** Validates a complete header and starts reading the box. `carried` holds header bytes already consumed. */
  private openBox(
    type: string,
    size32: number,
    size: number,
    headerSize: number,
    start: number,
    carried: Buffer | null,
    out: Fmp4Unit[],
  ): void {
    this.checkType(type, start);
    if (size32 === 0) raise('FMP4_BOX_TOO_SMALL', `'${type}' at byte ${start} has size 0 (to end of file), not allowed in a live stream`);
    if (size < headerSize) raise('FMP4_BOX_TOO_SMALL', `'${type}' at byte ${start} has size ${size}, below its ${headerSize}-byte header`);
    if (type === 'ftyp' || type === 'moov') {
      const init = (this.phase === 'init' ? this.unitBytes : 0) + size;
      if (init > this.maxInitBytes) raise('FMP4_INIT_TOO_LARGE', `'${type}' at byte ${start} makes the init segment ${init} bytes, over maxInitBytes ${this.maxInitBytes}`);
    }
    if (size > this.maxBoxBytes) raise('FMP4_BOX_TOO_LARGE', `'${type}' at byte ${start} has size ${size}, over maxBoxBytes ${this.maxBoxBytes}`);
    const role = this.roleOf(type, start);
    if (role !== 'drop') this.checkUnitRoom(type, size, start);
    const parts = role !== 'drop' && carried ? [carried] : [];
    const consumed = carried ? carried.length : 0;
    this.hdrLen = 0;
    this.boxHeld = parts.length ? consumed : 0;
    const box: OpenBox = { type, role, start, size, headerSize, remaining: size - consumed, parts };
    this.box = box;
    // A header-only box (e.g. an empty mdat) may be complete already.
    if (box.remaining === 0) this.closeBox(box, out);
  }

  private checkType(type: string, start: number): void {
    if (!isPrintable(type)) raise('FMP4_BAD_BOX', `no box header at byte ${start}: type bytes 0x${hex(type)} are not printable ASCII`);
  }

  /** Caps a whole unit, so garbage like endless emsg boxes cannot grow the buffer. */
  private checkUnitRoom(type: string, size: number, start: number): void {
    const total = this.unitBytes + size;
    if (this.unitBytes > 0 && total > this.maxBoxBytes) {
      raise('FMP4_BOX_TOO_LARGE', `'${type}' at byte ${start} (size ${size}) grows the unit to ${total} bytes, over maxBoxBytes ${this.maxBoxBytes}`);
    }
  }

  /** Decides from the type and the phase what the box is, or rejects an impossible order; advances the phase. */
  private roleOf(type: string, start: number): Role {
    const where = `'${type}' at byte ${start}`;
    switch (type) {
      case 'ftyp':
        if (this.phase !== 'idle') raise('FMP4_BAD_ORDER', `${where} inside an unfinished ${this.phase === 'init' ? 'init segment' : 'chunk'}`);
        this.phase = 'init';
        return 'ftyp';
      case 'moov':
        if (this.phase !== 'idle' && this.phase !== 'init') raise('FMP4_BAD_ORDER', `${where} inside an unfinished chunk`);
        this.phase = 'init';
        return 'moov';
      case 'moof':
        if (this.phase === 'moof') raise('FMP4_BAD_ORDER', `second ${where} before the mdat of the moof at byte ${this.moofStart}`);
        if (this.phase === 'init') raise('FMP4_BAD_ORDER', `${where} after an ftyp without moov`);
        if (!this.tracks) raise('FMP4_BAD_ORDER', `${where} before any init segment (ftyp+moov)`);
        this.phase = 'moof';
        this.moofStart = start;
        return 'moof';
      case 'mdat':
        if (this.phase === 'prefix') raise('FMP4_BAD_ORDER', `${where}: chunk prefix boxes must be followed by a moof`);
        if (this.phase !== 'moof') raise('FMP4_BAD_ORDER', `${where} without a preceding moof`);
        return 'mdat';
      case 'prft':
      case 'emsg':
      case 'styp':
      case 'sidx':
        if (this.phase === 'init' || this.phase === 'moof') raise('FMP4_BAD_ORDER', `${where} between ${this.phase === 'init' ? 'ftyp and moov' : 'moof and mdat'}`);
        if (!this.tracks) raise('FMP4_BAD_ORDER', `${where} before any init segment (ftyp+moov)`);
        this.phase = 'prefix';
        return type === 'prft' ? 'prft' : 'prefix';
      default:
        // free/skip/mfra/unknown: dropped, except between moof and mdat where removing
        // bytes would break trun data offsets.
        return this.phase === 'moof' ? 'inner' : 'drop';
    }
  }

  private closeBox(box: OpenBox, out: Fmp4Unit[]): void {
    this.box = null;
    this.boxHeld = 0;
    if (box.role === 'drop') return;
    let parts = box.parts;
    if (PARSED.has(box.role)) {
      const whole = joinParts(parts, box.size);
      parts = [whole];
      this.parseBox(box, whole);
    }
    for (const part of parts) this.unitParts.push(part);
    this.unitBytes += box.size;
    if (box.role === 'moov' || box.role === 'mdat') this.finishUnit(box.role, out);
  }

  private parseBox(box: OpenBox, whole: Buffer): void {
    const ref: BoxRef = { type: box.type, start: 0, headerSize: box.headerSize, end: whole.length };
    try {
      if (box.role === 'moov') this.pendingTracks = parseMoov(whole, ref);
      else if (box.role === 'prft') this.prftMs ??= parsePrft(whole, ref);
      else this.summary = summarizeMoof(whole, ref, this.tracks ?? new Map());
    } catch (err) {
      if (!(err instanceof Fmp4Error)) throw err;
      raise(err.code, `in '${box.type}' at byte ${box.start} (inner offsets relative to it): ${err.message.replace(`${err.code}: `, '')}`);
    }
  }

  private finishUnit(role: 'moov' | 'mdat', out: Fmp4Unit[]): void {
    const bytes = joinParts(this.unitParts, this.unitBytes);
    const start = this.offset - this.unitBytes;
    const tracks = this.pendingTracks;
    const summary = this.summary;
    const prftMs = this.prftMs;
    this.clearUnit();
    if (role === 'moov') {
      let desc: ReturnType<typeof describeInit>;
      try {
        desc = describeInit(bytes);
      } catch (err) {
        if (!(err instanceof Fmp4Error)) throw err;
        raise(err.code, `init segment at byte ${start}: ${err.message.replace(`${err.code}: `, '')}`);
      }
      this.tracks = tracks;
      out.push({ kind: 'init', bytes, ...desc });
      return;
    }
    if (!summary) raise('FMP4_BAD_ORDER', `mdat at byte ${start} has no parsed moof`);
    const chunk: Chunk = { kind: 'chunk', bytes, ...summary };
    if (prftMs !== undefined) chunk.prftMs = prftMs;
    out.push(chunk);
  }
}
