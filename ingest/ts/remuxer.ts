// An SRT caller's MPEG-TS to fMP4 in process: TS packets → PES (demux.ts) → FLV tags
// (elementary.ts) → the RTMP path's FlvRemuxer. Against one FFmpeg per caller it saves the
// frame interval FFmpeg's mp4 muxer holds each frame for, and a process per caller.
// H.264 and AAC only: a program with other audio or video is refused with TS_CODEC, and the
// SRT ingest hands the caller to FFmpeg instead (ingest/srt.ts).
import type { ChunkRemuxer } from '../tap.js';
import { FlvRemuxer } from '../flv/remuxer.js';
import { TsDemuxer, type ProgramDescriptors, type ProgramStreams } from './demux.js';
import { STREAM_AAC_ADTS, STREAM_H264, TsElementary } from './elementary.js';
import { TsError } from './errors.js';

/** PES private data (stream_type 0x06): media when a descriptor says so (Opus, AC-3, …), else data (subtitles, teletext). */
const PRIVATE = 0x06;
/** Registration descriptor (tag 0x05) format identifiers of audio or video in PES private data. */
const REGISTERED_MEDIA = new Set(['Opus', 'AC-3', 'EAC3', 'AC-4', 'DTS1', 'DTS2', 'DTS3', 'HEVC', 'AV01', 'VC-1']);
/** DVB descriptor tags of audio in PES private data: AC-3, E-AC-3, DTS, AC-4/Opus (the extension descriptor). */
const DVB_MEDIA_TAGS = new Set([0x6a, 0x7a, 0x7b, 0x7f]);

/** Whether an elementary stream of PES private data carries audio or video, by its descriptors (13818-1 2.6). */
export function privateMedia(info: Buffer): string | null {
  for (let i = 0; i + 2 <= info.length; i += 2 + info[i + 1]!) {
    const tag = info[i]!;
    const body = info.subarray(i + 2, i + 2 + info[i + 1]!);
    if (tag === 0x05 && body.length >= 4 && REGISTERED_MEDIA.has(body.toString('latin1', 0, 4))) return body.toString('latin1', 0, 4);
    if (DVB_MEDIA_TAGS.has(tag)) return `DVB descriptor 0x${tag.toString(16)}`;
  }
  return null;
}

/** Audio and video stream types (13818-1 Table 2-34, and the registered ones) that only FFmpeg carries. */
const OTHER_MEDIA: ReadonlyMap<number, string> = new Map([
  [0x01, 'MPEG-1 video'], [0x02, 'MPEG-2 video'], [0x03, 'MPEG-1 audio'], [0x04, 'MPEG-2 audio'],
  [0x10, 'MPEG-4 video'], [0x11, 'AAC in LATM'], [0x24, 'HEVC'], [0x33, 'VVC'], [0x42, 'AVS'],
  [0x81, 'AC-3'], [0x87, 'E-AC-3'], [0xd1, 'Dirac'], [0xea, 'VC-1'],
]);

export interface TsRemuxerOptions {
  /** Largest PES, and so largest frame. */
  maxPesBytes: number;
  /** Bytes read without a program table (PAT and PMT) before the stream is refused as not MPEG-TS. */
  maxProbeBytes: number;
  warn?: (message: string) => void;
}

export class TsRemuxer implements ChunkRemuxer {
  readonly #demux: TsDemuxer;
  readonly #es: TsElementary;
  readonly #flv: FlvRemuxer;
  readonly #maxProbeBytes: number;
  readonly #warned = new Set<string>();
  readonly #warn: (message: string) => void;
  #probed = 0;

  constructor(o: TsRemuxerOptions) {
    this.#warn = o.warn ?? (() => {});
    const once = (key: string, message: string): void => {
      if (this.#warned.has(key)) return;
      this.#warned.add(key);
      this.#warn(message);
    };
    this.#maxProbeBytes = o.maxProbeBytes;
    this.#flv = new FlvRemuxer({ maxTagBytes: o.maxPesBytes + 16, warn: this.#warn });
    this.#es = new TsElementary(once);
    this.#demux = new TsDemuxer({
      streamTypes: new Set([STREAM_H264, STREAM_AAC_ADTS]), maxPesBytes: o.maxPesBytes,
      warn: this.#warn, program: (s, d) => this.#program(s, d, once),
    });
  }

  #program(streams: ProgramStreams, descriptors: ProgramDescriptors, once: (key: string, message: string) => void): void {
    const other: string[] = [];
    for (const [pid, t] of streams) {
      const media = t === PRIVATE ? privateMedia(descriptors.get(pid) ?? Buffer.alloc(0)) : OTHER_MEDIA.get(t);
      if (media) other.push(media);
    }
    if (other.length) {
      throw new TsError('TS_CODEC', `the caller sends ${other.join(' and ')}; only H.264 and AAC (ADTS) are remuxed in process`);
    }
    const carried = [...streams.values()].filter((t) => t === STREAM_H264 || t === STREAM_AAC_ADTS);
    if (!carried.length) throw new TsError('TS_NO_TRACK', `the caller's program has no H.264 or AAC stream (stream types ${[...streams.values()].map((t) => `0x${t.toString(16)}`).join(', ') || 'none'})`);
    for (const t of streams.values()) {
      if (t !== STREAM_H264 && t !== STREAM_AAC_ADTS) once(`type${t}`, `MPEG-TS stream type 0x${t.toString(16)} is not media Nowcast carries; ignored`);
    }
  }

  push(data: Buffer, emit: (fmp4: Buffer) => void): void {
    for (const pes of this.#demux.push(data)) for (const tag of this.#es.tags(pes)) this.#flv.tag(tag, emit);
    if (this.#demux.hasProgram) return;
    this.#probed += data.length;
    if (this.#probed > this.#maxProbeBytes) {
      throw new TsError('TS_NO_PROGRAM', `no MPEG-TS program table (PAT and PMT) in the first ${this.#maxProbeBytes} bytes`);
    }
  }

  ready(): boolean {
    return this.#flv.ready();
  }

  get pending(): boolean {
    return this.#flv.pending;
  }

  flush(emit: (fmp4: Buffer) => void, force = false): void {
    // At the end (force), a video PES without a length is complete as it stands.
    if (force) for (const pes of this.#demux.end()) for (const tag of this.#es.tags(pes)) this.#flv.tag(tag, emit);
    this.#flv.flush(emit, force);
  }
}
