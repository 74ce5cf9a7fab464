// The latency-control keys of the player config: the defaults validate, and the watch page's
// query reaches them.
import { describe, expect, it } from 'vitest';
import { DEFAULTS, mergeConfig, optionsFromQuery } from '../../player/config.js';

describe('latency config', () => {
  it('takes ?minBuffer= in milliseconds, as the other latency options', () => {
    expect(optionsFromQuery(new URLSearchParams('minBuffer=120')).minBuffer).toBeCloseTo(0.12, 9);
    expect(optionsFromQuery(new URLSearchParams('')).minBuffer).toBeUndefined();
  });

  it('validates the new keys: a negative pinnedMinLatency or stallBreakMs is refused', () => {
    const url = 'ws://h/live/x';
    expect(mergeConfig({ url }).pinnedMinLatency).toBe(DEFAULTS.pinnedMinLatency);
    expect(() => mergeConfig({ url, pinnedMinLatency: -1 })).toThrow(/pinnedMinLatency/);
    expect(() => mergeConfig({ url, stallBreakMs: -1 })).toThrow(/stallBreakMs/);
    expect(mergeConfig({ url, stallBreakMs: 0 }).stallBreakMs).toBe(0);
  });

  it('keeps the ceiling above a 2 s outage, so a backlog drains by rate and not by a jump', () => {
    expect(DEFAULTS.maxLatency).toBeGreaterThan(DEFAULTS.targetLatency + 2 + 0.1);
  });
});
