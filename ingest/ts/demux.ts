// MPEG-TS (ISO/IEC 13818-1) to whole PES packets, for an SRT caller's stream in process.
// Every byte is the caller's and hostile: packets are taken only on a sync byte whose next
// packet also has one, program tables only with a good CRC, and a PES only up to maxPesBytes.
//
// A video PES usually has no length (FFmpeg writes 0), so its end is not in its header. Waiting
// for the next PES's start costs a frame interval, the delay FFmpeg's own remux has. Muxers pad
// the last TS packet of a PES with adaptation-field stuffing (a PES starts on a packet), so a
// stuffed packet ends its PES at once; an exactly full last packet falls back to the next start.
import { TsError } from './errors.js';

export const PACKET = 188;
const SYNC = 0x47;
const PAT_PID = 0;
const NULL_PID = 0x1fff;
/** A PSI section is at most 1,024 bytes (section_length ≤ 1,021). */
const MAX_SECTION = 1024;

/** A whole PES packet of an elementary stream the consumer asked for. */
export interface Pes {
  pid: number;
  streamType: number;
  /** 90 kHz, unwrapped across the 33-bit wrap; NaN when absent. */
  pts: number;
  dts: number;
  data: Buffer;
}

/** The program's elementary streams, from its PMT: PID → stream_type. */
export type ProgramStreams = ReadonlyMap<number, number>;
/** Each elementary stream's descriptors (its ES_info bytes), by PID. */
export type ProgramDescriptors = ReadonlyMap<number, Buffer>;

export interface TsDemuxerOptions {
  /**
   * Stream types whose PES are assembled, the first stream of each type in the PMT only (the
   * remux carries one video and one audio track; and a PMT of ~200 streams, each assembling up
   * to maxPesBytes, would otherwise hold hundreds of MB). Others are only reported in the program.
   */
  streamTypes: ReadonlySet<number>;
  /** Largest PES (header included); a larger one is an error. */
  maxPesBytes: number;
  /** Called once per new or changed PMT. */
  program?: (streams: ProgramStreams, descriptors: ProgramDescriptors) => void;
  /** Called once per kind of thing dropped (a lost packet, a PES without a header). */
  warn?: (message: string) => void;
}

interface Assembly {
  streamType: number;
  parts: Buffer[];
  bytes: number;
  /** Total bytes from PES_packet_length, or 0 when unbounded or not yet known. */
  expected: number;
  /** Whether PES_packet_length has been read. */
  sized: boolean;
  /** Continuity counter of the last packet; -1 before the first. */
  cc: number;
  /** Whether a PES is being assembled (a start was seen since the last end). */
  open: boolean;
}

/** CRC-32/MPEG-2 (polynomial 0x04C11DB7, no reflection), over a PSI section including its CRC: 0 when intact. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32Mpeg(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = ((c << 8) ^ CRC_TABLE[((c >>> 24) ^ x) & 0xff]!) >>> 0;
  return c >>> 0;
}

/** Reads a 33-bit timestamp from its 5-byte PES form (13818-1 2.4.3.7). */
function timestamp(b: Buffer, at: number): number {
  return (((b[at]! >> 1) & 0x07) * 2 ** 30) + (b[at + 1]! << 22) + ((b[at + 2]! >> 1) << 15) + (b[at + 3]! << 7) + (b[at + 4]! >> 1);
}

export class TsDemuxer {
  readonly #o: TsDemuxerOptions;
  /** The start of a packet that has not fully arrived. */
  #rest: Buffer | null = null;
  #pmtPid = -1;
  #pmtVersion = -1;
  #streams = new Map<number, Assembly>();
  /** PSI sections being gathered, by PID. */
  #sections = new Map<number, Buffer>();
  /** The last timestamp read, unwrapped, for unwrapping the next. */
  #lastTs = NaN;
  #warned = new Set<string>();
  #out: Pes[] = [];

  constructor(o: TsDemuxerOptions) {
    this.#o = o;
  }

  /** Whether a PMT has been read. */
  get hasProgram(): boolean {
    return this.#pmtVersion >= 0;
  }

  /** Feeds bytes; returns the PES packets they completed, in order. Throws TsError on bad input. */
  push(data: Buffer): Pes[] {
    let buf = data;
    if (this.#rest) {
      buf = Buffer.concat([this.#rest, data]);
      this.#rest = null;
    }
    let p = 0;
    while (p + PACKET <= buf.length) {
      if (buf[p] !== SYNC || (p + PACKET < buf.length && buf[p + PACKET] !== SYNC)) {
        p = this.#resync(buf, p + 1);
        continue;
      }
      this.#packet(buf.subarray(p, p + PACKET));
      p += PACKET;
    }
    if (p < buf.length) this.#rest = Buffer.from(buf.subarray(p));
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /** The end of the input: PES packets still open are complete as they stand. */
  end(): Pes[] {
    for (const [pid, a] of this.#streams) if (a.open) this.#finish(pid, a);
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#o.warn?.(message);
  }

  /** The next offset from `from` that looks like a packet start (a sync byte a packet before another, or near the end). */
  #resync(buf: Buffer, from: number): number {
    this.#warnOnce('sync', 'MPEG-TS sync lost; bytes skipped up to the next packet start');
    for (let i = from; i < buf.length; i++) {
      if (buf[i] === SYNC && (i + PACKET >= buf.length || buf[i + PACKET] === SYNC)) return i;
    }
    return buf.length;
  }

  #packet(pkt: Buffer): void {
    const pusi = (pkt[1]! & 0x40) !== 0;
    const pid = ((pkt[1]! & 0x1f) << 8) | pkt[2]!;
    const control = (pkt[3]! >> 4) & 0x03;
    const cc = pkt[3]! & 0x0f;
    if (pkt[1]! & 0x80 || pid === NULL_PID) return; // transport_error_indicator; stuffing packets
    let at = 4;
    let stuffed = false;
    if (control & 0x02) {
      const len = pkt[4]!;
      if (len > 183) {
        // Before a program table, a sync byte 188 bytes before another is as likely noise (one
        // position in 65,536 of random bytes): the probe limit refuses it (TS_NO_PROGRAM).
        if (!this.hasProgram) return;
        throw new TsError('TS_BAD_PACKET', `adaptation field of ${len} bytes in a ${PACKET}-byte packet`);
      }
      // adaptation_field_length 0 is one stuffing byte (13818-1 2.4.3.5), and a field with no
      // flags holds only padding: FFmpeg pads one and two bytes so (2 in 184 PES ends).
      stuffed = len === 0 || pkt[5] === 0 || len > adaptationNeeds(pkt, len);
      at = 5 + len;
    }
    if (!(control & 0x01) || at >= PACKET) return; // no payload
    const payload = pkt.subarray(at);
    if (pid === PAT_PID || pid === this.#pmtPid) this.#psi(pid, pusi, payload);
    else {
      const a = this.#streams.get(pid);
      if (a) this.#pes(pid, a, pusi, cc, payload, stuffed);
    }
  }

  /** Gathers a PSI section (a PAT or PMT) across packets; a new one starts at pointer_field. */
  #psi(pid: number, pusi: boolean, payload: Buffer): void {
    let section: Buffer;
    if (pusi) {
      const pointer = payload[0]!;
      if (1 + pointer >= payload.length) return;
      section = Buffer.from(payload.subarray(1 + pointer));
    } else {
      const held = this.#sections.get(pid);
      if (!held) return;
      section = Buffer.concat([held, payload]);
    }
    if (section.length < 3) { this.#sections.set(pid, section); return; }
    if (section[0] === 0xff) { this.#sections.delete(pid); return; } // stuffing after the last section
    const total = 3 + (((section[1]! & 0x0f) << 8) | section[2]!);
    if (total > MAX_SECTION || total < 12) {
      this.#sections.delete(pid);
      this.#warnOnce('section', `PSI section of ${total} bytes on PID ${pid} ignored`);
      return;
    }
    if (section.length < total) { this.#sections.set(pid, section); return; }
    this.#sections.delete(pid);
    const s = section.subarray(0, total);
    if (crc32Mpeg(s) !== 0) {
      this.#warnOnce('crc', `PSI section on PID ${pid} with a bad CRC ignored`);
      return;
    }
    if (pid === PAT_PID && s[0] === 0x00) this.#pat(s);
    else if (pid === this.#pmtPid && s[0] === 0x02) this.#pmt(s);
  }

  /** PAT: the first program's PMT PID (13818-1 2.4.4.3). */
  #pat(s: Buffer): void {
    for (let i = 8; i + 4 <= s.length - 4; i += 4) {
      const program = s.readUInt16BE(i);
      const pid = s.readUInt16BE(i + 2) & 0x1fff;
      if (program === 0) continue; // the network PID
      if (pid !== this.#pmtPid) {
        this.#pmtPid = pid;
        this.#pmtVersion = -1;
      }
      return;
    }
  }

  /** PMT: the program's elementary streams (13818-1 2.4.4.8). */
  #pmt(s: Buffer): void {
    const version = (s[5]! >> 1) & 0x1f;
    if (version === this.#pmtVersion) return;
    const end = s.length - 4;
    let i = 12 + ((s.readUInt16BE(10) & 0x0fff));
    const streams = new Map<number, number>();
    const descriptors = new Map<number, Buffer>();
    while (i + 5 <= end) {
      const type = s[i]!;
      const pid = s.readUInt16BE(i + 1) & 0x1fff;
      const info = s.subarray(i + 5, i + 5 + (s.readUInt16BE(i + 3) & 0x0fff));
      i += 5 + info.length;
      if (i > end) throw new TsError('TS_BAD_SECTION', 'a PMT entry overruns its section');
      if (pid === PAT_PID || pid === this.#pmtPid || pid === NULL_PID) continue;
      streams.set(pid, type);
      descriptors.set(pid, Buffer.from(info));
    }
    this.#pmtVersion = version;
    const next = new Map<number, Assembly>();
    const taken = new Set<number>();
    for (const [pid, type] of streams) {
      if (!this.#o.streamTypes.has(type)) continue;
      if (taken.has(type)) {
        this.#warnOnce(`second${type}`, `a second stream of type 0x${type.toString(16)} (PID ${pid}) ignored: one of each is carried`);
        continue;
      }
      taken.add(type);
      const old = this.#streams.get(pid);
      next.set(pid, old && old.streamType === type ? old : { streamType: type, parts: [], bytes: 0, expected: 0, sized: false, cc: -1, open: false });
    }
    this.#streams = next;
    this.#o.program?.(streams, descriptors);
  }

  #pes(pid: number, a: Assembly, pusi: boolean, cc: number, payload: Buffer, stuffed: boolean): void {
    // A duplicate packet (13818-1 2.4.3.3), a PES's first one too: otherwise a duplicated
    // one-packet PES would be given out twice.
    if (cc === a.cc) return;
    const lost = a.cc >= 0 && cc !== ((a.cc + 1) & 0x0f);
    a.cc = cc;
    if (lost && a.open) {
      this.#warnOnce(`cc${pid}`, `packets lost on PID ${pid} (continuity counter); the PES they were part of is dropped`);
      this.#drop(a);
    }
    if (pusi) {
      if (a.open) this.#finish(pid, a);
      a.open = true;
    } else if (!a.open) {
      this.#warnOnce(`nostart${pid}`, `PES data on PID ${pid} without a PES start; dropped`);
      return;
    }
    if (a.bytes + payload.length > this.#o.maxPesBytes) {
      throw new TsError('TS_PES_TOO_LARGE', `a PES on PID ${pid} exceeds ${this.#o.maxPesBytes} bytes`);
    }
    a.parts.push(payload);
    a.bytes += payload.length;
    if (!a.sized && a.bytes >= 6) {
      a.sized = true;
      const head = a.parts.length === 1 ? a.parts[0]! : Buffer.concat(a.parts);
      const len = head.readUInt16BE(4);
      a.expected = len ? 6 + len : 0;
    }
    if ((a.expected > 0 && a.bytes >= a.expected) || (a.sized && a.expected === 0 && stuffed)) this.#finish(pid, a);
  }

  #drop(a: Assembly): void {
    a.parts = [];
    a.bytes = 0;
    a.expected = 0;
    a.sized = false;
    a.open = false;
  }

  /** Parses the PES header of what was gathered and queues the PES (13818-1 2.4.3.6). */
  #finish(pid: number, a: Assembly): void {
    const b = a.parts.length === 1 ? a.parts[0]! : Buffer.concat(a.parts, a.bytes);
    const expected = a.expected;
    this.#drop(a);
    if (b.length < 9 || b[0] !== 0 || b[1] !== 0 || b[2] !== 1) {
      this.#warnOnce(`badpes${pid}`, `a PES on PID ${pid} without a start code; dropped`);
      return;
    }
    if (expected && b.length < expected) {
      this.#warnOnce(`short${pid}`, `a PES on PID ${pid} shorter than its length; dropped`);
      return;
    }
    const flags = b[7]!;
    const headerEnd = 9 + b[8]!;
    if (headerEnd > b.length) throw new TsError('TS_BAD_PES', `a PES header on PID ${pid} overruns its packet`);
    let pts = NaN;
    let dts = NaN;
    if (flags & 0x80) {
      if (headerEnd < 14) throw new TsError('TS_BAD_PES', `a PES on PID ${pid} says it has a PTS, but its header is too short`);
      pts = this.#unwrap(timestamp(b, 9));
      dts = pts;
      if ((flags & 0xc0) === 0xc0) {
        if (headerEnd < 19) throw new TsError('TS_BAD_PES', `a PES on PID ${pid} says it has a DTS, but its header is too short`);
        dts = this.#unwrap(timestamp(b, 14));
      }
    }
    const data = b.subarray(headerEnd, expected ? expected : b.length);
    this.#out.push({ pid, streamType: a.streamType, pts, dts, data });
  }

  /** A 33-bit timestamp as the value nearest the last one read (any stream), so it runs on across the wrap. */
  #unwrap(t: number): number {
    const wrap = 2 ** 33;
    if (Number.isNaN(this.#lastTs)) this.#lastTs = t;
    const v = t + Math.round((this.#lastTs - t) / wrap) * wrap;
    this.#lastTs = v;
    return v;
  }
}

/** Bytes an adaptation field of length `len` needs for what its flags say it holds; the rest is stuffing. */
function adaptationNeeds(pkt: Buffer, len: number): number {
  if (len === 0) return 0;
  const flags = pkt[5]!;
  let n = 1;
  if (flags & 0x10) n += 6; // PCR
  if (flags & 0x08) n += 6; // OPCR
  if (flags & 0x04) n += 1; // splice countdown
  if (flags & 0x02) n += 1 + (pkt[5 + n] ?? 0); // private data
  if (flags & 0x01) n += 1 + (pkt[5 + n] ?? 0); // extension
  return n;
}
