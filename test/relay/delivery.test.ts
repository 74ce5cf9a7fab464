import { describe, expect, it } from 'vitest';
import { gopHoldsOnlyMissed } from '../../relay/delivery.js';

describe('whether a drained viewer may resume from the cached GOP', () => {
  it.each<[string, number, number, number, boolean]>([
    // label, skipFromChunk, stream chunks so far, GOP length, resume from the GOP
    ['the GOP began after the viewer stopped', 10, 40, 20, true],
    ['the GOP began at the first chunk it missed', 10, 30, 20, true],
    ['the GOP holds a chunk it had (its last)', 10, 29, 20, false],
    ['the GOP began long before it stopped', 10, 15, 15, false],
    ['there is no GOP (the cache overflowed)', 10, 40, 0, false],
    ['it was not stopped (a new generation: wait for its keyframe)', -1, 40, 20, false],
  ])('%s: %s, %s, %s → %s', (_label, skipFrom, chunks, gopLength, want) => {
    expect(gopHoldsOnlyMissed(skipFrom, chunks, gopLength)).toBe(want);
  });
});
