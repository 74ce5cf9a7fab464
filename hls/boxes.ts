// What LL-HLS needs to read in a chunk: where its moof starts (a part carries moof+mdat only;
// prft/emsg/styp/sidx stay with the WebSocket), and per track its decode time, its samples'
// total duration and where the last sample's duration is written, so a copy can be patched.
// The splitter has checked every chunk already (ingest/fmp4/splitter.ts); these readers still
// return null rather than throw on anything they do not expect.

export interface TrafInfo {
  trackId: number;
  /** tfdt baseMediaDecodeTime, in the track's timescale. */
  dts: number;
  /** Sum of the samples' durations, in the track's timescale; NaN when the trun and tfhd give none. */
  duration: number;
  /** Samples in its trun(s). */
  samples: number;
  /** Byte offset, from the moof's start, of the last sample's trun duration field; -1 when the trun has no per-sample durations. */
  lastDurationAt: number;
  /** That last sample's duration (NaN without per-sample durations). */
  lastDuration: number;
}

export interface ChunkBoxes {
  /** Offset of the moof in the chunk's bytes: everything before it is left out of parts. */
  moofAt: number;
  trafs: TrafInfo[];
}

const type = (b: Buffer, at: number): string => b.toString('latin1', at + 4, at + 8);

/** Top-level or child boxes in [from, to): [type, start, end] each; null when a size is impossible. */
function boxes(b: Buffer, from: number, to: number): Array<[string, number, number]> | null {
  const out: Array<[string, number, number]> = [];
  let at = from;
  while (at < to) {
    if (to - at < 8) return null;
    let size = b.readUInt32BE(at);
    if (size === 1) {
      if (to - at < 16) return null;
      size = Number(b.readBigUInt64BE(at + 8));
    }
    if (size < 8 || at + size > to) return null;
    out.push([type(b, at), at, at + size]);
    at += size;
  }
  return out;
}

const TFHD_BASE_OFFSET = 0x01;
const TFHD_DESCRIPTION = 0x02;
const TFHD_DEFAULT_DURATION = 0x08;
const TRUN_DATA_OFFSET = 0x01;
const TRUN_FIRST_FLAGS = 0x04;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTS = 0x800;

function traf(b: Buffer, start: number, end: number, moofAt: number): TrafInfo | null {
  const kids = boxes(b, start + 8, end);
  if (!kids) return null;
  let trackId = -1;
  let defaultDuration = NaN;
  let dts = NaN;
  let duration = 0;
  let samples = 0;
  let lastDurationAt = -1;
  let lastDuration = NaN;
  for (const [t, s, e] of kids) {
    if (t === 'tfhd' && e - s >= 16) {
      const flags = b.readUIntBE(s + 9, 3);
      trackId = b.readUInt32BE(s + 12);
      const at = s + 16 + (flags & TFHD_BASE_OFFSET ? 8 : 0) + (flags & TFHD_DESCRIPTION ? 4 : 0);
      if (flags & TFHD_DEFAULT_DURATION && at + 4 <= e) defaultDuration = b.readUInt32BE(at);
    } else if (t === 'tfdt' && e - s >= 16) {
      const v1 = b[s + 8] === 1;
      if (v1 && e - s < 20) return null;
      dts = v1 ? Number(b.readBigUInt64BE(s + 12)) : b.readUInt32BE(s + 12);
    } else if (t === 'trun' && e - s >= 16) {
      const flags = b.readUIntBE(s + 9, 3);
      const count = b.readUInt32BE(s + 12);
      let at = s + 16 + (flags & TRUN_DATA_OFFSET ? 4 : 0) + (flags & TRUN_FIRST_FLAGS ? 4 : 0);
      const per = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS].filter((f) => flags & f).length * 4;
      if (at + count * per > e) return null;
      samples += count;
      if (!(flags & TRUN_DURATION)) {
        duration += count * defaultDuration; // NaN without a default: unknown
        continue;
      }
      for (let i = 0; i < count; i++, at += per) {
        lastDuration = b.readUInt32BE(at);
        lastDurationAt = at - moofAt;
        duration += lastDuration;
      }
    }
  }
  if (trackId < 0 || !Number.isFinite(dts)) return null;
  return { trackId, dts, duration, samples, lastDurationAt, lastDuration };
}

/** Reads a chunk ([prft] [emsg] [styp] [sidx] moof mdat); null if it has no readable moof. */
export function readChunk(bytes: Buffer): ChunkBoxes | null {
  const top = boxes(bytes, 0, bytes.length);
  const moof = top?.find(([t]) => t === 'moof');
  if (!moof) return null;
  const kids = boxes(bytes, moof[1] + 8, moof[2]);
  if (!kids) return null;
  const trafs: TrafInfo[] = [];
  for (const [t, s, e] of kids) {
    if (t !== 'traf') continue;
    const info = traf(bytes, s, e, moof[1]);
    if (!info) return null;
    trafs.push(info);
  }
  return trafs.length ? { moofAt: moof[1], trafs } : null;
}
