import { describe, expect, it } from 'vitest';
import { resumeFromGop } from '../../relay/delivery.js';

describe('whether a drained viewer resumes at once from the cached GOP', () => {
  const M = 1_000_000;
  it.each<[string, number, number, number, number, number, boolean]>([
    // label, skipFromChunk, stream chunks so far, GOP length, acked throughput, stream rate (bits/s), resume from the GOP
    ['the GOP began after it stopped, and its path carries the stream (a frozen path whose backlog landed)', 10, 40, 20, 5 * M, 2 * M, true],
    ['the GOP began at the first chunk it missed', 10, 30, 20, 2 * M, 2 * M, true],
    ['its path is below the stream\'s rate (it drained slowly): the burst would queue again', 10, 40, 20, 1.2 * M, 2.5 * M, false],
    ['it never acked (no throughput known)', 10, 40, 20, 0, 2 * M, false],
    ['the stream\'s rate is unknown', 10, 40, 20, 5 * M, 0, false],
    ['the GOP holds a chunk it had (its last)', 10, 29, 20, 5 * M, 2 * M, false],
    ['the GOP began long before it stopped', 10, 15, 15, 5 * M, 2 * M, false],
    ['there is no GOP (the cache overflowed)', 10, 40, 0, 5 * M, 2 * M, false],
    ['it was not stopped (a new generation: wait for its keyframe)', -1, 40, 20, 5 * M, 2 * M, false],
  ])('%s', (_label, skipFromChunk, chunks, gopLength, throughputBps, streamBps, want) => {
    expect(resumeFromGop({ skipFromChunk, chunks, gopLength, throughputBps, streamBps })).toBe(want);
  });
});
