// Property-based tests of the splitter: whatever bytes arrive, in whatever pieces, it either
// yields well-formed units or throws an Fmp4Error — never another exception, never unbounded
// buffering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Fmp4Splitter } from '../../../ingest/fmp4/splitter.js';
import { type Fmp4Unit } from '../../../media/types.js';
import { Fmp4Error } from '../../../ingest/fmp4/errors.js';
import { makeFixtures, type FixtureSet } from '../../ingest/fmp4/fixtures.js';

const MAX_BOX = 64 * 1024;
let set: FixtureSet;

beforeAll(async () => { set = await makeFixtures(); });
afterAll(async () => { await set?.cleanup(); });

/** Feeds pieces; returns the units, or the Fmp4Error it stopped at. Any other throw fails. */
function feed(pieces: Uint8Array[], opts = { maxBoxBytes: MAX_BOX, maxInitBytes: MAX_BOX }): { units: Fmp4Unit[]; error?: Fmp4Error } {
  const s = new Fmp4Splitter(opts);
  const units: Fmp4Unit[] = [];
  for (const p of pieces) {
    try {
      s.push(Buffer.from(p), (u) => units.push(u));
    } catch (err) {
      if (!(err instanceof Fmp4Error)) throw err;
      return { units, error: err };
    }
    expect(s.bufferedBytes).toBeLessThanOrEqual(opts.maxBoxBytes + 16);
  }
  return { units };
}

/** Splits `bytes` at the given (unsorted, possibly repeated) cut points. */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) { out.push(bytes.subarray(prev, p)); prev = p; }
  out.push(bytes.subarray(prev));
  return out;
}

describe('the fMP4 splitter under arbitrary input', () => {
  it('never throws anything but an Fmp4Error on random bytes, and keeps its buffer bounded', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 20 }), (pieces) => {
      feed(pieces);
    }), { numRuns: 500, seed: 42 });
  });

  it('gives the same units however a valid stream is cut', () => {
    const bytes = set.fixtures.av.bytes;
    const whole = feed([bytes], { maxBoxBytes: 16 << 20, maxInitBytes: 1 << 20 }).units.map((u) => u.bytes.toString('base64'));
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 200 }), (points) => {
      const { units, error } = feed(cut(bytes, points), { maxBoxBytes: 16 << 20, maxInitBytes: 1 << 20 });
      expect(error).toBeUndefined();
      expect(units.map((u) => u.bytes.toString('base64'))).toEqual(whole);
    }), { numRuns: 60, seed: 7 });
  });

  it('rejects or survives a valid stream with corrupted bytes, never crashing', () => {
    const bytes = set.fixtures.av.bytes.subarray(0, 60_000);
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 30 }), (edits, points) => {
        const copy = Buffer.from(bytes);
        for (const [i, v] of edits) copy[i] = v;
        const { units, error } = feed(cut(copy, points), { maxBoxBytes: 1 << 20, maxInitBytes: 1 << 20 });
        if (error) expect(error.code).toMatch(/^FMP4_/);
        for (const u of units) expect(u.bytes.length).toBeGreaterThanOrEqual(8);
      }), { numRuns: 300, seed: 11 });
  });
});
