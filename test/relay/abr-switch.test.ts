import { describe, expect, it } from 'vitest';
import { stopsAtOnce } from '../../relay/abr-switch.js';

const RATE = 2_660_000;

describe('a down-switch on a congested path', () => {
  it.each([
    ['a path that carries the rendition, with a keyframe burst queued', { lagMs: 100, queueMs: 250, throughputBps: 2_600_000 }, false],
    ['a path behind by more than 300 ms', { lagMs: 320, queueMs: 0, throughputBps: 2_600_000 }, true],
    ['a queue of more than 300 ms at the last ack', { lagMs: 0, queueMs: 301, throughputBps: 2_600_000 }, true],
    // bench:network's bottleneck: the switch was decided on throughput with a 293 ms queue, and the
    // source ran on to its next keyframe into a link carrying 45 % of it (on screen 3.1–3.9 s after the cut).
    ['a path carrying under 0.8 of the rendition\'s rate, not yet behind', { lagMs: 0, queueMs: 293, throughputBps: 2_061_322 }, true],
    ['a path whose throughput is not measured yet', { lagMs: 0, queueMs: 100, throughputBps: 0 }, false],
  ])('stops the old rendition at once or not: %s', (_what, path, expected) => {
    expect(stopsAtOnce(path, RATE)).toBe(expected);
  });
});
