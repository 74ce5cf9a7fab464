import { describe, expect, it } from 'vitest';
import { ProbeTimer } from '../../player/probe.js';
import type { ProbeMessage } from '../../protocol/messages.js';

const part = (id: number, p: 0 | 1): ProbeMessage => ({ type: 'probe', id, part: p, ...(p === 1 ? { pad: '...' } : {}) });

describe('the player\'s probe timer', () => {
  it('answers part 1 with the time since its part 0', () => {
    const t = new ProbeTimer();
    expect(t.received(part(3, 0), 100)).toBeNull();
    expect(t.received(part(3, 1), 141.456)).toEqual({ type: 'probed', id: 3, ms: 41.46 });
  });

  it.each([
    ['part 1 without its part 0', [[part(3, 1), 10]], 0],
    ['part 1 of another probe', [[part(3, 0), 10], [part(4, 1), 20]], 0],
    ['a part 1 after the socket dropped', [[part(3, 0), 10], ['reset', 0], [part(3, 1), 20]], 0],
    ['a second part 1 (only the first)', [[part(3, 0), 10], [part(3, 1), 20], [part(3, 1), 30]], 1],
    ['an id that is not a number', [[{ type: 'probe', id: '3', part: 0 }, 10], [{ type: 'probe', id: '3', part: 1 }, 20]], 0],
    ['a part that is neither 0 nor 1', [[part(3, 0), 10], [{ type: 'probe', id: 3, part: 2 }, 20]], 0],
  ] as Array<[string, Array<[ProbeMessage | 'reset', number]>, number]>)('does not answer %s', (_what, steps, expected) => {
    const t = new ProbeTimer();
    let answers = 0;
    for (const [m, at] of steps) {
      if (m === 'reset') t.reset();
      else if (t.received(m, at)) answers++;
    }
    expect(answers).toBe(expected);
  });

  it('never answers a negative time, even if the clock steps back', () => {
    const t = new ProbeTimer();
    t.received(part(1, 0), 500);
    expect(t.received(part(1, 1), 400)).toEqual({ type: 'probed', id: 1, ms: 0 });
  });
});
