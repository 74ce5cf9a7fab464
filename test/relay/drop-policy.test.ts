import { describe, expect, it } from 'vitest';
import { afterSweep, onChunk, type DeliveryState, type SkipRule } from '../../relay/drop-policy.js';

const limits = { slowBytes: 1000, resumeBytes: 100, maxInFlightMs: 1000 };
const NO_ACKS = -1;

describe('the slow-viewer drop policy', () => {
  it.each<[DeliveryState, number, number, DeliveryState, SkipRule | null]>([
    ['live', 0, NO_ACKS, 'live', null],
    ['live', 1000, NO_ACKS, 'live', null],
    ['live', 1001, NO_ACKS, 'skipping', 'bytes'],
    ['live', 0, 1000, 'live', null],
    ['live', 0, 1001, 'skipping', 'ack'],
    // Both past: the ack rule is named, the one the kernel cannot hide.
    ['live', 5000, 5000, 'skipping', 'ack'],
    ['live', 5000, 200, 'skipping', 'bytes'],
    ['skipping', 5000, NO_ACKS, 'skipping', null],
    ['skipping', 100, NO_ACKS, 'skipping', null],
    ['skipping', 99, NO_ACKS, 'waiting', null],
    ['skipping', 0, 251, 'skipping', null],
    ['skipping', 0, 250, 'waiting', null],
    ['skipping', 500, 0, 'skipping', null],
    ['waiting', 0, NO_ACKS, 'waiting', null],
    ['waiting', 99999, 99999, 'waiting', null],
  ])('moves a %s viewer with %i bytes buffered and %i ms in flight to %s (rule %s) after a sweep', (from, buffered, inFlight, to, rule) => {
    expect(afterSweep(from, buffered, inFlight, limits)).toEqual({ state: to, rule });
  });

  it.each<[DeliveryState, boolean, DeliveryState]>([
    ['waiting', true, 'live'],
    ['waiting', false, 'waiting'],
    ['skipping', true, 'skipping'],
    ['live', false, 'live'],
  ])('moves a %s viewer to %s on a chunk with keyframe=%s', (from, keyframe, to) => {
    expect(onChunk(from, keyframe)).toBe(to);
  });

  it('never resumes a viewer between keyframes, whatever its buffer does', () => {
    let s: DeliveryState = 'live';
    s = afterSweep(s, 5000, NO_ACKS, limits).state;
    s = afterSweep(s, 0, NO_ACKS, limits).state;
    for (let i = 0; i < 29; i++) s = onChunk(s, false);
    expect(s).toBe('waiting');
    expect(onChunk(s, true)).toBe('live');
  });
});
