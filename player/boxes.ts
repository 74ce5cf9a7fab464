// A tiny, bounds-checked ISO-BMFF reader: just what the player needs from a chunk
// ([prft] moof mdat) to place it on the timeline and on the wall clock. Every reader
// returns undefined rather than throwing on short or malformed input, because a bad
// chunk must never take the player down.
import { firstBoxType } from '../protocol/messages.js';

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

export interface BoxRef {
  type: string;
  /** Offset of the box header within the buffer. */
  start: number;
  /** Offset of the box payload (after size, type and any 64-bit size). */
  payload: number;
  /** Offset one past the end of the box. */
  end: number;
}

export interface TfdtInfo {
  trackId: number;
  /** baseMediaDecodeTime, in the track's timescale. */
  baseMediaDecodeTime: number;
}

export interface PrftInfo {
  referenceTrackId: number;
  /** Wall clock (ms since the Unix epoch) at which the writer produced the chunk. */
  unixMs: number;
  /** Media time the wall clock refers to, in the reference track's timescale. */
  mediaTime: number;
}

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

/** 64-bit unsigned as a double; exact below 2^53, which every sane media time is. */
function u64(b: Uint8Array, at: number): number {
  return u32(b, at) * 0x1_0000_0000 + u32(b, at + 4);
}

/** Reads the box header at `at`, or undefined if it does not fit inside [at, limit). */
export function readBox(b: Uint8Array, at: number, limit = b.byteLength): BoxRef | undefined {
  if (at < 0 || at + 8 > limit) return undefined;
  let size = u32(b, at);
  const type = fourcc(b, at + 4);
  let payload = at + 8;
  if (size === 1) {
    if (at + 16 > limit) return undefined;
    size = u64(b, at + 8);
    payload = at + 16;
  } else if (size === 0) {
    size = limit - at; // "extends to the end of the file"
  }
  if (size < payload - at || at + size > limit) return undefined;
  return { type, start: at, payload, end: at + size };
}

/** Child boxes of the range [from, to), stopping at the first malformed one. */
export function* children(b: Uint8Array, from: number, to: number): Generator<BoxRef> {
  let at = from;
  while (at < to) {
    const box = readBox(b, at, to);
    if (!box) return;
    yield box;
    at = box.end;
  }
}

function findChild(b: Uint8Array, parent: BoxRef, type: string): BoxRef | undefined {
  for (const box of children(b, parent.payload, parent.end)) if (box.type === type) return box;
  return undefined;
}

export { firstBoxType };

/** True for an init segment, which starts with ftyp or moov (per the protocol). */
export function isInitSegment(b: Uint8Array): boolean {
  const t = firstBoxType(b);
  return t === 'ftyp' || t === 'moov';
}

/** tfdt of the first traf of the first moof, with that traf's track_ID (from tfhd). */
export function readFirstTfdt(b: Uint8Array): TfdtInfo | undefined {
  for (const top of children(b, 0, b.byteLength)) {
    if (top.type !== 'moof') continue;
    const traf = findChild(b, top, 'traf');
    if (!traf) return undefined;
    const tfhd = findChild(b, traf, 'tfhd');
    const tfdt = findChild(b, traf, 'tfdt');
    if (!tfhd || !tfdt || tfhd.payload + 8 > tfhd.end || tfdt.payload + 8 > tfdt.end) return undefined;
    const trackId = u32(b, tfhd.payload + 4);
    const version = b[tfdt.payload]!;
    if (version === 1) {
      if (tfdt.payload + 12 > tfdt.end) return undefined;
      return { trackId, baseMediaDecodeTime: u64(b, tfdt.payload + 4) };
    }
    return { trackId, baseMediaDecodeTime: u32(b, tfdt.payload + 4) };
  }
  return undefined;
}

/** The producer reference time box that precedes the moof, if the chunk carries one. */
export function readPrft(b: Uint8Array): PrftInfo | undefined {
  for (const top of children(b, 0, b.byteLength)) {
    if (top.type === 'moof') return undefined; // prft precedes the moof it describes
    if (top.type !== 'prft') continue;
    const p = top.payload;
    const version = b[p] ?? 0;
    const need = version === 1 ? 24 : 20;
    if (p + need > top.end) return undefined;
    const referenceTrackId = u32(b, p + 4);
    const ntpSeconds = u32(b, p + 8);
    const ntpFraction = u32(b, p + 12);
    const unixMs = (ntpSeconds - NTP_UNIX_OFFSET_S) * 1000 + (ntpFraction / 0x1_0000_0000) * 1000;
    const mediaTime = version === 1 ? u64(b, p + 16) : u32(b, p + 16);
    return { referenceTrackId, unixMs, mediaTime };
  }
  return undefined;
}

/**
 * Whether the first sample of `trackId`'s first traf is a sync sample (a keyframe), from the
 * trun's first-sample or per-sample flags, else tfhd's default flags; undefined when the
 * chunk does not say (the default would then be in the init segment's trex).
 */
export function readFirstSampleSync(b: Uint8Array, trackId: number): boolean | undefined {
  for (const top of children(b, 0, b.byteLength)) {
    if (top.type !== 'moof') continue;
    for (const traf of children(b, top.payload, top.end)) {
      if (traf.type !== 'traf') continue;
      const tfhd = findChild(b, traf, 'tfhd');
      if (!tfhd || tfhd.payload + 8 > tfhd.end || u32(b, tfhd.payload + 4) !== trackId) continue;
      const trun = findChild(b, traf, 'trun');
      let flags: number | undefined;
      if (trun && trun.payload + 8 <= trun.end) {
        const tf = u32(b, trun.payload) & 0xffffff;
        let at = trun.payload + 8 + (tf & 0x1 ? 4 : 0);
        if (tf & 0x4) {
          if (at + 4 <= trun.end) flags = u32(b, at);
        } else if (tf & 0x400) {
          at += (tf & 0x100 ? 4 : 0) + (tf & 0x200 ? 4 : 0);
          if (at + 4 <= trun.end) flags = u32(b, at);
        }
      }
      if (flags === undefined) {
        const hf = u32(b, tfhd.payload) & 0xffffff;
        if (hf & 0x20) {
          const at = tfhd.payload + 8 + (hf & 0x1 ? 8 : 0) + (hf & 0x2 ? 4 : 0) + (hf & 0x8 ? 4 : 0) + (hf & 0x10 ? 4 : 0);
          if (at + 4 <= tfhd.end) flags = u32(b, at);
        }
      }
      // sample_is_non_sync_sample is bit 16 of the sample flags.
      return flags === undefined ? undefined : (flags & 0x10000) === 0;
    }
    return undefined;
  }
  return undefined;
}

/** The moof's mfhd sequence number, or undefined if the chunk has none readable. */
export function readMoofSeq(b: Uint8Array): number | undefined {
  for (const top of children(b, 0, b.byteLength)) {
    if (top.type !== 'moof') continue;
    for (const box of children(b, top.payload, top.end)) {
      if (box.type !== 'mfhd') continue;
      if (box.payload + 8 > box.end) return undefined;
      return ((b[box.payload + 4]! << 24) >>> 0) + (b[box.payload + 5]! << 16) + (b[box.payload + 6]! << 8) + b[box.payload + 7]!;
    }
    return undefined;
  }
  return undefined;
}
