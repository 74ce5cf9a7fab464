import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameError, FrameReader, MAX_FRAME_PAYLOAD, type FrameType } from '../../../ingest/srt/frames.js';

const frame = (type: string, id: number, payload: Buffer): Buffer => {
  const h = Buffer.alloc(9);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(id, 1);
  h.writeUInt32BE(payload.length, 5);
  return Buffer.concat([h, payload]);
};

describe('the SRT gateway frame reader', () => {
  it('reads frames whole however the pipe splits them', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ type: fc.constantFrom<FrameType>('L', 'R', 'O', 'D', 'X', 'F'), id: fc.integer({ min: 0, max: 0x7fffffff }), payload: fc.uint8Array({ maxLength: 1500 }) }), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }),
      (frames, cuts) => {
        const bytes = Buffer.concat(frames.map((f) => frame(f.type, f.id, Buffer.from(f.payload))));
        const got: Array<{ type: FrameType; id: number; payload: Buffer }> = [];
        const r = new FrameReader();
        let off = 0;
        for (let i = 0; off < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          r.push(bytes.subarray(off, off + n), (type, id, payload) => got.push({ type, id, payload: Buffer.from(payload) }));
          off += n;
        }
        expect(got).toEqual(frames.map((f) => ({ type: f.type, id: f.id, payload: Buffer.from(f.payload) })));
      }), { numRuns: 300 });
  });

  it.each([
    ['an unknown frame type', frame('Z', 1, Buffer.alloc(0))],
    ['a payload over the bound', frame('D', 1, Buffer.alloc(MAX_FRAME_PAYLOAD + 1))],
  ])('refuses %s', (_what, bytes) => {
    expect(() => new FrameReader().push(bytes, () => {})).toThrow(FrameError);
  });
});
