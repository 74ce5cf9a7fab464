// What the init segment needs from the codec configurations FLV carries verbatim:
// the H.264 AVCDecoderConfigurationRecord (picture size, from its first SPS) and the AAC
// AudioSpecificConfig (sample rate, channels).
import { FlvError } from './reader.js';

export interface AvcConfig {
  /** The AVCDecoderConfigurationRecord, as the avcC box body. */
  record: Buffer;
  width: number;
  height: number;
}

export interface AacConfig {
  /** The AudioSpecificConfig, as the esds DecoderSpecificInfo. */
  asc: Buffer;
  sampleRate: number;
  channels: number;
}

function bad(message: string): never {
  throw new FlvError('FLV_BAD_TAG', message);
}

/** Exp-Golomb bit reader over an RBSP (emulation-prevention bytes already removed). */
class Bits {
  #pos = 0;
  constructor(private readonly b: Buffer) {}

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.b[this.#pos >> 3];
      if (byte === undefined) bad('H.264 SPS is truncated');
      v = v * 2 + ((byte >> (7 - (this.#pos & 7))) & 1);
      this.#pos++;
    }
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) bad('H.264 SPS has an Exp-Golomb code over 32 bits');
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -k / 2;
  }
}

function rbsp(nal: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < nal.length; i++) {
    // 00 00 03 → 00 00: the 03 only prevents a start code.
    if (i >= 2 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    out.push(nal[i]!);
  }
  return Buffer.from(out);
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** What an SPS says of the picture: what an avcC for it needs, and its cropped size. */
export interface SpsInfo {
  profile: number;
  /** chroma_format_idc (1 is 4:2:0). */
  chroma: number;
  lumaBits: number;
  chromaBits: number;
  width: number;
  height: number;
}

/** Cropped picture size from an SPS NAL unit (header byte included). */
export function spsSize(nal: Buffer): { width: number; height: number } {
  const { width, height } = parseSps(nal);
  return { width, height };
}

/** Reads an SPS NAL unit (header byte included) up to its cropping. ITU-T H.264 7.3.2.1.1. */
export function parseSps(nal: Buffer): SpsInfo {
  const r = new Bits(rbsp(nal.subarray(1)));
  const profile = r.u(8);
  r.u(16); // constraint flags, level_idc
  r.ue(); // seq_parameter_set_id
  let chroma = 1;
  let lumaBits = 8;
  let chromaBits = 8;
  if (HIGH_PROFILES.has(profile)) {
    chroma = r.ue();
    if (chroma > 3) bad(`H.264 SPS has chroma_format_idc ${chroma}`);
    if (chroma === 3) r.u(1); // separate_colour_plane_flag
    lumaBits = 8 + r.ue();
    chromaBits = 8 + r.ue();
    if (lumaBits > 14 || chromaBits > 14) bad(`H.264 SPS has a bit depth of ${Math.max(lumaBits, chromaBits)}`);
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u(1)) {
      for (let i = 0; i < (chroma === 3 ? 12 : 8); i++) {
        if (!r.u(1)) continue;
        let last = 8, next = 8;
        for (let j = 0; j < (i < 6 ? 16 : 64) && next !== 0; j++) {
          next = (last + r.se() + 256) % 256;
          if (next !== 0) last = next;
        }
      }
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.u(1);
    r.se();
    r.se();
    const n = r.ue();
    if (n > 255) bad(`H.264 SPS has ${n} reference frames in the POC cycle`);
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u(1); // gaps_in_frame_num_value_allowed_flag
  const wMbs = r.ue() + 1;
  const hMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.u(1); // mb_adaptive_frame_field_flag
  r.u(1); // direct_8x8_inference_flag
  let [left, right, top, bottom] = [0, 0, 0, 0];
  if (r.u(1)) [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
  const subW = chroma === 1 || chroma === 2 ? 2 : 1;
  const subH = chroma === 1 ? 2 : 1;
  const cropX = chroma === 0 ? 1 : subW;
  const cropY = (chroma === 0 ? 1 : subH) * (2 - frameMbsOnly);
  const width = wMbs * 16 - cropX * (left + right);
  const height = (2 - frameMbsOnly) * hMapUnits * 16 - cropY * (top + bottom);
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) bad(`H.264 SPS gives a ${width}×${height} picture`);
  return { profile, chroma, lumaBits, chromaBits, width, height };
}

/** Reads an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1). */
export function parseAvcConfig(record: Buffer): AvcConfig {
  if (record.length < 8 || record[0] !== 1) bad(`AVC sequence header is not an AVCDecoderConfigurationRecord (${record.length} bytes, version ${record[0]})`);
  const spsCount = record[5]! & 0x1f;
  if (spsCount === 0) bad('AVC sequence header has no SPS');
  const len = record.readUInt16BE(6);
  if (8 + len > record.length || len < 4) bad(`AVC sequence header's SPS (${len} bytes) overruns it`);
  return { record, ...spsSize(record.subarray(8, 8 + len)) };
}

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Reads the sampling rate and channels of an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1). */
export function parseAacConfig(asc: Buffer): AacConfig {
  if (asc.length < 2) bad(`AAC sequence header has ${asc.length} bytes, an AudioSpecificConfig has at least 2`);
  const r = new Bits(asc);
  let objectType = r.u(5);
  if (objectType === 31) objectType = 32 + r.u(6);
  const index = r.u(4);
  const sampleRate = index === 15 ? r.u(24) : AAC_RATES[index];
  if (!sampleRate) bad(`AAC sampling frequency index ${index} is reserved`);
  const channels = r.u(4);
  return { asc, sampleRate, channels: channels === 7 ? 8 : channels || 2 };
}
