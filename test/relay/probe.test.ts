import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEAF_AFTER, MAX_PROBE_BYTES, MIN_PROBE_BYTES, PathProbe, PROBE_SPAN_MS, PROBE_TIMEOUT_MS, probeBytes, probeFrames } from '../../relay/probe.js';
import { MAX_PROBE_MS } from '../../protocol/messages.js';

describe('a viewer\'s bandwidth probes', () => {
  it.each([
    ['a 2.7 Mbit/s rendition', 2_700_000, Math.round((2_700_000 * PROBE_SPAN_MS) / 8000)],
    ['a rate too low to time', 100_000, MIN_PROBE_BYTES],
    ['a rate past the cap', 1e9, MAX_PROBE_BYTES],
    ['an unknown rate', 0, MIN_PROBE_BYTES],
    ['a rate that is not a number', Number.NaN, MIN_PROBE_BYTES],
  ])('sizes part 1 for %s', (_what, bps, bytes) => {
    expect(probeBytes(bps)).toBe(bytes);
  });

  it('writes two JSON frames, part 1 about the size asked', () => {
    for (const bytes of [MIN_PROBE_BYTES, 13_500, MAX_PROBE_BYTES]) {
      const [a, b] = probeFrames(7, bytes);
      expect(JSON.parse(a)).toEqual({ type: 'probe', id: 7, part: 0 });
      expect(JSON.parse(b)).toMatchObject({ type: 'probe', id: 7, part: 1 });
      expect(Buffer.byteLength(b)).toBe(bytes);
    }
  });

  it('reads the answer to the probe out as part 1\'s bits over its time', () => {
    const p = new PathProbe();
    const id = p.begin(15_000, 1000);
    expect(p.answer(id, 100, 1200)).toBe(true);
    expect(p.bps).toBe(1_200_000);
    expect(p.at).toBe(1200);
    expect(p.answers).toBe(true);
  });

  it('keeps one probe out at a time, and another may go once it is lost', () => {
    const p = new PathProbe();
    const id = p.begin(5000, 0);
    expect(id).toBeGreaterThan(0);
    expect(p.begin(5000, PROBE_TIMEOUT_MS - 1)).toBe(0);
    const next = p.begin(5000, PROBE_TIMEOUT_MS);
    expect(next).toBeGreaterThan(id);
    // The lost one's answer is no longer taken.
    expect(p.answer(id, 10, PROBE_TIMEOUT_MS + 10)).toBe(false);
    expect(p.answer(next, 10, PROBE_TIMEOUT_MS + 10)).toBe(true);
  });

  it('calls a viewer deaf after DEAF_AFTER lost probes if it never answered one, and never one that did', () => {
    const p = new PathProbe();
    for (let i = 0; i <= DEAF_AFTER; i++) p.begin(5000, i * PROBE_TIMEOUT_MS);
    expect(p.deaf).toBe(true);
    const q = new PathProbe();
    expect(q.answer(q.begin(5000, 0), 5, 10)).toBe(true);
    for (let i = 1; i <= DEAF_AFTER + 1; i++) q.begin(5000, i * PROBE_TIMEOUT_MS);
    expect(q.deaf).toBe(false);
  });

  it.each([
    ['another id', 99, 10],
    ['an id that is a string', '1', 10],
    ['a time that is not a number', 1, '10'],
    ['a negative time', 1, -1],
    ['NaN', 1, Number.NaN],
    ['Infinity', 1, Infinity],
    ['a time past MAX_PROBE_MS', 1, MAX_PROBE_MS + 1],
    ['an object', 1, { valueOf: (): number => 10 }],
  ])('refuses an answer with %s, and keeps the probe out', (_what, id, ms) => {
    const p = new PathProbe();
    expect(p.begin(5000, 0)).toBe(1);
    expect(p.answer(id, ms, 10)).toBe(false);
    expect(p.bps).toBe(0);
    expect(p.answer(1, 10, 20)).toBe(true);
  });

  it('refuses an answer when no probe is out, and a second answer to the same probe', () => {
    const p = new PathProbe();
    expect(p.answer(0, 10, 10)).toBe(false);
    expect(p.answer(1, 10, 10)).toBe(false);
    const id = p.begin(5000, 0);
    expect(p.answer(id, 10, 10)).toBe(true);
    expect(p.answer(id, 1, 20)).toBe(false);
    expect(p.bps).toBe(4_000_000);
  });

  it('keeps the rate finite and positive whatever a viewer answers', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.anything(), fc.anything(), fc.nat(100_000)), { maxLength: 30 }), (answers) => {
      const p = new PathProbe();
      let now = 0;
      for (const [id, ms, dt] of answers) {
        now += dt;
        p.begin(probeBytes(2_000_000), now);
        p.answer(id, ms, now);
        p.answer(1, ms, now);
        expect(Number.isFinite(p.bps) && p.bps >= 0 && p.bps <= 1e9).toBe(true);
      }
    }));
  });
});
