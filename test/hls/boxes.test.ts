// Reading a chunk's moof for LL-HLS: where it starts, each track's decode time, durations and
// the last duration's byte offset; null (never a throw) on bytes it cannot read.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readChunk } from '../../hls/boxes.js';
import { AUDIO, VIDEO, remuxChunks } from './fixtures.js';

describe('reading a chunk\'s boxes', () => {
  it('finds the moof after the prft and reads each track of our remux\'s chunk', () => {
    const c = remuxChunks(3)[1]!; // frame at 33 ms: its duration written as 2 × 33
    const r = readChunk(c.bytes)!;
    expect(c.bytes.toString('latin1', r.moofAt + 4, r.moofAt + 8)).toBe('moof');
    expect(c.bytes.toString('latin1', 4, 8)).toBe('prft');
    const v = r.trafs.find((t) => t.trackId === VIDEO.id)!;
    expect(v).toMatchObject({ dts: 33, duration: 66, samples: 1, lastDuration: 66 });
    expect(c.bytes.readUInt32BE(r.moofAt + v.lastDurationAt)).toBe(66);
    const a = r.trafs.find((t) => t.trackId === AUDIO.id)!;
    expect(a.duration).toBe(a.samples * 1024);
  });

  it('reads a trun without per-sample durations from the tfhd default', () => {
    // moof { mfhd, traf { tfhd (default duration 3000), tfdt v0 = 9000, trun of 2 samples, sizes only } }
    const u32 = (...v: number[]): Buffer => Buffer.concat(v.map((x) => { const b = Buffer.alloc(4); b.writeUInt32BE(x); return b; }));
    const box = (type: string, ...body: Buffer[]): Buffer => Buffer.concat([u32(8 + body.reduce((n, b) => n + b.length, 0)), Buffer.from(type), ...body]);
    const tfhd = box('tfhd', u32(0x000008, 1, 3000));
    const tfdt = box('tfdt', u32(0, 9000));
    const trun = box('trun', u32(0x000200, 2, 10, 10));
    const moof = box('moof', box('mfhd', u32(0, 1)), box('traf', tfhd, tfdt, trun));
    const r = readChunk(Buffer.concat([moof, box('mdat', Buffer.alloc(20))]))!;
    expect(r.moofAt).toBe(0);
    expect(r.trafs[0]).toMatchObject({ trackId: 1, dts: 9000, duration: 6000, samples: 2, lastDurationAt: -1 });
  });

  it('returns null for bytes without a readable moof', () => {
    expect(readChunk(Buffer.alloc(0))).toBeNull();
    expect(readChunk(Buffer.from('0000mdat'))).toBeNull();
    const c = remuxChunks(1)[0]!.bytes;
    expect(readChunk(c.subarray(0, c.length - 10))).toBeNull(); // the mdat overruns the buffer
  });

  it('never throws on damaged chunks (fuzzed: flipped and cut bytes of a real one)', () => {
    const c = remuxChunks(2)[1]!.bytes;
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: c.length - 1 }), fc.nat({ max: 255 })), { maxLength: 8 }), fc.nat({ max: c.length }), (flips, cut) => {
      const b = Buffer.from(c.subarray(0, cut));
      for (const [at, v] of flips) if (at < b.length) b[at] = v;
      const r = readChunk(b);
      return r === null || r.trafs.every((t) => t.lastDurationAt < 0 || r.moofAt + t.lastDurationAt + 4 <= b.length);
    }), { numRuns: 3000 });
  });
});
