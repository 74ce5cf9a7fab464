import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineEvent } from '../../player/engine.js';
import { canUseWorker, openMediaPath, releaseEarly } from '../../player/media-path.js';
import type { WorkerCommand } from '../../player/media-path.js';
import { ENGINE_OPTIONS, FakeMediaSource, FakeSocket, fakeVideo, stubBrowser } from './fakes.js';

/** A dedicated Worker that records what the page posts and can fail on demand. */
class FakeWorker {
  static all: FakeWorker[] = [];
  posted: WorkerCommand[] = [];
  terminated = 0;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: ((e: { message: string; preventDefault(): void }) => void) | null = null;
  constructor(readonly url: string) {
    FakeWorker.all.push(this);
  }
  postMessage(c: WorkerCommand): void {
    this.posted.push(c);
  }
  terminate(): void {
    this.terminated += 1;
  }
  fail(message: string): void {
    this.onerror?.({ message, preventDefault() {} });
  }
}

const view = { started: () => false };

describe('openMediaPath', () => {
  let revoked: string[];
  beforeEach(() => {
    vi.useFakeTimers();
    ({ revoked } = stubBrowser());
    FakeWorker.all = [];
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  describe('on the page', () => {
    it('runs the engine here; destroy releases the decoder once however often it is called', () => {
      const video = fakeVideo();
      const path = openMediaPath(video, ENGINE_OPTIONS, false, () => {}, view);
      expect(path.inWorker).toBe(false);
      expect(video.src).toBe('blob:fake-1');
      FakeSocket.all[0]!.open();
      path.destroy();
      path.destroy();
      expect(FakeSocket.all[0]!.closes).toBe(1);
      expect(video.load).toHaveBeenCalledTimes(1);
      expect(revoked).toEqual(['blob:fake-1']);
      path.command({ type: 'ping' });
      expect(FakeSocket.all[0]!.sent).toEqual([]);
    });
  });

  describe('with a socket the page opened early', () => {
    const early = (url: string) => ({ ws: new FakeSocket(url) as unknown as WebSocket, url, events: [] });

    it('gives it to the page\'s engine, which opens no other', () => {
      const socket = early(ENGINE_OPTIONS.urls[0]!);
      const path = openMediaPath(fakeVideo(), ENGINE_OPTIONS, false, () => {}, view, 'auto', { mediaSource: { ms: new FakeMediaSource() as unknown as MediaSource, url: 'blob:page' }, socket });
      expect(path.inWorker).toBe(false);
      expect(FakeSocket.all).toEqual([socket.ws]);
      path.destroy();
      expect((socket.ws as unknown as FakeSocket).closes).toBe(1);
    });

    it('closes it when the engine runs in a worker, which opens its own', () => {
      FakeMediaSource.canConstructInDedicatedWorker = true;
      vi.stubGlobal('Worker', FakeWorker);
      vi.stubGlobal('__NOWCAST_WORKER__', '/* the worker bundle */');
      const socket = early(ENGINE_OPTIONS.urls[0]!);
      const path = openMediaPath(fakeVideo(), ENGINE_OPTIONS, true, () => {}, view, 'auto', { socket });
      expect(path.inWorker).toBe(true);
      expect((socket.ws as unknown as FakeSocket).closes).toBe(1);
      expect((socket.ws as unknown as FakeSocket).onmessage).toBeNull();
      path.destroy();
    });
  });

  describe('in a worker', () => {
    beforeEach(() => {
      FakeMediaSource.canConstructInDedicatedWorker = true;
      vi.stubGlobal('Worker', FakeWorker);
      vi.stubGlobal('__NOWCAST_WORKER__', '/* the worker bundle */');
    });

    it('is used only where the browser can and the build carries the worker', () => {
      expect(canUseWorker()).toBe(true);
      vi.stubGlobal('__NOWCAST_WORKER__', undefined);
      expect(canUseWorker()).toBe(false);
    });

    it('starts the worker, forwards commands and events, attaches the handle', () => {
      const video = fakeVideo();
      const events: EngineEvent[] = [];
      const path = openMediaPath(video, ENGINE_OPTIONS, true, (ev) => events.push(ev), view);
      expect(path.inWorker).toBe(true);
      const w = FakeWorker.all[0]!;
      expect(w.posted).toEqual([{ type: 'start', options: ENGINE_OPTIONS }]);
      path.command({ type: 'ping' });
      expect(w.posted[1]).toEqual({ type: 'ping' });
      const handle = { fake: 'handle' };
      w.onmessage?.({ data: [{ type: 'attach', handle }, { type: 'open' }] });
      expect(video.srcObject).toBe(handle);
      expect(events).toEqual([{ type: 'open' }]);
      path.destroy();
    });

    it('destroy terminates the worker and releases the decoder once however often it is called', () => {
      const video = fakeVideo();
      const events: EngineEvent[] = [];
      const path = openMediaPath(video, ENGINE_OPTIONS, true, (ev) => events.push(ev), view);
      const w = FakeWorker.all[0]!;
      path.destroy();
      path.destroy();
      expect(w.terminated).toBe(1);
      expect(revoked).toEqual([w.url]);
      expect(video.load).toHaveBeenCalledTimes(1);
      expect(video.srcObject).toBe(null);
      // Nothing goes to, or comes from, a destroyed worker.
      path.command({ type: 'ping' });
      w.onmessage?.({ data: [{ type: 'open' }] });
      expect(w.posted).toHaveLength(1);
      expect(events).toEqual([]);
    });

    it('falls back to the page when the worker fails before it says anything; destroy still once', () => {
      const video = fakeVideo();
      const events: EngineEvent[] = [];
      const path = openMediaPath(video, ENGINE_OPTIONS, true, (ev) => events.push(ev), view);
      const w = FakeWorker.all[0]!;
      w.fail('boom');
      expect(w.terminated).toBe(1);
      expect(path.inWorker).toBe(false);
      expect(events).toEqual([{ type: 'log', text: 'MSE worker error: boom; running on the main thread' }]);
      expect(FakeSocket.all).toHaveLength(1); // the page's own engine
      path.destroy();
      path.destroy();
      expect(FakeSocket.all[0]!.closes).toBe(1);
      expect(w.terminated).toBe(1);
    });

    it('uses a worker the page started early instead of starting one, and never revokes a URL it did not make', () => {
      vi.stubGlobal('__NOWCAST_WORKER__', undefined); // the page's worker needs no copy in the bundle
      const early = new FakeWorker('/player/mse-worker.js');
      const video = fakeVideo();
      const path = openMediaPath(video, ENGINE_OPTIONS, true, () => {}, view, 'auto', { worker: early as unknown as Worker });
      expect(path.inWorker).toBe(true);
      expect(FakeWorker.all).toEqual([early]);
      expect(early.posted).toEqual([{ type: 'start', options: ENGINE_OPTIONS }]);
      path.destroy();
      expect(early.terminated).toBe(1);
      expect(revoked).toEqual([]);
      // A path given none starts its own.
      vi.stubGlobal('__NOWCAST_WORKER__', '/* the worker bundle */');
      openMediaPath(fakeVideo(), ENGINE_OPTIONS, true, () => {}, view).destroy();
      expect(FakeWorker.all).toHaveLength(2);
    });

    it('revokes the URL of a MediaSource the page attached early when the player runs in a worker, and ends what nobody took', () => {
      const path = openMediaPath(fakeVideo(), ENGINE_OPTIONS, true, () => {}, view, 'auto', { mediaSource: { ms: {} as MediaSource, url: 'blob:page' } });
      expect(path.inWorker).toBe(true);
      expect(revoked).toContain('blob:page');
      path.destroy();
      const early = new FakeWorker('/player/mse-worker.js');
      releaseEarly({ worker: early as unknown as Worker, mediaSource: { ms: {} as MediaSource, url: 'blob:late' } });
      expect(early.terminated).toBe(1);
      expect(revoked).toContain('blob:late');
    });

    it('ends an early worker when the player runs on the page after all', () => {
      const early = new FakeWorker('/player/mse-worker.js');
      const path = openMediaPath(fakeVideo(), ENGINE_OPTIONS, false, () => {}, view, 'auto', { worker: early as unknown as Worker });
      expect(path.inWorker).toBe(false);
      expect(early.terminated).toBe(1);
      expect(early.posted).toEqual([]);
      path.destroy();
    });

    it('falls back to the page when an early worker fails to load its script', () => {
      const early = new FakeWorker('/player/mse-worker.js');
      const events: EngineEvent[] = [];
      const path = openMediaPath(fakeVideo(), ENGINE_OPTIONS, true, (ev) => events.push(ev), view, 'auto', { worker: early as unknown as Worker });
      early.fail('');
      expect(path.inWorker).toBe(false);
      expect(early.terminated).toBe(1);
      expect(events).toEqual([{ type: 'log', text: 'MSE worker error: failed to start; running on the main thread' }]);
      path.destroy();
    });

    it('reports a worker error after it has spoken as a media error', () => {
      const events: EngineEvent[] = [];
      const path = openMediaPath(fakeVideo(), ENGINE_OPTIONS, true, (ev) => events.push(ev), view);
      const w = FakeWorker.all[0]!;
      w.onmessage?.({ data: [{ type: 'open' }] });
      w.fail('boom');
      expect(path.inWorker).toBe(true);
      expect(events).toEqual([{ type: 'open' }, { type: 'mediaError', code: 'MEDIA_ERROR', message: 'MSE worker error: boom' }]);
      path.destroy();
    });
  });
});
