import { describe, expect, it } from 'vitest';
import { resumeFromGop } from '../../relay/delivery.js';

describe('where a drained viewer resumes at once in the cached GOP', () => {
  const M = 1_000_000;
  it.each<[string, number, number, number, number, number, number]>([
    // label, skipFromChunk, stream chunks so far, GOP length, acked throughput, stream rate (bits/s), GOP index to resume from (-1: wait for the next keyframe)
    ['the GOP began after it stopped, and its path carries the stream (a frozen path whose backlog landed): from its keyframe', 10, 40, 20, 5 * M, 2 * M, 0],
    ['the GOP began at the first chunk it missed: from its keyframe, nothing skipped', 10, 30, 20, 2 * M, 2 * M, 0],
    ['its path is below the stream\'s rate (it drained slowly): the burst would queue again', 10, 40, 20, 1.2 * M, 2.5 * M, -1],
    ['it never acked (no throughput known)', 10, 40, 20, 0, 2 * M, -1],
    ['the stream\'s rate is unknown', 10, 40, 20, 5 * M, 0, -1],
    // The GOP holds chunks 9..28: it had 9, missed 10..28.
    ['the GOP holds a chunk it had (its last): from the first it missed, continuous', 10, 29, 20, 5 * M, 2 * M, 1],
    ['the GOP began long before it stopped: from the first it missed', 10, 15, 15, 5 * M, 2 * M, 10],
    ['nothing came since it stopped: nothing to send, live again', 15, 15, 15, 5 * M, 2 * M, 15],
    ['there is no GOP (the cache overflowed)', 10, 40, 0, 5 * M, 2 * M, -1],
    ['it was not stopped (a new generation: wait for its keyframe)', -1, 40, 20, 5 * M, 2 * M, -1],
  ])('%s', (_label, skipFromChunk, chunks, gopLength, throughputBps, streamBps, want) => {
    expect(resumeFromGop({ skipFromChunk, chunks, gopLength, throughputBps, streamBps })).toBe(want);
  });
});
