// MediaMirror: the page's copy of what the media engine (maybe in a worker) reports.
import { describe, expect, it } from 'vitest';
import type { InfoMessage } from '../../protocol/messages.js';
import type { EngineEvent } from '../../player/engine.js';
import { MediaMirror } from '../../player/mirror.js';

const INFO = { type: 'info', stream: 'a', generation: 1 } as unknown as InfoMessage;

describe('MediaMirror.apply', () => {
  const cases: { event: EngineEvent; consumed: boolean }[] = [
    { event: { type: 'anchor', media: 1, wall: 1000 }, consumed: true },
    { event: { type: 'arrival', at: 5, wall: 1 }, consumed: true },
    { event: { type: 'keyframe', at: 2 }, consumed: true },
    { event: { type: 'current', info: INFO }, consumed: true },
    { event: { type: 'dropped', chunks: 3 }, consumed: true },
    { event: { type: 'disconnected' }, consumed: false },
    { event: { type: 'restarted' }, consumed: false },
    { event: { type: 'message', msg: INFO, at: 0 }, consumed: false },
    { event: { type: 'open' }, consumed: false },
    { event: { type: 'idle' }, consumed: false },
    { event: { type: 'frame', kind: 'media', bytes: 10 }, consumed: false },
  ];
  for (const { event, consumed } of cases) {
    it(`${consumed ? 'keeps' : 'leaves to the player'} a '${event.type}' event`, () => {
      expect(new MediaMirror().apply(event)).toBe(consumed);
    });
  }
});

describe('MediaMirror', () => {
  it('maps media time to the wall clock from the anchors it is sent', () => {
    const m = new MediaMirror();
    m.apply({ type: 'anchor', media: 10, wall: 50_000 });
    m.apply({ type: 'anchor', media: 11, wall: 51_000 });
    expect(m.clock.wallAt(10.5)).toBe(50_500);
    expect(m.clock.latencyAt(11, 51_200)).toBeCloseTo(0.2, 9);
  });

  it('finds the latest keyframe at or before the buffered end, and none before the first', () => {
    const m = new MediaMirror();
    for (const at of [1, 2, 3]) m.apply({ type: 'keyframe', at });
    expect(m.latestKeyframe(2.5)).toBe(2);
    expect(m.latestKeyframe(9)).toBe(3);
    expect(m.latestKeyframe(0.5)).toBeNaN();
  });

  it('keeps only the last 8 keyframes', () => {
    const m = new MediaMirror();
    for (let at = 0; at < 20; at++) m.apply({ type: 'keyframe', at });
    expect(m.latestKeyframe(11.5)).toBeNaN();
    expect(m.latestKeyframe(12.5)).toBe(12);
  });

  it('forgets keyframes and anchors when the engine restarts its timeline', () => {
    const m = new MediaMirror();
    m.apply({ type: 'keyframe', at: 1 });
    m.apply({ type: 'anchor', media: 1, wall: 1000 });
    m.apply({ type: 'restarted' });
    expect(m.latestKeyframe(5)).toBeNaN();
    expect(m.clock.wallAt(1)).toBeNaN();
  });

  it('marks the stream unsupported from an info the engine could not play, and clears it on the next', () => {
    const m = new MediaMirror();
    m.apply({ type: 'message', msg: INFO, at: 0, unsupported: 'hvc1' });
    expect(m.unsupported).toBe(true);
    m.apply({ type: 'message', msg: INFO, at: 1 });
    expect(m.unsupported).toBe(false);
  });

  it('drops the arrival history on a disconnect, so jitter restarts from the new path', () => {
    const m = new MediaMirror();
    // 20 s of 30 fps arrivals, every 10th late by 100 ms: past the join grace, jitter is ≈ 0.1 s.
    for (let i = 0; i < 600; i++) {
      const wall = 1_000_000 + (i * 1000) / 30;
      m.apply({ type: 'arrival', at: wall + 20 + (i % 10 === 0 ? 100 : 0), wall });
    }
    const end = 1_000_000 + 20_000 + 200;
    expect(m.jitter.value(end)).toBeCloseTo(0.1, 2);
    m.apply({ type: 'disconnected' });
    expect(m.jitter.value(end + 1000)).toBeNaN();
  });

  it('allows for the relay\'s jitter (hello.jitterMs) until it has measured its own, and forgets it on a disconnect', () => {
    const m = new MediaMirror();
    const hello = (jitterMs: unknown) => ({ type: 'message', msg: { type: 'hello', version: 1, stream: 'a', serverTime: 0, service: {}, jitterMs }, at: 0 }) as unknown as EngineEvent;
    m.apply(hello(240));
    expect(m.jitterAt(1_000_000)).toBeCloseTo(0.24, 9);
    // Its own measure, once it has one, wins: ≈ 0.1 s.
    for (let i = 0; i < 600; i++) {
      const wall = 1_000_000 + (i * 1000) / 30;
      m.apply({ type: 'arrival', at: wall + 20 + (i % 10 === 0 ? 100 : 0), wall });
    }
    expect(m.jitterAt(1_020_200)).toBeCloseTo(0.1, 2);
    m.apply({ type: 'disconnected' });
    expect(m.jitterAt(1_021_000)).toBeNaN();
  });

  it.each([[-1], [5001], ['240'], [Number.NaN], [null], [Infinity], [{}]])('ignores an implausible hello.jitterMs (%s), for the floor and as the source\'s jitter', (jitterMs) => {
    const m = new MediaMirror();
    m.apply({ type: 'message', msg: { type: 'hello', version: 1, stream: 'a', serverTime: 0, service: {}, jitterMs }, at: 0 } as unknown as EngineEvent);
    expect(m.jitterAt(0)).toBeNaN();
    expect(m.sourceJitter).toBeNaN();
  });
});
