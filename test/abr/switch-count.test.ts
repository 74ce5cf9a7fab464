import { describe, expect, it } from 'vitest';
import { isSwitch } from '../../player/mirror.js';
import { parseQoe } from '../../relay/qoe.js';
import type { InfoMessage } from '../../protocol/messages.js';

const info = (generation: number, height: number, codecs = 'avc1.64001e,mp4a.40.2'): InfoMessage => ({
  type: 'info', stream: 's', generation, mime: `video/mp4; codecs="${codecs}"`, codecs,
  tracks: [{ id: 1, kind: 'video', codec: codecs.split(',')[0]!, timescale: 1000, width: (height * 16) / 9, height }],
});

describe('counting rendition switches', () => {
  it.each([
    ['another size in the same generation', info(3, 360), info(3, 180), true],
    ['other codecs in the same generation', info(3, 360), info(3, 360, 'avc1.42c01e,mp4a.40.2'), true],
    ['the same info again (a reconnect)', info(3, 360), info(3, 360), false],
    ['a new generation (the publisher came back)', info(3, 360), info(4, 180), false],
    ['the first info', undefined, info(1, 360), false],
  ])('%s: %s', (_what, prev, next, expected) => {
    expect(isSwitch(prev, next)).toBe(expected);
  });

  const report = { type: 'qoe', intervalMs: 5000, startupMs: 300, latencyP50Ms: 200, latencyP95Ms: 250, latencyP99Ms: 260, latencyMs: 210,
    targetMs: 130, stalls: 0, stallMs: 0, rateChanges: 3, jumps: 0, droppedFrames: 0, rate: 1, policy: 'nowcast', pinned: false, clockOffsetMs: 1 };

  it('takes a QoE report with a switch count, and one from an older player without it', () => {
    expect(parseQoe({ ...report, switches: 2 })).toMatchObject({ switches: 2 });
    expect(typeof parseQoe(report)).toBe('object');
    expect(parseQoe({ ...report, switches: -1 })).toMatch(/^switches /);
    expect(parseQoe({ ...report, switches: 1.5 })).toMatch(/^switches /);
  });
});
