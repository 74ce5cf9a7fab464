// The frames an ingest node publishes on NATS for one stream, and edges decode. One frame per
// NATS message: a fixed 56-byte header, then the payload as is, so a chunk costs one copy at
// the origin (header + bytes) and none per edge beyond what NATS itself does.
//
//   0  'NCST'          magic
//   4  u8  version     1
//   5  u8  kind        1 init, 2 chunk, 3 state, 4 end of a snapshot
//   6  u8  flags       bit 0: keyframe (chunk)
//   7  u8  reserved    0
//   8  u32 generation  the origin's generation (a new init segment starts the next one)
//  12  u32 seq         chunks since the generation started (chunk; last seq sent for others)
//  16  f64 sentAt      origin wall clock (ms) when published: the NATS hop is measured from it
//  24  f64 dts         chunk decode time (s)
//  32  f64 duration    chunk duration (s)
//  40  u32 mfhd        chunk mfhd sequence number
//  44  u32 reserved    0
//  48  f64 prftMs      prft wall clock (ms), NaN if none
//  56  payload         init: u32 JSON length, JSON {codecs, mime, tracks}, then ftyp+moov
//                      chunk: the chunk's bytes; state: JSON {state, code?, message?}; end: none
import type { Chunk, InitSegment } from '../media/types.js';
import type { StreamState, TrackInfo } from '../protocol/messages.js';

export const HEADER_BYTES = 56;
const MAGIC = 0x4e435354; // 'NCST'
export const WIRE_VERSION = 1;

export const KIND = { init: 1, chunk: 2, state: 3, end: 4 } as const;

export interface StateBody {
  state: StreamState;
  code?: string;
  message?: string;
  /** Codecs of the current init, so an edge can list the stream without fetching the init. */
  codecs?: string;
}

interface Base {
  generation: number;
  seq: number;
  sentAt: number;
}
export type Frame =
  | (Base & { kind: 'init'; init: InitSegment })
  | (Base & { kind: 'chunk'; chunk: Chunk })
  | (Base & { kind: 'state'; state: StateBody })
  | (Base & { kind: 'end' });

export class WireError extends Error {
  constructor(message: string) {
    super(`nowcast cluster frame: ${message}`);
    this.name = 'WireError';
  }
}

function header(kind: number, flags: number, generation: number, seq: number, sentAt: number, payloadBytes: number): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES + payloadBytes);
  b.writeUInt32BE(MAGIC, 0);
  b[4] = WIRE_VERSION;
  b[5] = kind;
  b[6] = flags;
  b[7] = 0;
  b.writeUInt32BE(generation >>> 0, 8);
  b.writeUInt32BE(seq >>> 0, 12);
  b.writeDoubleBE(sentAt, 16);
  b.fill(0, 24, HEADER_BYTES);
  b.writeDoubleBE(NaN, 48);
  return b;
}

export function encodeChunk(c: Chunk, generation: number, seq: number, sentAt: number): Buffer {
  const b = header(KIND.chunk, c.keyframe ? 1 : 0, generation, seq, sentAt, c.bytes.length);
  b.writeDoubleBE(c.dts, 24);
  b.writeDoubleBE(c.duration, 32);
  b.writeUInt32BE(c.seq >>> 0, 40);
  b.writeDoubleBE(c.prftMs ?? NaN, 48);
  c.bytes.copy(b, HEADER_BYTES);
  return b;
}

export function encodeInit(i: InitSegment, generation: number, seq: number, sentAt: number): Buffer {
  const meta = Buffer.from(JSON.stringify({ codecs: i.codecs, mime: i.mime, tracks: i.tracks }));
  const b = header(KIND.init, 0, generation, seq, sentAt, 4 + meta.length + i.bytes.length);
  b.writeUInt32BE(meta.length, HEADER_BYTES);
  meta.copy(b, HEADER_BYTES + 4);
  i.bytes.copy(b, HEADER_BYTES + 4 + meta.length);
  return b;
}

export function encodeState(s: StateBody, generation: number, seq: number, sentAt: number): Buffer {
  const body = Buffer.from(JSON.stringify(s));
  const b = header(KIND.state, 0, generation, seq, sentAt, body.length);
  body.copy(b, HEADER_BYTES);
  return b;
}

export function encodeEnd(generation: number, seq: number, sentAt: number): Buffer {
  return header(KIND.end, 0, generation, seq, sentAt, 0);
}

const STATES: readonly StreamState[] = ['offline', 'live', 'error'];

/** Decodes one frame; throws WireError saying what is wrong. Payloads are views, not copies. */
export function decode(u: Uint8Array): Frame {
  const b = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  if (b.length < HEADER_BYTES) throw new WireError(`${b.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  if (b.readUInt32BE(0) !== MAGIC) throw new WireError('bad magic (not a Nowcast frame)');
  if (b[4] !== WIRE_VERSION) throw new WireError(`version ${b[4]} is not ${WIRE_VERSION}`);
  const base: Base = { generation: b.readUInt32BE(8), seq: b.readUInt32BE(12), sentAt: b.readDoubleBE(16) };
  const payload = b.subarray(HEADER_BYTES);
  switch (b[5]) {
    case KIND.chunk: {
      const prft = b.readDoubleBE(48);
      const chunk: Chunk = {
        kind: 'chunk', bytes: payload, keyframe: (b[6]! & 1) === 1,
        dts: b.readDoubleBE(24), duration: b.readDoubleBE(32), seq: b.readUInt32BE(40),
        ...(Number.isNaN(prft) ? {} : { prftMs: prft }),
      };
      if (payload.length === 0) throw new WireError('chunk without bytes');
      return { ...base, kind: 'chunk', chunk };
    }
    case KIND.init: {
      if (payload.length < 4) throw new WireError('init without its metadata length');
      const n = payload.readUInt32BE(0);
      if (4 + n > payload.length) throw new WireError(`init metadata of ${n} bytes overruns the frame`);
      const meta = parseJson(payload.subarray(4, 4 + n), 'init metadata') as Partial<InitSegment>;
      if (typeof meta.codecs !== 'string' || typeof meta.mime !== 'string' || !Array.isArray(meta.tracks)) {
        throw new WireError('init metadata needs codecs, mime and tracks');
      }
      const bytes = payload.subarray(4 + n);
      if (bytes.length === 0) throw new WireError('init without ftyp+moov');
      return { ...base, kind: 'init', init: { kind: 'init', bytes, codecs: meta.codecs, mime: meta.mime, tracks: meta.tracks as TrackInfo[] } };
    }
    case KIND.state: {
      const s = parseJson(payload, 'state') as Partial<StateBody>;
      if (!STATES.includes(s.state as StreamState)) throw new WireError(`state ${JSON.stringify(s.state)} is not one of ${STATES.join(', ')}`);
      const state: StateBody = { state: s.state as StreamState };
      if (typeof s.code === 'string') state.code = s.code;
      if (typeof s.message === 'string') state.message = s.message;
      if (typeof s.codecs === 'string') state.codecs = s.codecs;
      return { ...base, kind: 'state', state };
    }
    case KIND.end:
      return { ...base, kind: 'end' };
    default:
      throw new WireError(`unknown kind ${b[5]}`);
  }
}

function parseJson(b: Buffer, what: string): unknown {
  try {
    const v: unknown = JSON.parse(b.toString('utf8'));
    if (typeof v !== 'object' || v === null) throw new Error('not an object');
    return v;
  } catch (e) {
    throw new WireError(`${what} is not a JSON object (${e instanceof Error ? e.message : String(e)})`);
  }
}
