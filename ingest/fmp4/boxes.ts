// Bounds-checked parsers for the few ISO-BMFF boxes the splitter reads: the moof
// tree of every chunk and the moov of each init segment. Pure functions over a
// Buffer; any truncation or missing mandatory child throws FMP4_BAD_BOX.
import { Fmp4Error } from './errors.js';
import type { TrackTime } from '../../media/types.js';

/** A box located inside `buf`: payload is [start + headerSize, end). */
export interface BoxRef {
  type: string;
  start: number;
  headerSize: number;
  end: number;
}

/** What the moov says about one track, as needed to interpret its fragments. */
export interface MoovTrack {
  id: number;
  /** hdlr handler_type, e.g. `vide`, `soun`. */
  handler: string;
  /** mdhd timescale (ticks per second). */
  timescale: number;
  /** trex defaults (0 when the moov has no trex for this track). */
  defaultDuration: number;
  defaultFlags: number;
}

/** Per-chunk facts derived from a moof and the current init's tracks. */
export interface MoofSummary {
  seq: number;
  /** Seconds. */
  dts: number;
  /** Seconds, longest traf. */
  duration: number;
  keyframe: boolean;
  /** The traf that starts earliest; absent unless every traf has a tfdt. */
  earliest?: TrackTime;
}

/** ISO-BMFF sample_is_non_sync_sample bit of sample_flags. */
const NON_SYNC = 0x10000;
/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2208988800;

function bad(message: string): never {
  throw new Fmp4Error('FMP4_BAD_BOX', message);
}

function need(box: BoxRef, at: number, n: number, what: string): void {
  if (at + n > box.end) bad(`${box.type} at ${box.start} truncated reading ${what}`);
}

/** Reads the header of the box at `at`, which must end by `limit`. */
export function readBoxHeader(buf: Buffer, at: number, limit: number): BoxRef {
  if (at + 8 > limit) bad(`child box header at ${at} truncated (parent ends at ${limit})`);
  const size32 = buf.readUInt32BE(at);
  const type = buf.toString('latin1', at + 4, at + 8);
  let size = size32;
  let headerSize = 8;
  if (size32 === 1) {
    if (at + 16 > limit) bad(`'${type}' at ${at}: largesize truncated`);
    size = buf.readUInt32BE(at + 8) * 2 ** 32 + buf.readUInt32BE(at + 12);
    headerSize = 16;
  }
  if (size < headerSize) bad(`'${type}' at ${at} has size ${size32 === 1 ? size : size32}`);
  if (at + size > limit) bad(`'${type}' at ${at} (size ${size}) overruns its parent ending at ${limit}`);
  return { type, start: at, headerSize, end: at + size };
}

/** The direct children of `parent`, after skipping `skip` payload bytes (e.g. a FullBox header). */
export function childBoxes(buf: Buffer, parent: BoxRef, skip = 0): BoxRef[] {
  const out: BoxRef[] = [];
  let at = parent.start + parent.headerSize + skip;
  while (at < parent.end) {
    const child = readBoxHeader(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

function child(buf: Buffer, parent: BoxRef, type: string): BoxRef | undefined {
  return childBoxes(buf, parent).find((b) => b.type === type);
}

function mustChild(buf: Buffer, parent: BoxRef, type: string): BoxRef {
  return child(buf, parent, type) ?? bad(`'${parent.type}' at ${parent.start} has no '${type}'`);
}

/** Version and flags of a FullBox, and the offset just past them. */
function fullBox(buf: Buffer, box: BoxRef): { version: number; flags: number; at: number } {
  const at = box.start + box.headerSize;
  need(box, at, 4, 'version/flags');
  const word = buf.readUInt32BE(at);
  return { version: word >>> 24, flags: word & 0xffffff, at: at + 4 };
}

function u64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);
}

export function parseMfhd(buf: Buffer, box: BoxRef): number {
  const { at } = fullBox(buf, box);
  need(box, at, 4, 'sequence_number');
  return buf.readUInt32BE(at);
}

export interface Tfhd {
  trackId: number;
  flags: number;
  defaultDuration?: number;
  defaultFlags?: number;
}

export function parseTfhd(buf: Buffer, box: BoxRef): Tfhd {
  const { flags, at: start } = fullBox(buf, box);
  let at = start;
  need(box, at, 4, 'track_ID');
  const out: Tfhd = { trackId: buf.readUInt32BE(at), flags };
  at += 4;
  if (flags & 0x01) at += 8; // base_data_offset
  if (flags & 0x02) at += 4; // sample_description_index
  if (flags & 0x08) {
    need(box, at, 4, 'default_sample_duration');
    out.defaultDuration = buf.readUInt32BE(at);
    at += 4;
  }
  if (flags & 0x10) at += 4; // default_sample_size
  if (flags & 0x20) {
    need(box, at, 4, 'default_sample_flags');
    out.defaultFlags = buf.readUInt32BE(at);
    at += 4;
  }
  need(box, start, at - start, 'optional fields');
  return out;
}

/** baseMediaDecodeTime in track ticks (exact below 2^53). */
export function parseTfdt(buf: Buffer, box: BoxRef): number {
  const { version, at } = fullBox(buf, box);
  need(box, at, version === 1 ? 8 : 4, 'baseMediaDecodeTime');
  return version === 1 ? u64(buf, at) : buf.readUInt32BE(at);
}

export interface Trun {
  sampleCount: number;
  /** Sum of sample durations, using `defaultDuration` where the trun has none. */
  duration: number;
  /** first_sample_flags, else sample 0's own flags; undefined when the trun carries neither. */
  firstFlags?: number;
}

export function parseTrun(buf: Buffer, box: BoxRef, defaultDuration: number): Trun {
  const { flags, at: start } = fullBox(buf, box);
  let at = start;
  need(box, at, 4, 'sample_count');
  const sampleCount = buf.readUInt32BE(at);
  at += 4;
  if (flags & 0x01) at += 4; // data_offset
  let firstFlags: number | undefined;
  if (flags & 0x04) {
    need(box, at, 4, 'first_sample_flags');
    firstFlags = buf.readUInt32BE(at);
    at += 4;
  }
  const hasDur = (flags & 0x100) !== 0;
  const hasFlags = (flags & 0x400) !== 0;
  const stride = 4 * (+hasDur + +((flags & 0x200) !== 0) + +hasFlags + +((flags & 0x800) !== 0));
  // Check the whole sample table up front, so a bogus sample_count cannot run the loop long.
  need(box, at, sampleCount * stride, `${sampleCount} samples`);
  let duration = hasDur ? 0 : sampleCount * defaultDuration;
  if (hasDur) {
    for (let i = 0, p = at; i < sampleCount; i++, p += stride) duration += buf.readUInt32BE(p);
  }
  if (firstFlags === undefined && hasFlags && sampleCount > 0) {
    firstFlags = buf.readUInt32BE(at + 4 * (+hasDur + +((flags & 0x200) !== 0)));
  }
  return firstFlags === undefined ? { sampleCount, duration } : { sampleCount, duration, firstFlags };
}

/** prft NTP timestamp as Unix milliseconds. */
export function parsePrft(buf: Buffer, box: BoxRef): number {
  const { at } = fullBox(buf, box);
  need(box, at, 12, 'ntp_timestamp');
  const seconds = buf.readUInt32BE(at + 4);
  const fraction = buf.readUInt32BE(at + 8);
  return (seconds - NTP_UNIX_OFFSET) * 1000 + (fraction / 2 ** 32) * 1000;
}

/** Tracks of a moov, keyed by track_ID. */
export function parseMoov(buf: Buffer, moov: BoxRef): Map<number, MoovTrack> {
  const tracks = new Map<number, MoovTrack>();
  const kids = childBoxes(buf, moov);
  for (const trak of kids.filter((b) => b.type === 'trak')) {
    const tkhdBox = mustChild(buf, trak, 'tkhd');
    const tkhd = fullBox(buf, tkhdBox);
    const idAt = tkhd.at + (tkhd.version === 1 ? 16 : 8);
    need(tkhdBox, idAt, 4, 'track_ID');
    const mdia = mustChild(buf, trak, 'mdia');
    const mdhdBox = mustChild(buf, mdia, 'mdhd');
    const mdhd = fullBox(buf, mdhdBox);
    const tsAt = mdhd.at + (mdhd.version === 1 ? 16 : 8);
    need(mdhdBox, tsAt, 4, 'timescale');
    const hdlrBox = mustChild(buf, mdia, 'hdlr');
    const hdlr = fullBox(buf, hdlrBox);
    need(hdlrBox, hdlr.at + 4, 4, 'handler_type');
    const timescale = buf.readUInt32BE(tsAt);
    if (timescale === 0) bad(`mdhd at ${mdhdBox.start} has timescale 0`);
    const id = buf.readUInt32BE(idAt);
    const handler = buf.toString('latin1', hdlr.at + 4, hdlr.at + 8);
    tracks.set(id, { id, handler, timescale, defaultDuration: 0, defaultFlags: 0 });
  }
  const mvex = kids.find((b) => b.type === 'mvex');
  for (const trex of mvex ? childBoxes(buf, mvex).filter((b) => b.type === 'trex') : []) {
    const { at } = fullBox(buf, trex);
    need(trex, at, 20, 'defaults');
    const track = tracks.get(buf.readUInt32BE(at));
    if (track) {
      track.defaultDuration = buf.readUInt32BE(at + 8);
      track.defaultFlags = buf.readUInt32BE(at + 16);
    }
  }
  return tracks;
}

/** Reads a moof: seq, first traf's dts, longest traf's duration, the keyframe flag, the earliest traf. */
export function summarizeMoof(buf: Buffer, moof: BoxRef, tracks: Map<number, MoovTrack>): MoofSummary {
  const kids = childBoxes(buf, moof);
  const mfhd = kids.find((b) => b.type === 'mfhd') ?? bad(`moof at ${moof.start} has no mfhd`);
  const seq = parseMfhd(buf, mfhd);
  const trafs = kids.filter((b) => b.type === 'traf');
  if (trafs.length === 0) bad(`moof at ${moof.start} has no traf`);
  let dts = 0;
  let duration = 0;
  let sawVideo = false;
  let keyframe = true;
  let earliest: TrackTime | undefined;
  let timed = true;
  trafs.forEach((traf, i) => {
    const parts = childBoxes(buf, traf);
    const tfhdBox = parts.find((b) => b.type === 'tfhd') ?? bad(`traf at ${traf.start} has no tfhd`);
    const tfhd = parseTfhd(buf, tfhdBox);
    const track = tracks.get(tfhd.trackId) ?? bad(`traf at ${traf.start} names unknown track ${tfhd.trackId}`);
    const truns = parts.filter((b) => b.type === 'trun');
    // duration-is-empty (0x010000) trafs legitimately carry no samples.
    if (truns.length === 0 && !(tfhd.flags & 0x010000)) bad(`traf at ${traf.start} has no trun`);
    const defDur = tfhd.defaultDuration ?? track.defaultDuration;
    let ticks = 0;
    let firstFlags: number | undefined;
    let first = true;
    for (const box of truns) {
      const trun = parseTrun(buf, box, defDur);
      ticks += trun.duration;
      if (first && trun.sampleCount > 0) {
        firstFlags = trun.firstFlags;
        first = false;
      }
    }
    duration = Math.max(duration, ticks / track.timescale);
    const tfdt = parts.find((b) => b.type === 'tfdt') ?? (i === 0 ? bad(`first traf at ${traf.start} has no tfdt`) : undefined);
    if (tfdt) {
      const ticks = parseTfdt(buf, tfdt);
      const seconds = ticks / track.timescale;
      if (i === 0) dts = seconds;
      if (!earliest || seconds < earliest.seconds) earliest = { trackId: tfhd.trackId, ticks, seconds };
    } else timed = false;
    if (!sawVideo && track.handler === 'vide') {
      sawVideo = true;
      const flags = firstFlags ?? tfhd.defaultFlags ?? track.defaultFlags;
      keyframe = (flags & NON_SYNC) === 0;
    }
  });
  if (!sawVideo) keyframe = ![...tracks.values()].some((t) => t.handler === 'vide');
  return timed && earliest ? { seq, dts, duration, keyframe, earliest } : { seq, dts, duration, keyframe };
}
