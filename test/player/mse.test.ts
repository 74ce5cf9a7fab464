import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { elementAttachment, MseSink } from '../../player/mse.js';

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
    this.calls.push(`append:${data[0]}`);
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

  it('queues appends until the MediaSource opens, then runs them one at a time in order', async () => {
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
    expect(ms.buffers[0]!.calls).toEqual(['append:1', 'append:2', 'append:3']);
    expect(idle).toHaveBeenCalledTimes(1);
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

describe('MseSink.destroy', () => {
  beforeEach(() => {
    vi.stubGlobal('MediaSource', FakeMediaSource);
    vi.stubGlobal('URL', { createObjectURL: () => 'blob:fake', revokeObjectURL: () => {} });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('releases the element once however often it is called', () => {
    const element = { attach: vi.fn(() => () => {}), currentTime: () => 0, release: vi.fn() };
    const sink = new MseSink(element, { idle: vi.fn(), error: vi.fn() });
    sink.destroy();
    sink.destroy();
    expect(element.release).toHaveBeenCalledTimes(1);
  });
});
