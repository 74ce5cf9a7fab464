// The relay's media tap (relay/tap.ts, what LL-HLS reads): it sees generations and chunks as
// WebSocket viewers do, after the relay's own decisions, and the stream's state and end.
import { describe, expect, it } from 'vitest';
import { createRootLogger } from '../../util/log.js';
import { Stream } from '../../relay/stream.js';
import type { MediaTap } from '../../relay/tap.js';
import { fakeChunk, fakeInit } from '../helpers/fake-media.js';

const init = fakeInit;
const chunk = fakeChunk;

function recording(): { tap: MediaTap; seen: string[] } {
  const seen: string[] = [];
  const tap: MediaTap = {
    init: (s, g, i) => seen.push(`${s} init ${g} ${i.bytes.toString('latin1', 16)}`),
    chunk: (s, c) => seen.push(`${s} chunk ${c.seq}`),
    state: (s, st) => seen.push(`${s} ${st}`),
    closed: (s) => seen.push(`${s} closed`),
  };
  return { tap, seen };
}

const newStream = (tap: MediaTap): Stream => new Stream('s', { slowBytes: 512 * 1024, resumeBytes: 64 * 1024, maxInFlightMs: 1000, ackIntervalMs: 500, maxGopCacheBytes: 1 << 20 }, {
  targetMs: 200, minMs: 100, maxMs: 2000, minRate: 0.95, maxRate: 1.15, pinned: false,
}, createRootLogger('silent'), undefined, undefined, tap);

describe('the relay\'s media tap', () => {
  it('sees a generation at the keyframe that starts it, and only the chunks viewers get', () => {
    const { tap, seen } = recording();
    const s = newStream(tap);
    s.onInit(init('A'));
    s.onChunk(chunk(1, false)); // no keyframe yet: nobody gets it
    s.onChunk(chunk(2, true));
    s.onChunk(chunk(3, false));
    s.onInit(init('A')); // byte-identical, same session: no new generation
    s.onChunk(chunk(4, false));
    s.onInit(init('B'));
    s.onInit(init('C')); // a burst: one generation
    s.onChunk(chunk(1, true));
    expect(seen).toEqual(['s init 1 A', 's live', 's chunk 2', 's chunk 3', 's chunk 4', 's init 2 C', 's chunk 1']);
  });

  it('sees the publisher leave and the stream end', () => {
    const { tap, seen } = recording();
    const s = newStream(tap);
    s.onInit(init('A'));
    s.onChunk(chunk(1, true));
    s.setState('offline', 'PUBLISHER_LEFT');
    s.close();
    s.close();
    expect(seen.slice(-2)).toEqual(['s offline', 's closed']);
  });
});
