import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInit } from '../../../ingest/fmp4/codec.js';
import { Fmp4Splitter } from '../../../ingest/fmp4/splitter.js';
import { Fmp4Error } from '../../../ingest/fmp4/errors.js';
import type { Chunk, Fmp4Unit, InitSegment } from '../../../media/types.js';
import type { Fmp4ErrorCode } from '../../../ingest/fmp4/errors.js';
import { box, makeFixtures, prng, randomPieces, topLevelBoxes, u32 } from '../../ingest/fmp4/fixtures.js';
import type { FixtureName, FixtureSet } from '../../ingest/fmp4/fixtures.js';

let set: FixtureSet;
beforeAll(async () => {
  set = await makeFixtures();
}, 30_000);
afterAll(() => set?.cleanup());

const fx = (name: FixtureName) => set.fixtures[name];

function feed(pieces: Buffer[], splitter = new Fmp4Splitter()): Fmp4Unit[] {
  const units: Fmp4Unit[] = [];
  for (const piece of pieces) splitter.push(piece, (u) => units.push(u));
  return units;
}

/** Units with bytes replaced by a digest, for cheap deep equality. */
function digest(units: Fmp4Unit[]): object[] {
  return units.map(({ bytes, ...rest }) => ({ ...rest, len: bytes.length, sha: createHash('sha1').update(bytes).digest('hex') }));
}

const chunksOf = (units: Fmp4Unit[]) => units.filter((u): u is Chunk => u.kind === 'chunk');

/** The input minus what the splitter is documented to drop (FFmpeg's closing mfra). */
function expectedBytes(bytes: Buffer): Buffer {
  return Buffer.concat(topLevelBoxes(bytes).filter((b) => b.type !== 'mfra').map((b) => bytes.subarray(b.start, b.start + b.size)));
}

function errorOf(fn: () => void): Fmp4Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Fmp4Error) return err;
    throw err;
  }
  throw new Error('expected an Fmp4Error');
}

const NAMES: FixtureName[] = ['av', 'video', 'audio', 'everyFrame'];

describe('Fmp4Splitter on FFmpeg output', () => {
  it.each(NAMES)('yields the same units for random piece sizes as for the whole %s stream', (name) => {
    const whole = digest(feed([fx(name).bytes]));
    expect(whole.length).toBeGreaterThan(10);
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(digest(feed(randomPieces(fx(name).bytes, seed)))).toEqual(whole);
    }
  });

  it('yields the same units when the stream arrives one byte at a time', () => {
    const bytes = fx('av').bytes;
    const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(digest(feed(pieces))).toEqual(digest(feed([bytes])));
  });

  it.each(NAMES)('emits every byte of the %s stream once and in order, except the closing mfra', (name) => {
    const { bytes } = fx(name);
    const out = Buffer.concat(feed(randomPieces(bytes, 7)).map((u) => u.bytes));
    expect(out.equals(expectedBytes(bytes))).toBe(true);
    if (name === 'video') expect(out.equals(bytes)).toBe(true); // skip_trailer: nothing dropped at all
  });

  it('describes the audio+video init with avc1 first, then mp4a.40.2', () => {
    const [init] = feed([fx('av').bytes]) as [InitSegment];
    expect(init.kind).toBe('init');
    expect(init.codecs).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    expect(init.mime).toBe(`video/mp4; codecs="${init.codecs}"`);
    expect(init.tracks).toEqual([
      { id: 1, kind: 'video', codec: expect.stringMatching(/^avc1\./), timescale: expect.any(Number), width: 320, height: 240 },
      { id: 2, kind: 'audio', codec: 'mp4a.40.2', timescale: 48000, channels: expect.any(Number), sampleRate: 48000 },
    ]);
    expect(topLevelBoxes(init.bytes).map((b) => b.type)).toEqual(['ftyp', 'moov']);
  });

  it('describes an audio-only init with an audio/mp4 mime', () => {
    const [init] = feed([fx('audio').bytes]) as [InitSegment];
    expect(init.tracks.map((t) => t.kind)).toEqual(['audio']);
    expect(init.mime).toBe(`audio/mp4; codecs="${init.codecs}"`);
    expect(init.codecs.toLowerCase()).toBe('opus');
  });

  it.each(NAMES)('numbers %s chunks by mfhd, one apart, with non-decreasing dts and positive durations', (name) => {
    const chunks = chunksOf(feed([fx(name).bytes]));
    // frag_every_frame alternates one-track chunks; FFmpeg interleaves them by dts only to within a tick.
    const slack = name === 'everyFrame' ? 0.001 : 0;
    chunks.forEach((c, i) => {
      expect(c.bytes.toString('latin1', 4, 8)).toMatch(/^(prft|moof)$/);
      expect(c.duration).toBeGreaterThan(0);
      if (i === 0) return;
      expect(c.seq).toBe(chunks[i - 1]!.seq + 1);
      expect(c.dts).toBeGreaterThanOrEqual(chunks[i - 1]!.dts - slack);
    });
    expect(chunks[0]!.dts).toBe(0);
    if (name === 'everyFrame') return; // its one-track chunks' durations add up per track, not overall
    const total = chunks.reduce((s, c) => s + c.duration, 0);
    expect(total).toBeGreaterThan(2.5);
    expect(total).toBeLessThan(3.5);
  });

  it.each(['av', 'video', 'everyFrame'] as const)('flags as keyframes exactly the %s chunks that start a GOP', (name) => {
    const chunks = chunksOf(feed([fx(name).bytes]));
    // everyFrame's first chunk holds only audio, which is no place to join an A/V stream.
    expect(chunks[0]!.keyframe).toBe(name !== 'everyFrame');
    expect(chunks.filter((c) => c.keyframe).length).toBe(fx(name).videoKeyframes);
    expect(fx(name).videoKeyframes).toBe(3); // -g 30 at 30 fps over 3 s
  });

  it('flags every chunk of an audio-only stream as a keyframe', () => {
    expect(chunksOf(feed([fx('audio').bytes])).every((c) => c.keyframe)).toBe(true);
  });

  it('converts the prft wall clock to Unix milliseconds close to now', () => {
    for (const c of chunksOf(feed([fx('av').bytes]))) {
      expect(Math.abs(c.prftMs! - Date.now())).toBeLessThan(10_000);
    }
  });

  it('keeps bufferedBytes to the unfinished unit, bounded by maxBoxBytes + 8', () => {
    const bytes = fx('av').bytes;
    const boxes = topLevelBoxes(bytes);
    const mdat = boxes.find((b) => b.type === 'mdat')!;
    const splitter = new Fmp4Splitter({ maxBoxBytes: 64 * 1024 });
    const units: Fmp4Unit[] = [];
    for (const piece of randomPieces(bytes.subarray(0, mdat.start + 100), 3)) {
      splitter.push(piece, (u) => units.push(u));
      expect(splitter.bufferedBytes).toBeLessThanOrEqual(64 * 1024 + 8);
    }
    expect(units.map((u) => u.kind)).toEqual(['init']);
    expect(splitter.bufferedBytes).toBe(mdat.start + 100 - boxes[2]!.start); // prft+moof+part of mdat
  });

  it('accepts a new init segment after chunks and uses it for later chunks', () => {
    const { bytes } = fx('av');
    const units = feed([bytes, fx('audio').bytes]);
    const inits = units.filter((u) => u.kind === 'init');
    expect(inits.map((u) => u.mime.split(';')[0])).toEqual(['video/mp4', 'audio/mp4']);
    expect(chunksOf(units).at(-1)!.keyframe).toBe(true);
  });
});

describe('Fmp4Splitter on malformed input', () => {
  const head = (type: string, size: number) => Buffer.concat([u32(size), Buffer.from(type, 'latin1')]);
  const parts = () => {
    const { bytes } = fx('av');
    const boxes = topLevelBoxes(bytes);
    const get = (i: number) => bytes.subarray(boxes[i]!.start, boxes[i]!.start + boxes[i]!.size);
    return { init: Buffer.concat([get(0), get(1)]), prft: get(2), moof: get(3), mdat: get(4) };
  };
  const mfhd = box('mfhd', u32(0, 1));

  const cases: Array<[string, () => Buffer, Fmp4ErrorCode]> = [
    ['a box of size 0', () => Buffer.concat([parts().init, head('moof', 0)]), 'FMP4_BOX_TOO_SMALL'],
    ['a box of size 4', () => Buffer.concat([parts().init, head('moof', 4)]), 'FMP4_BOX_TOO_SMALL'],
    ['a largesize below 16', () => Buffer.concat([head('ftyp', 1), u32(0, 12)]), 'FMP4_BOX_TOO_SMALL'],
    ['a huge 32-bit size', () => Buffer.concat([parts().init, head('moof', 0xfffffff0)]), 'FMP4_BOX_TOO_LARGE'],
    ['a huge 64-bit largesize', () => Buffer.concat([parts().init, head('mdat', 1), u32(0x100, 0)]), 'FMP4_BOX_TOO_LARGE'],
    ['random garbage', () => Buffer.from(Array.from({ length: 4096 }, prng(42)).map((x) => Math.floor(x * 256))), 'FMP4_BAD_BOX'],
    ['a non-printable box type', () => Buffer.concat([u32(16), Buffer.from([0, 1, 2, 3]), u32(0, 0)]), 'FMP4_BAD_BOX'],
    ['mdat before any moof', () => Buffer.concat([parts().init, parts().mdat]), 'FMP4_BAD_ORDER'],
    ['moof before any init', () => Buffer.concat([parts().moof, parts().mdat]), 'FMP4_BAD_ORDER'],
    ['prft before any init', () => parts().prft, 'FMP4_BAD_ORDER'],
    ['two moofs in a row', () => Buffer.concat([parts().init, parts().moof, parts().moof]), 'FMP4_BAD_ORDER'],
    ['prft followed by mdat', () => Buffer.concat([parts().init, parts().prft, parts().mdat]), 'FMP4_BAD_ORDER'],
    ['ftyp followed by moof', () => Buffer.concat([parts().init.subarray(0, 28), parts().moof]), 'FMP4_BAD_ORDER'],
    ['a moof without traf', () => Buffer.concat([parts().init, box('moof', mfhd)]), 'FMP4_BAD_BOX'],
    ['a moof without mfhd', () => Buffer.concat([parts().init, box('moof', box('traf'))]), 'FMP4_BAD_BOX'],
    ['a moof whose child overruns it', () => Buffer.concat([parts().init, box('moof', mfhd, u32(64), Buffer.from('traf'))]), 'FMP4_BAD_BOX'],
    ['a traf without tfhd', () => Buffer.concat([parts().init, box('moof', mfhd, box('traf'))]), 'FMP4_BAD_BOX'],
    ['an init mp4box cannot parse', () => Buffer.concat([box('ftyp', Buffer.from('isom'), u32(0)), box('moov', box('mvhd'))]), 'FMP4_BAD_BOX'],
  ];

  it.each(cases)('rejects %s with the documented code, whole or in pieces', (_name, make, code) => {
    const input = make();
    for (const pieces of [[input], randomPieces(input, 11, 64)]) {
      const err = errorOf(() => feed(pieces));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(/\d/); // names a byte offset
    }
  });

  it('buffers a truncated stream without error, holding only the partial chunk', () => {
    const { init, prft, moof, mdat } = parts();
    const splitter = new Fmp4Splitter();
    const units = feed([init, prft, moof, mdat.subarray(0, 100)], splitter);
    expect(units.map((u) => u.kind)).toEqual(['init']);
    expect(splitter.bufferedBytes).toBe(prft.length + moof.length + 100);
  });

  it('reports an init over maxInitBytes', () => {
    expect(errorOf(() => feed([parts().init], new Fmp4Splitter({ maxInitBytes: 512 }))).code).toBe('FMP4_INIT_TOO_LARGE');
  });

  it.each([
    ['a 32-bit', head('mdat', 2 * 1024 * 1024)],
    ['a 64-bit', Buffer.concat([head('mdat', 1), u32(0, 2 * 1024 * 1024)])],
  ])('rejects %s size over maxBoxBytes from the header alone', (_name, header) => {
    const splitter = new Fmp4Splitter({ maxBoxBytes: 1024 * 1024 });
    feed([parts().init, parts().moof], splitter);
    expect(errorOf(() => splitter.push(header, () => {})).code).toBe('FMP4_BOX_TOO_LARGE');
  });

  it('rejects a chunk whose boxes together exceed maxBoxBytes, before buffering them', () => {
    const splitter = new Fmp4Splitter({ maxBoxBytes: 4096 });
    feed([parts().init], splitter);
    const emsg = box('emsg', Buffer.alloc(1000));
    expect(errorOf(() => feed([emsg, emsg, emsg, emsg, emsg], splitter)).code).toBe('FMP4_BOX_TOO_LARGE');
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('keeps throwing the same error after a failure, and recovers after reset()', () => {
    const splitter = new Fmp4Splitter();
    const first = errorOf(() => splitter.push(parts().mdat, () => {}));
    expect(errorOf(() => splitter.push(parts().init, () => {}))).toBe(first);
    splitter.reset();
    expect(digest(feed([fx('av').bytes], splitter))).toEqual(digest(feed([fx('av').bytes])));
  });

  it('drops free/skip boxes between units but keeps those between moof and mdat', () => {
    const { init, moof, mdat } = parts();
    const free = box('free', Buffer.alloc(5));
    const units = feed([free, init, box('skip'), moof, free, mdat, free]);
    expect(units.map((u) => u.bytes.length)).toEqual([init.length, moof.length + free.length + mdat.length]);
  });

  it('emits the units completed before an error in the same piece', () => {
    const { init, moof, mdat } = parts();
    const units: Fmp4Unit[] = [];
    expect(() => new Fmp4Splitter().push(Buffer.concat([init, moof, mdat, mdat]), (u) => units.push(u))).toThrow(Fmp4Error);
    expect(units.map((u) => u.kind)).toEqual(['init', 'chunk']);
  });
});

describe('describeInit', () => {
  it('rejects bytes that hold no track', () => {
    expect(errorOf(() => describeInit(box('ftyp', Buffer.from('isom'), u32(0))))).toMatchObject({ code: 'FMP4_BAD_BOX' });
  });
});
