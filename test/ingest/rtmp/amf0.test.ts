// AMF0 (ingest/rtmp/amf0.ts): every supported type round-trips, and every malformed or
// unsupported input is an Amf0Error, never another exception.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Amf0Error, decodeAmf0, encodeAmf0, type Amf0Value } from '../../../ingest/rtmp/amf0.js';

/** The Amf0Error `fn` throws; fails the test if it throws anything else or nothing. */
function amf0ErrorOf(fn: () => unknown): Amf0Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Amf0Error) return err;
    throw err;
  }
  throw new Error('expected an Amf0Error');
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

/** Plain keys: the encoder writes an empty key as the object end, which only a decoder bug would accept. */
const key = fc.string({ minLength: 1, maxLength: 12 });
const amf0Value: fc.Arbitrary<Amf0Value> = fc.letrec<{ v: Amf0Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.boolean(),
    fc.string({ maxLength: 40 }),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4, noNullPrototype: false }).map((d) => Object.assign(Object.create(null) as Record<string, Amf0Value>, d)),
  ),
})).v;

describe('AMF0 round trips', () => {
  const cases: [string, Amf0Value][] = [
    ['a number', 1.5], ['NaN', NaN], ['negative zero', -0], ['infinity', -Infinity],
    ['true', true], ['false', false], ['an empty string', ''], ['a UTF-8 string', 'é€😀'],
    ['a long string (over 65535 bytes)', 'x'.repeat(70_000)], ['null', null], ['undefined', undefined],
    ['a date', new Date(1_700_000_000_123)], ['a strict array', [1, 'a', null, [true]]],
    ['an object', Object.assign(Object.create(null) as Record<string, Amf0Value>, { app: 'live', n: 3, o: Object.assign(Object.create(null) as Record<string, Amf0Value>, { x: null }) })],
  ];
  it.each(cases)('%s decodes to what was encoded', (_name, value) => {
    expect(decodeAmf0(encodeAmf0([value]))).toEqual([value]);
  });

  it('decodes an ECMA array as an object, whatever its count says', () => {
    const b = Buffer.concat([hex('08'), u32(99), hex('0001 61 00 0000000000000000 0000 09')]);
    expect(decodeAmf0(b)).toEqual([Object.assign(Object.create(null) as Record<string, Amf0Value>, { a: 0 })]);
  });

  it('decodes every value of a command in order', () => {
    const values: Amf0Value[] = ['connect', 1, Object.assign(Object.create(null) as Record<string, Amf0Value>, { app: 'live' }), null];
    expect(decodeAmf0(encodeAmf0(values))).toEqual(values);
  });

  it('round-trips arbitrary values (property)', () => {
    fc.assert(fc.property(fc.array(amf0Value, { maxLength: 4 }), (values) => {
      expect(decodeAmf0(encodeAmf0(values))).toEqual(values);
    }), { numRuns: 400, seed: 20 });
  });
});

describe('AMF0 refusals', () => {
  const nested = (depth: number): Buffer => Buffer.concat([...Array<Buffer>(depth).fill(hex('0a 00000001')), hex('05')]);
  const manyEntries = (n: number): Buffer => Buffer.concat([hex('0a'), u32(n), Buffer.alloc(n, 0x05)]);
  const cases: [string, Buffer, RegExp][] = [
    ['a number cut short', hex('00 3ff0'), /truncated/],
    ['a boolean without its byte', hex('01'), /truncated/],
    ['a string longer than the bytes left', hex('02 0010 6162'), /truncated/],
    ['a string without its length', hex('02 00'), /truncated/],
    ['a long string longer than the bytes left', hex('0c ffffffff 61'), /truncated/],
    ['an object without its end', hex('03 0001 61 05'), /truncated/],
    ['an object whose empty key is not followed by the end marker', hex('03 0000 05'), /object end/],
    ['an ECMA array without its count', hex('08 0000'), /truncated/],
    ['a date without its time zone', hex('0b 0000000000000000'), /truncated/],
    ['a reference (0x07)', hex('07 0001'), /marker 0x7/],
    ['an unsupported value (0x0d)', hex('0d'), /marker 0xd/],
    ['an XML document (0x0f)', hex('0f 00000001 61'), /marker 0xf/],
    ['a typed object (0x10)', hex('10 0001 61 0000 09'), /marker 0x10/],
    ['a switch to AMF3 (0x11)', hex('11 02'), /marker 0x11/],
    ['a stray object end (0x09)', hex('09'), /marker 0x9/],
    ['a strict array whose count is more than the bytes left', Buffer.concat([hex('0a'), u32(0xffffffff), hex('05')]), /strict array/],
    ['a strict array whose count lies by one', Buffer.concat([hex('0a'), u32(3), hex('05 05')]), /strict array/],
    ['values nested deeper than 8', nested(9), /deeper/],
    ['more than 1024 entries', manyEntries(1025), /entries/],
  ];
  it.each(cases)('%s is an Amf0Error', (_name, bytes, message) => {
    expect(amf0ErrorOf(() => decodeAmf0(bytes)).message).toMatch(message);
  });

  it('accepts nesting to depth 8 and 1024 entries', () => {
    expect(() => decodeAmf0(nested(8))).not.toThrow();
    expect(decodeAmf0(manyEntries(1024))[0]).toHaveLength(1024);
  });

  it('keeps a __proto__ key as plain data, polluting nothing', () => {
    const b = hex('03 0009 5f5f70726f746f5f5f 03 0005 61646d696e 0101 0000 09 0000 09');
    const [o] = decodeAmf0(b) as [Record<string, Amf0Value>];
    expect(Object.getPrototypeOf(o)).toBeNull();
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect((o.__proto__ as Record<string, Amf0Value>).admin).toBe(true);
  });
});

describe('AMF0 under arbitrary bytes', () => {
  it('never throws anything but an Amf0Error on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      try {
        decodeAmf0(Buffer.from(bytes));
      } catch (err) {
        expect(err).toBeInstanceOf(Amf0Error);
      }
    }), { numRuns: 5000, seed: 21 });
  });

  it('never throws anything but an Amf0Error on mutated valid values', () => {
    fc.assert(fc.property(fc.array(amf0Value, { minLength: 1, maxLength: 3 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(), (values, flips, cutAt) => {
      const b = Buffer.from(encodeAmf0(values));
      for (const [at, v] of flips) b[at % b.length] = v;
      try {
        decodeAmf0(b.subarray(0, b.length - (cutAt % 3)));
      } catch (err) {
        expect(err).toBeInstanceOf(Amf0Error);
      }
    }), { numRuns: 2000, seed: 22 });
  });
});
