// GopCache alone: what a newcomer would be sent after each sequence of chunks. A chunk here is
// a name, its size and whether it is a keyframe ('K' names are keyframes, 'd' names deltas).
import { describe, expect, it } from 'vitest';
import { GopCache } from '../../media/gop-cache.js';

type Push = [name: string, bytes: number, keyframe: boolean];
const K = (name: string, bytes = 10): Push => [name, bytes, true];
const d = (name: string, bytes = 10): Push => [name, bytes, false];

/** A cache of maxBytes after the pushes (and a reset where the list says 'reset'). */
function cacheAfter(maxBytes: number, steps: Array<Push | 'reset'>): GopCache<string> {
  const c = new GopCache<string>(maxBytes);
  for (const s of steps) {
    if (s === 'reset') c.reset();
    else c.push(...s);
  }
  return c;
}

describe('GopCache', () => {
  it.each<[string, number, Array<Push | 'reset'>, string[], number]>([
    ['is empty before anything arrives', 100, [], [], 0],
    ['keeps nothing before the first keyframe: a GOP cannot start on a delta', 100, [d('d1'), d('d2')], [], 0],
    ['starts a GOP at a keyframe and keeps the deltas after it', 100, [d('d0'), K('K1'), d('d2'), d('d3')], ['K1', 'd2', 'd3'], 30],
    ['drops the previous GOP at the next keyframe', 100, [K('K1'), d('d2'), K('K3'), d('d4')], ['K3', 'd4'], 20],
    ['keeps a GOP of exactly maxBytes', 30, [K('K1'), d('d2'), d('d3')], ['K1', 'd2', 'd3'], 30],
    ['drops the whole GOP when a chunk would take it past maxBytes, not just that chunk', 30, [K('K1'), d('d2'), d('d3'), d('d4')], [], 0],
    ['keeps nothing after an overflow until the next keyframe, so no GOP has a hole', 30, [K('K1'), d('d2'), d('d3'), d('d4'), d('d5')], [], 0],
    ['starts again at the keyframe after an overflow', 30, [K('K1'), d('d2'), d('d3'), d('d4'), d('d5'), K('K6'), d('d7')], ['K6', 'd7'], 20],
    ['keeps nothing of a keyframe that is alone larger than maxBytes, nor the deltas after it', 30, [K('K1', 31), d('d2')], [], 0],
    ['forgets the GOP on reset()', 100, [K('K1'), d('d2'), 'reset'], [], 0],
    ['keeps nothing after reset() until the next keyframe', 100, [K('K1'), 'reset', d('d2'), d('d3')], [], 0],
    ['starts again at the first keyframe after reset()', 100, [K('K1'), 'reset', d('d2'), K('K3'), d('d4')], ['K3', 'd4'], 20],
    ['counts zero-byte chunks as chunks', 0, [K('K1', 0), d('d2', 0)], ['K1', 'd2'], 0],
  ])('%s', (_name, maxBytes, steps, items, bytes) => {
    const c = cacheAfter(maxBytes, steps);
    expect(c.items).toEqual(items);
    expect(c.bytes).toBe(bytes);
  });

  it('holds its byte count within maxBytes after every push of a long run', () => {
    const c = new GopCache<number>(1000);
    for (let i = 0; i < 500; i++) {
      c.push(i, 1 + ((i * 37) % 97), i % 40 === 0);
      expect(c.bytes).toBeLessThanOrEqual(1000);
      expect(c.items.length === 0 || c.items[0]! % 40 === 0).toBe(true);
    }
  });

  it('is safe to reset twice', () => {
    const c = cacheAfter(100, [K('K1'), 'reset', 'reset']);
    expect(c.items).toEqual([]);
    expect(c.bytes).toBe(0);
  });
});
