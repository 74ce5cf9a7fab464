// The file names under /hls/NAME/: what each URI we write reads back as, and that nothing else does.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { initUri, parseFile, partUri, segmentUri } from '../../hls/types.js';

describe('an /hls/ file name', () => {
  it.each([
    ['index.m3u8', { kind: 'playlist' }],
    ['p17965857772005.mp4', { kind: 'part', n: 17965857772005 }],
    ['s17965857772.mp4', { kind: 'segment', msn: 17965857772 }],
    ['init-17965857772.mp4', { kind: 'init', id: 17965857772 }],
    ['p0.mp4', { kind: 'part', n: 0 }],
  ])('reads %s', (file, want) => {
    expect(parseFile(file)).toEqual(want);
  });

  it.each([
    'index.m3u', 'INDEX.M3U8', 'master.m3u8', 'p.mp4', 'p01.mp4', 'p-1.mp4', 'p1.MP4', 'p1.mp4x', 's1.m4s', 'x1.mp4',
    'init1.mp4', 'init-.mp4', 'p99999999999999999.mp4', 'p1.5.mp4', '../index.m3u8', '', 'p1.mp4?x',
  ])('refuses %j', (file) => {
    expect(parseFile(file)).toBeNull();
  });

  it('reads back every URI it writes (fuzzed)', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (n) => {
      const p = parseFile(partUri(n));
      const s = parseFile(segmentUri(n));
      const i = parseFile(initUri(n));
      return p?.kind === 'part' && p.n === n && s?.kind === 'segment' && s.msn === n && i?.kind === 'init' && i.id === n;
    }));
  });

  it('never throws on any name (fuzzed)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (f) => {
      const r = parseFile(f);
      return r === null || typeof r.kind === 'string';
    }), { numRuns: 5000 });
  });
});
