// One stream's LL-HLS window: numbering, the window's bounds, generations, and a playlist built
// once per change, not per request.
import { describe, expect, it, vi } from 'vitest';
import { parse, setOptions, type types } from 'hls-parser';

type MediaPlaylist = types.MediaPlaylist;
import { HlsStream, IDLE_MS } from '../../hls/stream.js';
import { initOf, remuxChunks, VIDEO, AUDIO } from './fixtures.js';

// Every rule hls-parser checks (its reading of RFC 8216bis) fails the test instead of a line on stderr.
setOptions({ strictMode: true });

const writes = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../hls/playlist.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../hls/playlist.js')>();
  return { ...m, writePlaylist: (...a: Parameters<typeof m.writePlaylist>) => { writes.n++; return m.writePlaylist(...a); } };
});

const NOW = 1_800_000_000_123;
const make = (o: Partial<{ windowSegments: number; maxStreamBytes: number }> = {}): HlsStream =>
  new HlsStream({ partTargetMs: 200, windowSegments: 6, maxStreamBytes: 32 * 1024 * 1024, ...o }, NOW);

function feed(s: HlsStream, n: number, o: Parameters<typeof remuxChunks>[1] = {}): void {
  for (const c of remuxChunks(n, o)) s.chunk(c, NOW);
}

const playlist = (s: HlsStream, suffix = ''): MediaPlaylist => parse(s.playlist(suffix)!) as MediaPlaylist;

describe('an LL-HLS stream window', () => {
  it('numbers segments and the discontinuity sequence from the wall clock in tenths of a second, and parts from that × 1000', () => {
    const s = make();
    s.init(initOf());
    feed(s, 31);
    const p = playlist(s);
    expect(p.mediaSequenceBase).toBe(18_000_000_001);
    expect(p.discontinuitySequenceBase).toBe(18_000_000_001);
    expect(p.segments[0]!.map.uri).toBe('init-18000000001.mp4');
    expect(s.parts).toEqual({ first: 18_000_000_001_000, next: 18_000_000_001_005 });
    expect(s.part(18_000_000_001_000)?.independent).toBe(true);
  });

  it('has no playlist before its first part, and ignores chunks before any init segment', () => {
    const s = make();
    feed(s, 40);
    expect(s.playlist()).toBeNull();
    s.init(initOf());
    expect(s.playlist()).toBeNull();
    expect(s.position).toBeNull();
    feed(s, 8);
    expect(s.position).toEqual({ msn: 18_000_000_001, part: 0, completeMsn: 18_000_000_000 });
  });

  it('keeps windowSegments complete segments; the parts and bytes of older ones are gone', () => {
    const s = make({ windowSegments: 3 });
    s.requested(NOW);
    s.init(initOf());
    feed(s, 30 * 8 + 1);
    const p = playlist(s);
    expect(p.segments.filter((x) => x.uri).map((x) => x.mediaSequenceNumber)).toEqual([18_000_000_006, 18_000_000_007, 18_000_000_008]);
    expect(s.segment(18_000_000_005)).toBeUndefined();
    expect(s.segment(18_000_000_006)?.bytes?.length).toBeGreaterThan(0);
    expect(s.part(18_000_000_001_000)).toBeUndefined();
    expect(s.parts!.first).toBe(18_000_000_001_025);
    const held = [6, 7, 8].reduce((n, i) => n + s.segment(18_000_000_000 + i)!.bytes!.length, 0);
    expect(s.bytes).toBe(held);
  });

  it('drops the oldest segments past maxStreamBytes', () => {
    const s = make({ maxStreamBytes: 30_000 });
    s.requested(NOW);
    s.init(initOf());
    feed(s, 30 * 8 + 1);
    expect(s.bytes).toBeLessThanOrEqual(30_000);
    expect(playlist(s).segments.filter((x) => x.uri).length).toBeLessThan(3);
  });

  it('keeps three segments while nobody fetches its LL-HLS, and windowSegments for a minute after a request', () => {
    const s = make();
    s.init(initOf());
    feed(s, 30 * 8 + 1);
    const complete = (): number => playlist(s).segments.filter((x) => x.uri).length;
    expect(complete()).toBe(3);
    s.requested(NOW);
    for (const c of remuxChunks(30 * 4, { startMs: 8000 })) s.chunk(c, NOW + IDLE_MS - 1);
    expect(complete()).toBe(6);
    for (const c of remuxChunks(31, { startMs: 12000 })) s.chunk(c, NOW + IDLE_MS);
    expect(complete()).toBe(3);
  });

  it('holds each byte once: a complete segment\'s parts are views of its buffer', () => {
    const s = make();
    s.init(initOf());
    feed(s, 61);
    const seg = s.segment(18_000_000_001)!;
    const parts = seg.parts.map((p) => p.bytes);
    expect(Buffer.concat(parts).equals(seg.bytes!)).toBe(true);
    for (const b of parts) expect(b.buffer).toBe(seg.bytes!.buffer);
  });

  it('starts a new generation with a discontinuity and a new map, and keeps the old init while a segment uses it', () => {
    const s = make();
    s.init(initOf([VIDEO, AUDIO], 'a'));
    feed(s, 45);
    s.init(initOf([VIDEO, AUDIO], 'b'));
    feed(s, 31);
    const p = playlist(s);
    const segs = p.segments.filter((x) => x.uri);
    expect(segs.map((x) => [x.discontinuitySequence, x.map.uri, x.discontinuity ?? false])).toEqual([
      [18_000_000_001, 'init-18000000001.mp4', false],
      [18_000_000_001, 'init-18000000001.mp4', false],
      [18_000_000_002, 'init-18000000003.mp4', true],
    ]);
    expect(s.initSegment(18_000_000_001)?.bytes.toString('latin1')).toContain('a');
    expect(s.initSegment(18_000_000_003)?.bytes.toString('latin1')).toContain('b');
    expect(s.initSegment(18_000_000_003)?.type).toBe('video/mp4');
  });

  it('forgets an init segment once no segment in the window uses it', () => {
    const s = make({ windowSegments: 3 });
    s.init(initOf([VIDEO, AUDIO], 'a'));
    feed(s, 31);
    s.init(initOf([VIDEO, AUDIO], 'b'));
    feed(s, 30 * 5 + 1);
    expect(s.initSegment(18_000_000_001)).toBeUndefined();
  });

  it('ends the segment when the publisher leaves: its EXTINF appears', () => {
    const s = make();
    s.init(initOf());
    feed(s, 45);
    expect(s.position!.completeMsn).toBe(18_000_000_001);
    s.end();
    expect(s.position!.completeMsn).toBe(18_000_000_002);
    expect(playlist(s).segments.filter((x) => x.uri)).toHaveLength(2);
  });

  it('tells its listener once per change, and builds the playlist once per change and URI suffix, not per request', () => {
    const s = make();
    let changes = 0;
    s.onChange = () => changes++;
    s.init(initOf());
    const chunks = remuxChunks(61);
    let parts = 0;
    for (const c of chunks) {
      const before = s.parts?.next;
      s.chunk(c, NOW);
      if (s.parts?.next !== before) parts++;
    }
    expect(changes).toBe(parts); // a segment's end comes with a part: one notice for both
    writes.n = 0;
    for (let i = 0; i < 50; i++) { s.playlist(); s.playlist('?token=a'); }
    expect(writes.n).toBe(2);
    s.chunk(remuxChunks(2, { startMs: 2000 })[1]!, NOW); // frame 61: it settles frame 60, which opens a part
    s.playlist();
    expect(writes.n).toBe(2); // no part closed: the window did not change
  });

  it('writes the view token into every URI of that suffix\'s playlist only', () => {
    const s = make();
    s.init(initOf());
    feed(s, 31);
    expect(s.playlist('?token=t1')).toContain('init-18000000001.mp4?token=t1');
    expect(s.playlist('')).not.toContain('token');
  });
});
