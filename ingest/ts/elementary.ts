// Elementary streams from MPEG-TS PES packets to the FLV tags FlvRemuxer takes, so an SRT
// caller's media goes through the RTMP path's remux (one chunk per frame, as soon as its audio
// is in). H.264 comes as an Annex B byte stream (start codes, with SPS and PPS in band), AAC as
// ADTS frames; FLV wants length-prefixed NAL units with an AVCDecoderConfigurationRecord, and
// raw AAC frames with an AudioSpecificConfig.
import type { FlvTag } from '../flv/reader.js';
import { TAG_AUDIO, TAG_VIDEO } from '../flv/reader.js';
import { parseSps } from '../flv/codecs.js';
import type { Pes } from './demux.js';

export const STREAM_H264 = 0x1b;
export const STREAM_AAC_ADTS = 0x0f;

const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;
/** profile_idc values whose avcC has no chroma format and bit depths (Baseline, Main, Extended), as FFmpeg writes it. */
const AVCC_NO_EXT_PROFILES = new Set([66, 77, 88]);
const AAC_FRAME = 1024;
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** The NAL units of an Annex B byte stream (start codes removed, trailing zero bytes too). */
export function annexBUnits(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  let i = 0;
  for (;;) {
    const sc = b.indexOf(START, i);
    const end = sc < 0 ? b.length : sc;
    if (start >= 0) {
      let e = end;
      while (e > start && b[e - 1] === 0) e--;
      if (e > start) out.push(b.subarray(start, e));
    }
    if (sc < 0) return out;
    start = sc + 3;
    i = start;
  }
}
const START = Buffer.from([0, 0, 1]);

/** An AVCDecoderConfigurationRecord for one SPS and its PPSs (ISO/IEC 14496-15 5.3.3.1). */
export function avcRecord(sps: Buffer, pps: Buffer[]): Buffer {
  const info = parseSps(sps);
  const parts: Buffer[] = [Buffer.from([1, sps[1]!, sps[2]!, sps[3]!, 0xff, 0xe1]), u16(sps.length), sps, Buffer.from([pps.length])];
  for (const p of pps) parts.push(u16(p.length), p);
  if (!AVCC_NO_EXT_PROFILES.has(info.profile)) {
    parts.push(Buffer.from([0xfc | info.chroma, 0xf8 | (info.lumaBits - 8), 0xf8 | (info.chromaBits - 8), 0]));
  }
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

interface Adts {
  asc: Buffer;
  rate: number;
  header: number;
  length: number;
}

/** The ADTS header at `at` (ISO/IEC 14496-3 1.A.2.2), or a reason it is not one. */
function adtsAt(d: Buffer, at: number): Adts | string {
  if (d[at] !== 0xff || (d[at + 1]! & 0xf6) !== 0xf0) return 'no ADTS sync word';
  const objectType = (d[at + 2]! >> 6) + 1;
  const index = (d[at + 2]! >> 2) & 0x0f;
  const channels = ((d[at + 2]! & 0x01) << 2) | (d[at + 3]! >> 6);
  const length = ((d[at + 3]! & 0x03) << 11) | (d[at + 4]! << 3) | (d[at + 5]! >> 5);
  const header = d[at + 1]! & 0x01 ? 7 : 9;
  const rate = AAC_RATES[index];
  if (!rate) return `ADTS sampling frequency index ${index}`;
  if (channels === 0) return 'ADTS channel configuration 0 (a PCE in band)';
  if ((d[at + 6]! & 0x03) !== 0) return 'ADTS with several raw data blocks in a frame';
  if (length <= header) return `ADTS frame_length ${length}`;
  const asc = Buffer.from([(objectType << 3) | (index >> 1), ((index & 1) << 7) | (channels << 3)]);
  return { asc, rate, header, length };
}

/** Turns PES packets into FLV tags: sequence headers when a configuration appears or changes, then frames. */
export class TsElementary {
  readonly #warn: (key: string, message: string) => void;
  #sps: Buffer | null = null;
  #pps: Buffer[] = [];
  /** The avcC of the last video sequence header given out. */
  #avc: Buffer | null = null;
  #asc: Buffer | null = null;
  /** An ADTS frame cut by the end of its PES, where (90 kHz) it starts, and its length in 90 kHz. */
  #carry: Buffer | null = null;
  #carryTs = NaN;
  #carryDur = NaN;
  /** The last ADTS frame's sampling rate. */
  #rate = 48000;

  constructor(warn: (key: string, message: string) => void) {
    this.#warn = warn;
  }

  tags(p: Pes): FlvTag[] {
    if (Number.isNaN(p.dts)) {
      this.#warn(`nots${p.pid}`, `a PES on PID ${p.pid} without a timestamp; dropped`);
      return [];
    }
    return p.streamType === STREAM_H264 ? this.#video(p) : this.#audio(p);
  }

  #video(p: Pes): FlvTag[] {
    const out: FlvTag[] = [];
    const nals: Buffer[] = [];
    let key = false;
    let sps: Buffer | null = null;
    const pps: Buffer[] = [];
    for (const nal of annexBUnits(p.data)) {
      const type = nal[0]! & 0x1f;
      if (type === NAL_SPS) sps ??= nal;
      else if (type === NAL_PPS) { if (pps.length < 32) pps.push(nal); }
      else if (type !== NAL_AUD) {
        if (type === NAL_IDR) key = true;
        nals.push(nal);
      }
    }
    if (sps) this.#sps = sps;
    if (pps.length) this.#pps = pps;
    const timestamp = Math.round(p.dts / 90);
    if ((sps || pps.length) && this.#sps && this.#pps.length) {
      const record = avcRecord(this.#sps, this.#pps);
      if (!this.#avc || !this.#avc.equals(record)) {
        this.#avc = record;
        out.push({ type: TAG_VIDEO, timestamp, body: Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), record]) });
      }
    }
    if (!nals.length) return out;
    const size = nals.reduce((n, x) => n + 4 + x.length, 5);
    const body = Buffer.allocUnsafe(size);
    body[0] = key ? 0x17 : 0x27;
    body[1] = 1;
    const cts = Math.round(p.pts / 90) - timestamp;
    body.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, cts)), 2, 3);
    let at = 5;
    for (const nal of nals) {
      body.writeUInt32BE(nal.length, at);
      nal.copy(body, at + 4);
      at += 4 + nal.length;
    }
    out.push({ type: TAG_VIDEO, timestamp, body });
    return out;
  }

  #audio(p: Pes): FlvTag[] {
    const out: FlvTag[] = [];
    let d = p.data;
    let ts = p.pts;
    if (this.#carry) {
      // The PTS is of the first frame that starts in this PES: the one after the carried frame,
      // unless a PES between them was lost (then the carry is a fragment of nothing).
      if (Math.abs(p.pts - (this.#carryTs + this.#carryDur)) <= this.#carryDur / 2) {
        d = Buffer.concat([this.#carry, d]);
        ts = this.#carryTs;
      } else this.#warn(`adtscut${p.pid}`, `AAC on PID ${p.pid}: a frame cut by its PES's end, and the rest of it lost; dropped`);
      this.#carry = null;
    }
    let i = 0;
    while (i + 7 <= d.length) {
      const h = adtsAt(d, i);
      if (typeof h === 'string') {
        this.#warn(`adts${p.pid}`, `AAC on PID ${p.pid}: ${h}; the rest of its PES dropped`);
        return out;
      }
      if (i + h.length > d.length) break;
      if (!this.#asc || !this.#asc.equals(h.asc)) {
        this.#asc = h.asc;
        out.push({ type: TAG_AUDIO, timestamp: ts / 90, body: Buffer.concat([Buffer.from([0xaf, 0]), h.asc]) });
      }
      out.push({ type: TAG_AUDIO, timestamp: ts / 90, body: Buffer.concat([Buffer.from([0xaf, 1]), d.subarray(i + h.header, i + h.length)]) });
      this.#rate = h.rate;
      ts += (AAC_FRAME * 90000) / h.rate;
      i += h.length;
    }
    if (i < d.length) {
      // Whatever is left is shorter than its frame_length (≤ 8,191 bytes).
      const h = i + 7 <= d.length ? adtsAt(d, i) : null;
      this.#carry = Buffer.from(d.subarray(i));
      this.#carryTs = ts;
      this.#carryDur = (AAC_FRAME * 90000) / (h && typeof h !== 'string' ? h.rate : this.#rate);
    }
    return out;
  }
}
