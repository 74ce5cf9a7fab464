// Property-based tests of what the relay accepts from viewers: any JSON value, or any string
// that JSON.parse can read, either becomes a valid report or a reason; nothing throws, and
// every accepted report is within the documented ranges.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseQoe } from '../../relay/qoe.js';

const valid = {
  type: 'qoe', intervalMs: 5000, startupMs: 300, latencyP50Ms: 200, latencyP95Ms: 230, latencyP99Ms: 250, latencyMs: 210,
  targetMs: 200, stalls: 0, stallMs: 0, rateChanges: 2, jumps: 0, droppedFrames: 1, rate: 1, policy: 'nowcast', pinned: false, clockOffsetMs: 0,
};

describe('the viewer message parser under arbitrary input', () => {
  it('never throws on any JSON value and returns a report or a reason', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const r = parseQoe(v);
      expect(typeof r === 'string' || (typeof r === 'object' && r !== null)).toBe(true);
    }), { numRuns: 2000, seed: 3 });
  });

  it('never throws on arbitrary strings parsed as JSON', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      let v: unknown;
      try { v = JSON.parse(s); } catch { return; }
      parseQoe(v);
    }), { numRuns: 2000, seed: 5 });
  });

  it('accepts only finite numbers when any field of a valid report is replaced', () => {
    const keys = Object.keys(valid).filter((k) => k !== 'type');
    fc.assert(fc.property(fc.constantFrom(...keys), fc.anything(), (key, value) => {
      const r = parseQoe({ ...valid, [key]: value });
      if (typeof r === 'string') return;
      for (const v of Object.values(r)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    }), { numRuns: 3000, seed: 9 });
  });

  it('accepts the valid report itself', () => {
    expect(typeof parseQoe(valid)).toBe('object');
  });
});
