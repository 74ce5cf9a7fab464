import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_HELD, Sequencer } from '../../cluster/sequencer.js';
import type { Frame } from '../../cluster/wire.js';
import type { MediaSink } from '../../media/sink.js';
import type { InitSegment } from '../../media/types.js';

const initSeg = (tag: string): InitSegment => ({ kind: 'init', bytes: Buffer.from(tag), codecs: 'avc1', mime: 'video/mp4', tracks: [] });
const init = (generation: number, tag = `init${generation}`): Frame => ({ kind: 'init', generation, seq: 0, sentAt: 0, init: initSeg(tag) });
const chunk = (generation: number, seq: number, keyframe = false): Frame => ({
  kind: 'chunk', generation, seq, sentAt: 0, chunk: { kind: 'chunk', bytes: Buffer.from(`c${seq}`), seq, dts: seq / 30, duration: 1 / 30, keyframe },
});
const state = (s: 'live' | 'offline' | 'error', generation = 1): Frame => ({ kind: 'state', generation, seq: 0, sentAt: 0, state: { state: s, code: 'CODE' } });

/** A sink that logs what the local relay would be told. */
function recorder(): MediaSink & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    init: (i) => log.push(`init:${i.bytes.toString()}`),
    chunk: (c) => log.push(`chunk:${c.seq}`),
    failure: (code) => log.push(`failure:${code}`),
    offline: (reason) => log.push(`offline:${reason}`),
  };
}

describe('Sequencer', () => {
  let sink: ReturnType<typeof recorder>;
  let s: Sequencer;
  beforeEach(() => {
    sink = recorder();
    s = new Sequencer(sink);
  });

  it('applies a snapshot, then only the live chunks that come after it', () => {
    s.beginSync();
    s.live(chunk(1, 10)); // arrived while the snapshot was on its way: a repeat of the GOP
    s.live(chunk(1, 11));
    s.snapshot(init(1));
    s.snapshot(state('live'));
    s.snapshot(chunk(1, 9, true));
    s.snapshot(chunk(1, 10));
    s.endSync({ generation: 1, seq: 10 });
    s.live(chunk(1, 12));
    expect(sink.log).toEqual(['init:init1', 'chunk:9', 'chunk:10', 'chunk:11', 'chunk:12']);
    expect(s.counters).toEqual({ gaps: 0, ignored: 1 });
  });

  it('ignores chunks before any init, and chunks of another generation', () => {
    s.live(chunk(1, 1));
    s.live(init(2));
    s.live(chunk(1, 2));
    s.live(chunk(2, 1, true));
    expect(sink.log).toEqual(['init:init2', 'chunk:1']);
    expect(s.counters.ignored).toBe(2);
  });

  it('re-inits the local stream on a hole in the sequence, so viewers wait for a keyframe', () => {
    s.live(init(1));
    s.live(chunk(1, 1, true));
    s.live(chunk(1, 2));
    s.live(chunk(1, 5));
    expect(sink.log).toEqual(['init:init1', 'chunk:1', 'chunk:2', 'init:init1', 'chunk:5']);
    expect(s.counters.gaps).toBe(1);
  });

  it('counts holes into the totals it is given, so an edge sums them over its streams', () => {
    const totals = { gaps: 3, ignored: 0 };
    const t = new Sequencer(sink, totals);
    t.live(init(1));
    t.live(chunk(1, 1, true));
    t.live(chunk(1, 3));
    expect(totals).toEqual({ gaps: 4, ignored: 0 });
  });

  it('ignores a repeated init of the same generation, and follows a new one', () => {
    s.live(init(1));
    s.live(chunk(1, 1, true));
    s.live(init(1));
    s.live(chunk(1, 2));
    s.live(init(2));
    s.live(chunk(2, 1, true));
    expect(sink.log).toEqual(['init:init1', 'chunk:1', 'chunk:2', 'init:init2', 'chunk:1']);
  });

  it('passes offline and error on, and needs a new init after offline', () => {
    s.live(init(1));
    s.live(state('error'));
    s.live(state('offline'));
    s.live(chunk(1, 1));
    expect(sink.log).toEqual(['init:init1', 'failure:CODE', 'offline:CODE']);
  });

  it('after a lost link, re-inits from the next snapshot even of the same generation', () => {
    s.live(init(1));
    s.live(chunk(1, 1, true));
    s.lost('ORIGIN_UNREACHABLE', 'gone');
    s.beginSync();
    s.snapshot(init(1));
    s.snapshot(chunk(1, 30, true));
    s.endSync({ generation: 1, seq: 30 });
    s.live(chunk(1, 31));
    expect(sink.log).toEqual(['init:init1', 'chunk:1', 'failure:ORIGIN_UNREACHABLE', 'init:init1', 'chunk:30', 'chunk:31']);
  });

  it('after a KV fallback (no end marker) takes the next live chunk as the start of the count', () => {
    s.beginSync();
    s.live(chunk(1, 500));
    s.snapshot(init(1));
    s.endSync();
    s.live(chunk(1, 501));
    expect(sink.log).toEqual(['init:init1', 'chunk:500', 'chunk:501']);
    expect(s.counters.gaps).toBe(0);
  });

  it('holds at most MAX_HELD live frames while syncing, dropping the oldest', () => {
    s.beginSync();
    for (let i = 1; i <= MAX_HELD + 5; i++) s.live(chunk(1, i));
    s.snapshot(init(1));
    s.endSync();
    expect(sink.log.length).toBe(1 + MAX_HELD);
    expect(sink.log[1]).toBe('chunk:6');
  });
});
