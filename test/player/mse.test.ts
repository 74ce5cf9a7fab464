import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { elementAttachment, evictedAhead, mediaSourceCtor, MseSink } from '../../player/mse.js';

/** Records every SourceBuffer call; appends complete on a later microtask, like the real one. */
class FakeSourceBuffer extends EventTarget {
  updating = false;
  timestampOffset = 0;
  calls: string[] = [];
  ranges: Array<[number, number]> = [];
  /** Throw QuotaExceededError on the next N appends. */
  quotaFailures = 0;
  get buffered(): TimeRanges {
    const r = this.ranges;
    return { length: r.length, start: (i: number) => r[i]![0], end: (i: number) => r[i]![1] } as TimeRanges;
  }
  appendBuffer(data: Uint8Array): void {
    if (this.updating) throw new Error('InvalidStateError: overlapping append');
    if (this.quotaFailures > 0) {
      this.quotaFailures -= 1;
      throw Object.assign(new Error('full'), { name: 'QuotaExceededError' });
    }
    this.calls.push(`append:${[...data].join('+')}`);
    this.finishLater();
  }
  remove(start: number, end: number): void {
    this.calls.push(`remove:${start}-${end}`);
    this.ranges = this.ranges.map(([s, e]): [number, number] => [Math.max(s, end), e]).filter(([s, e]) => e > s);
    this.finishLater();
  }
  changeType(mime: string): void {
    this.calls.push(`changeType:${mime}`);
  }
  abort(): void {}
  private finishLater(): void {
    this.updating = true;
    queueMicrotask(() => {
      this.updating = false;
      this.dispatchEvent(new Event('updateend'));
    });
  }
}

class FakeMediaSource extends EventTarget {
  static last: FakeMediaSource | undefined;
  readyState = 'closed';
  duration = NaN;
  buffers: FakeSourceBuffer[] = [];
  mimes: string[] = [];
  constructor() {
    super();
    FakeMediaSource.last = this;
  }
  static isTypeSupported(): boolean {
    return true;
  }
  addSourceBuffer(mime: string): FakeSourceBuffer {
    this.mimes.push(mime);
    const sb = new FakeSourceBuffer();
    this.buffers.push(sb);
    return sb;
  }
  removeSourceBuffer(): void {}
  open(): void {
    this.readyState = 'open';
    this.dispatchEvent(new Event('sourceopen'));
  }
}

const video = { currentTime: 0, src: '', removeAttribute: vi.fn(), load: vi.fn() } as unknown as HTMLVideoElement;
const bytes = (tag: number): Uint8Array<ArrayBuffer> => new Uint8Array([tag]);
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('MseSink', () => {
  beforeEach(() => {
    vi.stubGlobal('MediaSource', FakeMediaSource);
    vi.stubGlobal('URL', { createObjectURL: () => 'blob:fake', revokeObjectURL: () => {} });
    video.currentTime = 0;
  });
  afterEach(() => vi.unstubAllGlobals());

  it('queues appends until the MediaSource opens, then runs them in order, the queued media as one append', async () => {
    const idle = vi.fn();
    const sink = new MseSink(elementAttachment(video), { idle, error: vi.fn() });
    sink.appendInit('video/mp4; codecs="avc1.42c01e"', bytes(1));
    sink.appendMedia(bytes(2));
    sink.appendMedia(bytes(3));
    const ms = FakeMediaSource.last!;
    expect(ms.buffers).toHaveLength(0);
    ms.open();
    await settle();
    expect(ms.duration).toBe(Infinity);
    expect(ms.buffers[0]!.calls).toEqual(['append:1', 'append:2+3']);
    expect(idle).toHaveBeenCalledTimes(1);
  });

  it('merges a run of queued media with the notes between them, and stops the run at any other operation', async () => {
    const sink = new MseSink(elementAttachment(video), { idle: vi.fn(), error: vi.fn() });
    const ms = FakeMediaSource.last!;
    const seen: string[] = [];
    sink.appendInit('video/mp4; codecs="avc1.42c01e"', bytes(1));
    sink.appendMedia(bytes(2));
    sink.note(() => seen.push('note after 2'));
    sink.appendMedia(bytes(3));
    sink.enqueue((sb) => { sb.timestampOffset = 5; seen.push('offset'); return false; }); // a placement: not merged across
    sink.appendMedia(bytes(4));
    sink.appendMedia(bytes(5));
    ms.open();
    await settle();
    expect(ms.buffers[0]!.calls).toEqual(['append:1', 'append:2+3', 'append:4+5']);
    expect(seen).toEqual(['note after 2', 'offset']);
    // One chunk alone is appended as it is: no copy in steady state.
    sink.appendMedia(bytes(6));
    await settle();
    expect(ms.buffers[0]!.calls.at(-1)).toBe('append:6');
  });

  it('switches codecs with changeType after the media already queued for the old one', async () => {
    const sink = new MseSink(elementAttachment(video), { idle: vi.fn(), error: vi.fn() });
    FakeMediaSource.last!.open();
    sink.appendInit('video/mp4; codecs="avc1.42c01e"', bytes(1));
    sink.appendMedia(bytes(2));
    const recreated = sink.appendInit('video/mp4; codecs="vp09.00.10.08"', bytes(3));
    sink.appendMedia(bytes(4));
    await settle();
    expect(recreated).toBe(false);
    expect(FakeMediaSource.last!.buffers[0]!.calls).toEqual([
      'append:1',
      'append:2',
      'changeType:video/mp4; codecs="vp09.00.10.08"',
      'append:3',
      'append:4',
    ]);
  });

  it('evicts harder and retries once on QuotaExceededError, then drops and counts the chunk', async () => {
    const sink = new MseSink(elementAttachment(video), { idle: vi.fn(), error: vi.fn() });
    FakeMediaSource.last!.open();
    sink.appendInit('video/mp4; codecs="avc1.42c01e"', bytes(1));
    await settle();
    const sb = FakeMediaSource.last!.buffers[0]!;
    sb.ranges = [[0, 30]];
    video.currentTime = 20;
    sb.quotaFailures = 1;
    sink.appendMedia(bytes(2));
    await settle();
    expect(sb.calls.slice(1)).toEqual(['remove:0-19', 'append:2']);
    expect(sink.droppedChunks).toBe(0);
    // Still full after the eviction: the chunk is dropped, the next one goes through.
    sb.ranges = [[0, 30]];
    sb.quotaFailures = 2;
    sink.appendMedia(bytes(3));
    sink.appendMedia(bytes(4));
    await settle();
    expect(sink.droppedChunks).toBe(1);
    expect(sb.calls.slice(3)).toEqual(['remove:0-19', 'append:4']);
  });

  it('trims the back buffer in batches rather than on every call', async () => {
    const sink = new MseSink(elementAttachment(video), { idle: vi.fn(), error: vi.fn() });
    FakeMediaSource.last!.open();
    sink.appendInit('video/mp4; codecs="avc1.42c01e"', bytes(1));
    await settle();
    const sb = FakeMediaSource.last!.buffers[0]!;
    sb.ranges = [[0, 15]];
    video.currentTime = 10.5;
    sink.trimBackBuffer(10); // only 0.5 s over: wait for a bigger batch
    await settle();
    expect(sb.calls).toEqual(['append:1']);
    video.currentTime = 12;
    sink.trimBackBuffer(10);
    await settle();
    expect(sb.calls).toEqual(['append:1', 'remove:0-2']);
  });
});

describe('MseSink with a MediaSource the page attached before the player loaded', () => {
  let revoked: string[];
  beforeEach(() => {
    revoked = [];
    vi.stubGlobal('MediaSource', FakeMediaSource);
    vi.stubGlobal('URL', { createObjectURL: () => 'blob:player', revokeObjectURL: (u: string) => revoked.push(u) });
    video.src = '';
  });
  afterEach(() => vi.unstubAllGlobals());

  it('uses it rather than attaching another, even if it opened before anyone listened', async () => {
    const early = new FakeMediaSource();
    video.src = 'blob:page';
    early.open();
    const idle = vi.fn();
    const sink = new MseSink(elementAttachment(video, undefined, { ms: early as unknown as MediaSource, url: 'blob:page' }), { idle, error: vi.fn() });
    expect(FakeMediaSource.last).toBe(early);
    expect(video.src).toBe('blob:page');
    expect(early.duration).toBe(Infinity);
    sink.appendInit('video/mp4; codecs="avc1.42c01e"', bytes(1));
    await settle();
    expect(early.buffers[0]!.calls).toEqual(['append:1']);
    // Taken once: a recreate attaches a fresh one, and the page's URL goes with the old.
    sink.recreate();
    expect(FakeMediaSource.last).not.toBe(early);
    expect(video.src).toBe('blob:player');
    expect(revoked).toEqual(['blob:page']);
  });

  it('drops one of another kind than the player chose and attaches its own', () => {
    class Other extends FakeMediaSource {}
    const early = { ms: new Other() as unknown as MediaSource, url: 'blob:page' };
    new MseSink(elementAttachment(video, FakeMediaSource as unknown as typeof MediaSource, early), { idle: vi.fn(), error: vi.fn() });
    expect(FakeMediaSource.last).not.toBeInstanceOf(Other);
    expect(video.src).toBe('blob:player');
    expect(revoked).toEqual(['blob:page']);
  });
});

describe('MseSink.destroy', () => {
  beforeEach(() => {
    vi.stubGlobal('MediaSource', FakeMediaSource);
    vi.stubGlobal('URL', { createObjectURL: () => 'blob:fake', revokeObjectURL: () => {} });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('releases the element once however often it is called', () => {
    const element = { mediaSource: FakeMediaSource as unknown as typeof MediaSource, attach: vi.fn(() => () => {}), currentTime: () => 0, release: vi.fn() };
    const sink = new MseSink(element, { idle: vi.fn(), error: vi.fn() });
    sink.destroy();
    sink.destroy();
    expect(element.release).toHaveBeenCalledTimes(1);
  });
});

/** Safari's ManagedMediaSource: the same API plus streaming events and bufferedchange. */
class FakeManagedMediaSource extends FakeMediaSource {
  streaming = true;
  setStreaming(on: boolean): void {
    this.streaming = on;
    this.dispatchEvent(new Event(on ? 'startstreaming' : 'endstreaming'));
  }
}

const ranges = (r: Array<[number, number]>): TimeRanges => ({ length: r.length, start: (i: number) => r[i]![0], end: (i: number) => r[i]![1] }) as TimeRanges;
const evict = (sb: FakeSourceBuffer, removed: Array<[number, number]>): void => {
  sb.dispatchEvent(Object.assign(new Event('bufferedchange'), { removedRanges: ranges(removed), addedRanges: ranges([]) }));
};

describe('the MediaSource a page gets', () => {
  const both = { MediaSource: FakeMediaSource, ManagedMediaSource: FakeManagedMediaSource };
  it.each([
    ['auto', both, FakeMediaSource],
    ['auto', { ManagedMediaSource: FakeManagedMediaSource }, FakeManagedMediaSource],
    ['managed', both, FakeManagedMediaSource],
    ['managed', { MediaSource: FakeMediaSource }, FakeMediaSource],
    ['classic', both, FakeMediaSource],
    ['classic', { ManagedMediaSource: FakeManagedMediaSource }, undefined],
    ['auto', {}, undefined],
  ] as const)('is, for %s with %o, the one the choice names where it exists', (choice, g, want) => {
    expect(mediaSourceCtor(choice, g)).toBe(want);
  });

  it('tells media removed at or ahead of the playhead from the trim behind it', () => {
    expect(evictedAhead(ranges([[0, 9.5]]), 10)).toBe(false);
    expect(evictedAhead(ranges([[0, 10.04]]), 10)).toBe(false); // the frame on screen
    expect(evictedAhead(ranges([[0, 2], [10.1, 10.4]]), 10)).toBe(true);
    expect(evictedAhead(undefined, 10)).toBe(false);
  });
});

describe('MseSink on a ManagedMediaSource (iPhone)', () => {
  beforeEach(() => {
    vi.stubGlobal('MediaSource', FakeMediaSource);
    vi.stubGlobal('ManagedMediaSource', FakeManagedMediaSource);
    vi.stubGlobal('URL', { createObjectURL: () => 'blob:fake', revokeObjectURL: () => {} });
    video.currentTime = 10;
    (video as { disableRemotePlayback?: boolean }).disableRemotePlayback = false;
  });
  afterEach(() => vi.unstubAllGlobals());

  const open = (): { sink: MseSink; error: ReturnType<typeof vi.fn>; ms: FakeManagedMediaSource; sb: FakeSourceBuffer } => {
    const error = vi.fn();
    const sink = new MseSink(elementAttachment(video, mediaSourceCtor('managed')), { idle: vi.fn(), error });
    const ms = FakeMediaSource.last as FakeManagedMediaSource;
    ms.open();
    sink.appendInit('video/mp4; codecs="avc1.42c01e"', bytes(1));
    return { sink, error, ms, sb: ms.buffers[0]! };
  };

  it('disables remote playback, without which it never opens', () => {
    const { sink } = open();
    expect(video.disableRemotePlayback).toBe(true);
    expect(sink.managed.managed).toBe(true);
  });

  it('keeps appending while it says it does not want data, and counts what it said', async () => {
    const { sink, ms, sb } = open();
    await settle();
    ms.setStreaming(false);
    sink.appendMedia(bytes(2));
    await settle();
    ms.setStreaming(true);
    expect(sb.calls).toEqual(['append:1', 'append:2']);
    expect(sink.managed).toMatchObject({ streaming: true, streamingChanges: 2 });
  });

  it('counts an eviction behind the playhead and starts over after one ahead of it', () => {
    const { sink, error, sb } = open();
    evict(sb, [[0, 8]]);
    expect(error).not.toHaveBeenCalled();
    evict(sb, [[10.2, 10.4]]);
    expect(error).toHaveBeenCalledWith('MEDIA_ERROR', expect.stringContaining('evicted'));
    expect(sink.managed).toMatchObject({ evictedBehind: 1, evictedAhead: 1 });
  });

  it('leaves a classic MediaSource as it was: remote playback untouched, no streaming events', () => {
    const sink = new MseSink(elementAttachment(video, mediaSourceCtor('classic')), { idle: vi.fn(), error: vi.fn() });
    expect(sink.managed.managed).toBe(false);
    expect(video.disableRemotePlayback).toBe(false);
  });
});
