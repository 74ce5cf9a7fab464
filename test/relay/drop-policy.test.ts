import { describe, expect, it } from 'vitest';
import { afterSweep, onChunk, type DeliveryState } from '../../relay/drop-policy.js';

const limits = { slowBytes: 1000, resumeBytes: 100 };

describe('the slow-viewer drop policy', () => {
  it.each<[DeliveryState, number, DeliveryState]>([
    ['live', 0, 'live'],
    ['live', 1000, 'live'],
    ['live', 1001, 'skipping'],
    ['skipping', 5000, 'skipping'],
    ['skipping', 100, 'skipping'],
    ['skipping', 99, 'waiting'],
    ['waiting', 0, 'waiting'],
    ['waiting', 99999, 'waiting'],
  ])('moves a %s viewer with %i bytes buffered to %s after a sweep', (from, buffered, to) => {
    expect(afterSweep(from, buffered, limits)).toBe(to);
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
    s = afterSweep(s, 5000, limits);
    s = afterSweep(s, 0, limits);
    for (let i = 0; i < 29; i++) s = onChunk(s, false);
    expect(s).toBe('waiting');
    expect(onChunk(s, true)).toBe('live');
  });
});
