// The playlist writer, table-driven: each case's text is parsed back by hls-parser (an
// independent reader) and checked tag by tag against what LL-HLS requires.
import { describe, expect, it } from 'vitest';
import { parse, setOptions, type types } from 'hls-parser';

type MediaPlaylist = types.MediaPlaylist;
import { seconds, writePlaylist, type PlaylistInput } from '../../hls/playlist.js';
import type { Part, Segment } from '../../hls/types.js';

// Every rule hls-parser checks (its reading of RFC 8216bis) fails the test instead of a line on stderr.
setOptions({ strictMode: true });

const WALL = Date.UTC(2026, 11, 6, 12, 0, 0);

/** Segment `msn` of `parts` parts of `partS` (0.2) s (the first independent), complete unless `open`. */
function seg(msn: number, o: { parts?: number; partS?: number; disc?: number; initId?: number; open?: boolean; independent?: boolean; firstPart?: number } = {}): Segment {
  const count = o.parts ?? 5;
  const first = o.firstPart ?? msn * 10;
  const partS = o.partS ?? 0.2;
  const parts: Part[] = Array.from({ length: count }, (_, i) => ({
    n: first + i, index: i, duration: i === count - 1 ? partS - 0.01 : partS, independent: i === 0 && (o.independent ?? true), bytes: Buffer.alloc(1),
  }));
  return {
    msn, disc: o.disc ?? 7, initId: o.initId ?? 100, wallMs: WALL + (msn - 100) * 990, duration: parts.reduce((n, p) => n + p.duration, 0),
    independent: o.independent ?? true, parts, bytes: o.open ? null : Buffer.alloc(count),
  };
}

const base = (o: Partial<PlaylistInput>): PlaylistInput => ({
  segments: [], open: null, partTarget: 0.204, targetDuration: 1, hint: 0, partSegments: 3, suffix: '', ...o,
});

interface Case {
  name: string;
  input: PlaylistInput;
  check: (p: MediaPlaylist, text: string) => void;
}

const CASES: Case[] = [
  {
    name: 'one generation: header, server control, parts on the last three segments, the open one, and the hint',
    input: base({ segments: [seg(100), seg(101), seg(102), seg(103)], open: seg(104, { parts: 2, open: true }), hint: 1042 }),
    check: (p, text) => {
      expect(p.version).toBe(9);
      expect(p.targetDuration).toBe(1);
      expect(p.partTargetDuration).toBe(0.204);
      expect(p.lowLatencyCompatibility).toMatchObject({ canBlockReload: true, partHoldBack: 0.612, holdBack: 3 });
      expect(p.mediaSequenceBase).toBe(100);
      expect(p.discontinuitySequenceBase).toBe(7);
      expect(p.independentSegments).toBe(true);
      expect(p.segments.map((s) => s.uri)).toEqual(['s100.mp4', 's101.mp4', 's102.mp4', 's103.mp4', '']);
      expect(p.segments.map((s) => s.parts.filter((x) => !x.hint).length)).toEqual([0, 0, 5, 5, 2]);
      expect(p.segments[2]!.parts[0]).toMatchObject({ uri: 'p1020.mp4', duration: 0.2, independent: true });
      expect(p.segments[2]!.parts[1]!.independent).toBeFalsy();
      expect(p.segments[3]!.duration).toBeCloseTo(0.99, 6);
      expect(p.segments[0]!.map?.uri).toBe('init-100.mp4');
      expect(p.segments[0]!.programDateTime?.getTime()).toBe(WALL);
      expect(p.segments.at(-1)!.parts.at(-1)).toMatchObject({ hint: true, uri: 'p1042.mp4' });
      expect(text.match(/#EXT-X-MAP/g)).toHaveLength(1);
      expect(text.endsWith('\n')).toBe(true);
    },
  },
  {
    name: 'a new generation: a discontinuity and a new map, and the sequence counts the discontinuity that left',
    input: base({ segments: [seg(100, { disc: 7 }), seg(101, { disc: 8, initId: 101 }), seg(102, { disc: 8, initId: 101 })], hint: 1030 }),
    check: (p, text) => {
      expect(p.discontinuitySequenceBase).toBe(7);
      // (hls-parser hangs the preload hint on a segment of its own when no open segment has parts.)
      expect(p.segments.filter((s) => s.uri).map((s) => [s.discontinuity ?? false, s.discontinuitySequence, s.map?.uri])).toEqual([
        [false, 7, 'init-100.mp4'], [true, 8, 'init-101.mp4'], [false, 8, 'init-101.mp4'],
      ]);
      expect(text.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    },
  },
  {
    name: 'a window that starts inside the second generation: its map first, no discontinuity tag',
    input: base({ segments: [seg(101, { disc: 8, initId: 101 }), seg(102, { disc: 8, initId: 101 })], hint: 1030 }),
    check: (p, text) => {
      expect(p.discontinuitySequenceBase).toBe(8);
      expect(p.segments[0]!.map?.uri).toBe('init-101.mp4');
      expect(text).not.toContain('#EXT-X-DISCONTINUITY\n');
    },
  },
  {
    name: 'with a view token: every URI carries it',
    input: base({ segments: [seg(100), seg(101)], open: seg(102, { parts: 1, open: true }), hint: 1021, suffix: '?token=abc.DEF-_' }),
    check: (p, text) => {
      const uris = [...text.matchAll(/URI="([^"]+)"|^(s\d+\.mp4[^\n]*)$/gm)].map((m) => m[1] ?? m[2]);
      expect(uris.length).toBe(1 + 5 + 5 + 1 + 1 + 2); // map, parts, open part, hint, segment lines
      for (const u of uris) expect(u).toMatch(/\?token=abc\.DEF-_$/);
      expect(p.segments[0]!.uri).toBe('s100.mp4?token=abc.DEF-_');
    },
  },
  {
    name: 'a segment cut without a keyframe: no EXT-X-INDEPENDENT-SEGMENTS, and its first part is not independent',
    input: base({ segments: [seg(100), seg(101, { independent: false })], hint: 1020 }),
    check: (p) => {
      expect(p.independentSegments).toBe(false);
      expect(p.segments[1]!.parts[0]!.independent).toBeFalsy();
    },
  },
  {
    name: 'only the open segment (the stream just started): parts, no EXTINF',
    input: base({ open: seg(100, { parts: 3, open: true }), hint: 1003 }),
    check: (p, text) => {
      expect(p.segments).toHaveLength(1);
      expect(p.segments[0]!.parts.filter((x) => !x.hint)).toHaveLength(3);
      expect(text).not.toContain('#EXTINF');
    },
  },
  {
    name: 'target duration 2 and a 0.5 s part target: hold-backs at three times each',
    input: base({ segments: [seg(100, { parts: 4, partS: 0.5 })], partTarget: 0.5, targetDuration: 2, hint: 1004 }),
    check: (p) => {
      expect(p.targetDuration).toBe(2);
      expect(p.lowLatencyCompatibility).toMatchObject({ partHoldBack: 1.5, holdBack: 6 });
    },
  },
];

describe('the playlist writer', () => {
  it.each(CASES)('$name', ({ input, check }) => {
    const text = writePlaylist(input);
    const p = parse(text);
    expect(p.isMasterPlaylist).toBe(false);
    check(p as MediaPlaylist, text);
  });

  it('keeps every part duration at or under PART-TARGET once both are written out', () => {
    const text = writePlaylist(base({ segments: [seg(100)], hint: 1005, partTarget: 0.20000001 }));
    const target = Number(/PART-TARGET=([\d.]+)/.exec(text)![1]);
    for (const m of text.matchAll(/DURATION=([\d.]+)/g)) expect(Number(m[1])).toBeLessThanOrEqual(target);
  });

  it('refuses to write a playlist with nothing in it', () => {
    expect(() => writePlaylist(base({}))).toThrow(/no segment/);
  });

  it.each([
    [0.2, '0.2'], [1, '1'], [0.204, '0.204'], [1.0013333, '1.00133'], [10, '10'], [0, '0'], [0.000004, '0'],
  ])('writes %s seconds as %s', (x, text) => {
    expect(seconds(x)).toBe(text);
  });
});
