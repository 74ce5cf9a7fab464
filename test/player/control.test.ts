import { describe, expect, it } from 'vitest';
import { POLICIES } from '../../protocol/messages.js';
import { initialControlState } from '../../player/control.js';
import type { ControlParams } from '../../player/control.js';
import { DEFAULTS } from '../../player/config.js';

describe('initialControlState', () => {
  it('starts at 1× with nothing learnt and every "last time" in the distant past', () => {
    const s = initialControlState();
    expect(s).toMatchObject({ rate: 1, correcting: false, refilling: false, raise: 0, memory: 0, backoff: 0, stallsSeen: 0, wasHidden: false });
    for (const k of ['lastRateChange', 'lastSeek', 'raiseAt', 'halvedAt', 'memoryAt'] as const) expect(s[k]).toBe(-Infinity);
    for (const k of ['error', 'pipeline', 'floor', 'stallSince', 'heldSince', 'startedAt', 'lastNow'] as const) expect(s[k]).toBeNaN();
  });

  it('is a fresh object each time, so one player cannot change another’s', () => {
    const a = initialControlState();
    a.raise = 1;
    expect(initialControlState().raise).toBe(0);
  });
});

describe('ControlParams.policy', () => {
  it('takes every policy of the protocol list', () => {
    const params: ControlParams[] = POLICIES.map((policy) => ({ ...DEFAULTS, safeMode: 'off', policy }));
    expect(params.map((p) => p.policy)).toEqual(['nowcast', 'none', 'seek', 'mpegts']);
  });
});
