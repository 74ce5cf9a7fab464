// PublishFeed (ingest/rtmp/feed.ts): identical sequence headers ignored, changed ones
// rate-limited, the restart cache reset at keyframes and bounded, and replay order on subscribe.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PublishFeed, flvTag, isSequenceHeader } from '../../../ingest/rtmp/feed.js';
import { RtmpError } from '../../../ingest/rtmp/errors.js';

const avcHeader = (v: number): Buffer => Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 2, 0x67, v]);
const aacHeader = (v: number): Buffer => Buffer.from([0xaf, 0, 0x11, v]);
const key = (n: number, size = 10): Buffer => Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), Buffer.alloc(size - 5, n)]);
const inter = (n: number, size = 10): Buffer => Buffer.concat([Buffer.from([0x27, 1, 0, 0, 0]), Buffer.alloc(size - 5, n)]);
const audio = (n: number): Buffer => Buffer.from([0xaf, 1, n]);

function feed(o: { maxCacheBytes?: number; maxHeaderChangesPer10s?: number; now?: () => number } = {}): { f: PublishFeed; out: Buffer[] } {
  const f = new PublishFeed({ maxCacheBytes: o.maxCacheBytes ?? 1 << 20, maxHeaderChangesPer10s: o.maxHeaderChangesPer10s ?? 10, now: o.now });
  const out: Buffer[] = [];
  f.subscribe((b) => out.push(b), false);
  out.length = 0; // the FLV header
  return { f, out };
}

const stormCode = (fn: () => void): string | null => {
  try { fn(); return null; } catch (err) { if (err instanceof RtmpError) return err.code; throw err; }
};

describe('sequence headers', () => {
  // Whether each body is taken for a sequence header.
  it.each([
    ['an AVC sequence header is one', 9, avcHeader(1), true],
    ['an AAC sequence header is one', 8, aacHeader(1), true],
    ['an HEVC sequence header is one', 9, Buffer.from([0x1c, 0, 0, 0, 0]), true],
    ['an enhanced RTMP SequenceStart is one', 9, Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31]), true],
    ['an AVC keyframe is not', 9, key(1), false],
    ['an AAC frame is not', 8, audio(1), false],
    ['an MP3 frame is not', 8, Buffer.from([0x2f, 0]), false],
    ['a one-byte body is not', 9, Buffer.from([0x17]), false],
  ] as const)('%s', (_name, type, body, want) => {
    expect(isSequenceHeader(type, body)).toBe(want);
  });

  it('ignores a sequence header identical to the current one, however often it comes', () => {
    const { f, out } = feed({ maxHeaderChangesPer10s: 2 });
    for (let i = 0; i < 100; i++) { f.push(9, i, avcHeader(1)); f.push(8, i, aacHeader(1)); }
    expect(out.map((b) => b[0])).toEqual([9, 8]);
  });

  it('passes a changed header on, and throws RTMP_HEADER_STORM on the 11th change in 10 s', () => {
    let now = 0;
    const { f, out } = feed({ now: () => now });
    for (let i = 0; i < 10; i++) { f.push(9, 0, avcHeader(i)); now += 900; }
    expect(out).toHaveLength(10);
    expect(stormCode(() => f.push(9, 0, avcHeader(10)))).toBe('RTMP_HEADER_STORM');
  });

  it('forgets changes older than 10 s', () => {
    let now = 0;
    const { f } = feed({ now: () => now });
    for (let i = 0; i < 30; i++) { expect(stormCode(() => f.push(i % 2 ? 8 : 9, 0, i % 2 ? aacHeader(i) : avcHeader(i)))).toBeNull(); now += 1001; }
  });

  it('counts audio and video changes together', () => {
    const { f } = feed({ maxHeaderChangesPer10s: 3, now: () => 0 });
    f.push(9, 0, avcHeader(1)); f.push(8, 0, aacHeader(1)); f.push(9, 0, avcHeader(2));
    expect(stormCode(() => f.push(8, 0, aacHeader(2)))).toBe('RTMP_HEADER_STORM');
  });
});

describe('the restart cache', () => {
  it('keeps the tags since the last keyframe', () => {
    const { f } = feed();
    f.push(9, 0, key(1)); f.push(9, 33, inter(2)); f.push(9, 66, key(3)); f.push(8, 70, audio(4)); f.push(9, 99, inter(5));
    const replay: Buffer[] = [];
    f.subscribe((b) => replay.push(b), true);
    expect(replay.slice(1)).toEqual([flvTag(9, 66, key(3)), flvTag(8, 70, audio(4)), flvTag(9, 99, inter(5))]);
    expect(f.cachedBytes).toBe(replay.slice(1).reduce((n, b) => n + b.length, 0));
  });

  it('stays within maxCacheBytes: past it, nothing is kept until the next keyframe (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 2000 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 6, max: 600 })), { maxLength: 60 }), (max, frames) => {
      const { f } = feed({ maxCacheBytes: max });
      let sinceKey: Buffer[] = [];
      let over = false;
      frames.forEach(([isKey, size], i) => {
        const body = isKey ? key(i, size) : inter(i, size);
        const tag = flvTag(9, i, body);
        if (isKey) { sinceKey = []; over = false; }
        if (!over && sinceKey.reduce((n, b) => n + b.length, 0) + tag.length > max) { over = true; sinceKey = []; }
        if (!over) sinceKey.push(tag);
        f.push(9, i, body);
        expect(f.cachedBytes).toBeLessThanOrEqual(max);
      });
      const replay: Buffer[] = [];
      f.subscribe((b) => replay.push(b), true);
      expect(replay.slice(1)).toEqual(sinceKey);
    }), { numRuns: 300, seed: 40 });
  });

  it('replays in order: FLV header, metadata, video header, audio header, then the cached tags', () => {
    const { f } = feed();
    const meta = Buffer.from('020a6f6e4d65746144617461', 'hex');
    f.push(8, 0, aacHeader(1)); f.push(18, 0, meta); f.push(9, 0, avcHeader(1)); f.push(9, 5, key(1)); f.push(8, 6, audio(2));
    const cached: Buffer[] = [];
    const fresh: Buffer[] = [];
    f.subscribe((b) => cached.push(b), true);
    f.subscribe((b) => fresh.push(b), false);
    const header = cached[0]!;
    expect(header.subarray(0, 3).toString()).toBe('FLV');
    expect(cached.slice(1)).toEqual([flvTag(18, 0, meta), flvTag(9, 0, avcHeader(1)), flvTag(8, 0, aacHeader(1)), flvTag(9, 5, key(1)), flvTag(8, 6, audio(2))]);
    expect(fresh).toEqual(cached.slice(0, 4));
  });

  it('frees the cache and delivers nothing after end()', () => {
    const { f, out } = feed();
    f.push(9, 0, key(1));
    f.end();
    f.push(9, 33, key(2));
    expect(f.cachedBytes).toBe(0);
    expect(out).toHaveLength(1);
    expect(() => f.subscribe(() => {}, true)).toThrow();
  });

  it('writes 32-bit timestamps into the FLV tag (24 bits and the extension byte)', () => {
    const t = flvTag(9, 0x12345678, key(1));
    expect([t.readUIntBE(4, 3), t[7], t.readUInt32BE(t.length - 4)]).toEqual([0x345678, 0x12, t.length - 4]);
  });
});
