// The chunk reader (ingest/rtmp/chunk-reader.ts): every header form, any split of the bytes,
// and every limit, checked before payload is held; arbitrary bytes only ever throw RtmpError.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChunkReader, type ChunkLimits, type RtmpMessage } from '../../../ingest/rtmp/chunk-reader.js';
import { RtmpError, type RtmpErrorCode } from '../../../ingest/rtmp/errors.js';
import { ChunkEncoder, type Msg } from '../../fuzz/rtmp-sessions.js';
import { chunked } from '../../helpers/rtmp-client.js';

const LIMITS: ChunkLimits = { maxChunkSize: 65_536, maxChunkStreams: 16, maxLength: () => 1 << 20, memoryBytes: () => 4 << 20 };
const reader = (l: Partial<ChunkLimits> = {}): ChunkReader => new ChunkReader({ ...LIMITS, ...l });

/** Feeds pieces; returns the messages (payloads copied) or throws what the reader threw. */
function read(r: ChunkReader, ...pieces: Buffer[]): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  for (const p of pieces) r.push(p, (m) => { out.push({ ...m, payload: Buffer.from(m.payload) }); return true; });
  return out;
}

function codeOf(fn: () => unknown): RtmpErrorCode {
  try {
    fn();
  } catch (err) {
    if (err instanceof RtmpError) return err.code;
    throw err;
  }
  throw new Error('expected an RtmpError');
}

const msg = (csid: number, typeId: number, timestamp: number, len: number, streamId = 1): Msg => ({ csid, typeId, streamId, timestamp, payload: Buffer.alloc(len, csid & 0xff) });
const plain = (m: RtmpMessage | Msg): unknown => ({ csid: m.csid, typeId: m.typeId, streamId: m.streamId, timestamp: m.timestamp, payload: m.payload.toString('hex') });

describe('chunk headers', () => {
  // Each case: messages encoded with header compression (fmt 1/2/3 where exact), read back alike.
  const cases: [string, Msg[], { chunkSize?: number; wide?: boolean }][] = [
    ['fmt 0 then fmt 3 continuation chunks', [msg(4, 9, 40, 300)], {}],
    ['fmt 1: same stream, new length and type', [msg(4, 9, 0, 10), msg(4, 8, 33, 20)], {}],
    ['fmt 2: same length and type, new delta', [msg(4, 9, 0, 10), msg(4, 9, 33, 10), msg(4, 9, 50, 10)], {}],
    ['fmt 3 starting a message: the last delta again', [msg(4, 9, 0, 10), msg(4, 9, 33, 10), msg(4, 9, 66, 10), msg(4, 9, 99, 10)], {}],
    ['a 2-byte basic header (csid 64 to 319)', [msg(64, 9, 0, 5), msg(319, 8, 10, 200)], {}],
    ['a 3-byte basic header (csid 320 and up)', [msg(320, 9, 0, 5), msg(65_599, 8, 10, 200)], {}],
    ['the 3-byte form for a csid under 320', [msg(100, 9, 0, 300)], { wide: true }],
    ['an extended timestamp on fmt 0 and on its fmt 3 continuations', [msg(4, 9, 0x1234_5678, 300)], {}],
    ['an extended delta on fmt 1 and 2', [msg(4, 9, 0, 10), msg(4, 8, 0x0100_0000, 20), msg(4, 8, 0x0200_0000, 20)], {}],
    ['a fmt 3 message repeating an extended delta', [msg(4, 9, 0, 10), msg(4, 9, 0x0100_0000, 10), msg(4, 9, 0x0200_0000, 10), msg(4, 9, 0x0300_0000, 10)], {}],
    ['a timestamp of exactly 0xffffff', [msg(4, 9, 0xffffff, 130)], {}],
    ['interleaved chunk streams', [msg(4, 9, 0, 1000), msg(6, 8, 5, 1000)], { chunkSize: 100 }],
    ['a zero-length message', [msg(3, 20, 0, 0)], {}],
  ];
  it.each(cases)('%s', (_name, msgs, o) => {
    const enc = new ChunkEncoder({ compress: true, wide: o.wide });
    enc.chunkSize = o.chunkSize ?? 128;
    const r = reader();
    if (o.chunkSize) r.setChunkSize(o.chunkSize);
    expect(read(r, Buffer.concat(msgs.map((m) => enc.encode(m)))).map(plain)).toEqual(msgs.map(plain));
    expect(r.bufferedBytes).toBe(0);
  });

  it('takes a fmt 0 timestamp as the delta of a fmt 3 message that follows it, as FFmpeg writes', () => {
    // FFmpeg's writer sends fmt 3 when the next delta equals the previous header's timestamp
    // field; after fmt 0 at 23 ms that field is 23, so the next message is at 46 ms.
    const first = chunked(4, 8, 1, 23, Buffer.alloc(10, 1));
    const next = Buffer.concat([Buffer.from([0xc4]), Buffer.alloc(10, 2)]);
    expect(read(reader(), first, next).map((m) => m.timestamp)).toEqual([23, 46]);
  });

  it('reads chunks of two messages interleaved on their chunk streams', () => {
    const a = chunked(4, 9, 1, 0, Buffer.alloc(200, 1));
    const b = chunked(6, 8, 1, 7, Buffer.alloc(200, 2));
    // a's first chunk, b's first chunk, a's second, b's second.
    const out = read(reader(), a.subarray(0, 140), b.subarray(0, 140), a.subarray(140), b.subarray(140));
    expect(out.map((m) => [m.csid, m.payload.length, m.timestamp])).toEqual([[4, 200, 0], [6, 200, 7]]);
  });

  it('gives the same messages however the bytes are split (property)', () => {
    const msgs = [msg(3, 20, 0, 0), msg(4, 9, 0, 700), msg(4, 9, 33, 700), msg(70, 8, 0xffffff, 300), msg(400, 9, 0x0100_0000, 129), msg(6, 18, 5, 1)];
    const enc = new ChunkEncoder({ compress: true });
    const bytes = Buffer.concat(msgs.map((m) => enc.encode(m)));
    const want = msgs.map(plain);
    fc.assert(fc.property(fc.array(fc.nat(bytes.length), { maxLength: 40 }), (cuts) => {
      const at = [...new Set(cuts)].sort((x, y) => x - y);
      const pieces = [...at, bytes.length].map((end, i) => bytes.subarray(i ? at[i - 1]! : 0, end));
      expect(read(reader(), ...pieces).map(plain)).toEqual(want);
    }), { numRuns: 300, seed: 30 });
  });

  it('gives the same messages when split at every single byte boundary', () => {
    const enc = new ChunkEncoder({ compress: true });
    const msgs = [msg(4, 9, 0x1234_5678, 300), msg(4, 9, 0x1234_5700, 300), msg(300, 8, 0, 10)];
    const bytes = Buffer.concat(msgs.map((m) => enc.encode(m)));
    for (let i = 0; i <= bytes.length; i++) {
      expect(read(reader(), bytes.subarray(0, i), bytes.subarray(i)).map(plain)).toEqual(msgs.map(plain));
    }
    const oneByOne = Array.from(bytes, (b) => Buffer.from([b]));
    expect(read(reader(), ...oneByOne).map(plain)).toEqual(msgs.map(plain));
  });
});

describe('chunk size, abort and stopping', () => {
  it('applies a chunk size change to the chunks after the message that set it', () => {
    const r = reader();
    const setSize = chunked(2, 1, 0, 0, Buffer.from([0, 0, 0x10, 0]));
    const out: RtmpMessage[] = [];
    r.push(Buffer.concat([setSize, chunked(4, 9, 1, 0, Buffer.alloc(3000, 7), 4096)]), (m) => {
      if (m.typeId === 1) r.setChunkSize(m.payload.readUInt32BE(0));
      out.push(m);
      return true;
    });
    expect(r.chunkSize).toBe(4096);
    expect(out.map((m) => m.payload.length)).toEqual([4, 3000]);
  });

  it.each([0, -1, 65_537, 2 ** 31 - 1, 1.5])('refuses a chunk size of %s', (n) => {
    expect(codeOf(() => reader().setChunkSize(n))).toBe('RTMP_BAD_CHUNK_SIZE');
  });

  it('drops a partial message on Abort and frees its bytes', () => {
    const r = reader();
    const m = chunked(4, 9, 1, 0, Buffer.alloc(300, 1));
    read(r, m.subarray(0, 140));
    expect(r.bufferedBytes).toBe(128);
    r.abort(4);
    expect(r.bufferedBytes).toBe(0);
    // The next message on csid 4 starts fresh (a fmt 3 header reuses the last header's fields).
    expect(read(r, Buffer.concat([Buffer.from([0xc4]), Buffer.alloc(128, 2)])).map((x) => x.payload.length)).toEqual([]);
    expect(r.bufferedBytes).toBe(128);
  });

  it('stops parsing when onMessage returns false', () => {
    const r = reader();
    const out: number[] = [];
    r.push(Buffer.concat([chunked(3, 20, 0, 0, Buffer.alloc(4)), chunked(4, 9, 1, 0, Buffer.alloc(4))]), (m) => { out.push(m.typeId); return false; });
    expect(out).toEqual([20]);
  });
});

describe('chunk limits', () => {
  it('rejects a declared length over the cap at the header, holding no payload', () => {
    const r = reader({ maxLength: (t) => (t === 9 ? 1000 : 100) });
    const header = chunked(4, 9, 1, 0, Buffer.alloc(1001)).subarray(0, 12);
    expect(codeOf(() => read(r, header))).toBe('RTMP_MESSAGE_TOO_LARGE');
    expect(r.bufferedBytes).toBe(0);
    expect(codeOf(() => read(reader({ maxLength: () => 100 }), chunked(3, 20, 0, 0, Buffer.alloc(101)).subarray(0, 12)))).toBe('RTMP_MESSAGE_TOO_LARGE');
  });

  it('accepts a declared length at the cap', () => {
    expect(read(reader({ maxLength: () => 100 }), chunked(3, 20, 0, 0, Buffer.alloc(100)))).toHaveLength(1);
  });

  it('holds only what arrived: 16 streams declaring 1 MiB each cost one byte each', () => {
    const r = reader();
    r.setChunkSize(1); // so that one payload byte ends each stream's chunk
    // Each stream's first 13 bytes: its 12-byte header declaring 1 MiB, then one payload byte.
    // They are the same whatever chunk size the rest is cut at; cutting the whole MiB into
    // 1-byte chunks only to throw them away took 30 s.
    for (let csid = 3; csid < 19; csid++) read(r, chunked(csid, 9, 1, 0, Buffer.alloc(1 << 20), 1 << 20).subarray(0, 13));
    expect(r.bufferedBytes).toBe(16);
  });

  it('throws RTMP_MEMORY past the memory ceiling', () => {
    const r = reader({ memoryBytes: () => 1000 });
    r.setChunkSize(4096);
    expect(codeOf(() => read(r, chunked(4, 9, 1, 0, Buffer.alloc(2000), 4096).subarray(0, 12 + 1001)))).toBe('RTMP_MEMORY');
  });

  it('keeps partial messages and a partial header within the ceiling together', () => {
    // 100 bytes of a 200-byte message (the ceiling), then 6 bytes of the next chunk's header.
    const r = reader({ memoryBytes: () => 100 });
    r.setChunkSize(100);
    const first = chunked(3, 20, 0, 0, Buffer.alloc(200), 100).subarray(0, 112);
    expect(codeOf(() => read(r, Buffer.concat([first, Buffer.from([0x04, 0, 0, 0, 0, 0])])))).toBe('RTMP_MEMORY');
    expect(r.bufferedBytes).toBe(106); // what it held when it threw: the session closes
  });

  it('refuses more chunk streams than the cap', () => {
    const r = reader({ maxChunkStreams: 4 });
    const open = (csid: number): Buffer => chunked(csid, 20, 0, 0, Buffer.alloc(1));
    read(r, open(3), open(4), open(5), open(6));
    expect(codeOf(() => read(r, open(7)))).toBe('RTMP_BAD_CHUNK');
  });

  it.each([1, 2, 3])('refuses a fmt %i header on a chunk stream with no history', (fmt) => {
    expect(codeOf(() => read(reader(), Buffer.concat([Buffer.from([(fmt << 6) | 4]), Buffer.alloc(11)])))).toBe('RTMP_BAD_CHUNK');
  });

  it('refuses a new full header in the middle of a message', () => {
    const m = chunked(4, 9, 1, 0, Buffer.alloc(300));
    expect(codeOf(() => read(reader(), m.subarray(0, 140), m.subarray(0, 12)))).toBe('RTMP_BAD_CHUNK');
  });
});

describe('the chunk reader under arbitrary bytes', () => {
  const CEILING = 4096;
  const fuzzLimits: ChunkLimits = { maxChunkSize: 4096, maxChunkStreams: 8, maxLength: () => 8192, memoryBytes: () => CEILING };

  it('only ever throws RtmpError, and holds at most the ceiling', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 12 }), (pieces) => {
      const r = new ChunkReader(fuzzLimits);
      try {
        for (const p of pieces) {
          r.push(Buffer.from(p), (m) => {
            if (m.typeId === 1 && m.payload.length >= 4) r.setChunkSize(m.payload.readUInt32BE(0));
            if (m.typeId === 2 && m.payload.length >= 4) r.abort(m.payload.readUInt32BE(0));
            return true;
          });
          expect(r.bufferedBytes).toBeLessThanOrEqual(CEILING);
        }
      } catch (err) {
        if (!(err instanceof RtmpError)) throw err;
      }
    }), { numRuns: 3000, seed: 31 });
  });

  it('only ever throws RtmpError on mutated valid chunk streams', () => {
    const enc = new ChunkEncoder({ compress: true });
    const base = Buffer.concat([msg(4, 9, 0, 700), msg(4, 9, 33, 700), msg(70, 8, 0xffffff, 300), msg(3, 20, 0, 40, 0)].map((m) => enc.encode(m)));
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }), fc.nat(base.length), (flips, cutAt) => {
      const b = Buffer.from(base);
      for (const [at, v] of flips) b[at] = v;
      const r = new ChunkReader(fuzzLimits);
      try {
        read(r, b.subarray(0, cutAt), b.subarray(cutAt));
        expect(r.bufferedBytes).toBeLessThanOrEqual(CEILING);
      } catch (err) {
        if (!(err instanceof RtmpError)) throw err;
      }
    }), { numRuns: 2000, seed: 32 });
  });
});
