import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MediaEngine } from '../../player/engine.js';
import type { EngineEvent } from '../../player/engine.js';
import type { MediaAttachment } from '../../player/mse.js';
import { ENGINE_OPTIONS, FakeMediaSource, FakeSocket, stubBrowser } from './fakes.js';

function harness() {
  const events: EngineEvent[] = [];
  const element = { mediaSource: FakeMediaSource as unknown as typeof MediaSource, attach: vi.fn(() => () => {}), currentTime: () => 0, release: vi.fn() } satisfies MediaAttachment;
  const engine = new MediaEngine(ENGINE_OPTIONS, (ev) => events.push(ev), element);
  return { engine, events, element, socket: FakeSocket.all[0]! };
}

describe('MediaEngine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    stubBrowser();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('opens a socket and attaches a MediaSource at once', () => {
    const { element, events, socket } = harness();
    expect(FakeSocket.all).toHaveLength(1);
    expect(socket.url).toBe('ws://relay/live/x');
    expect(FakeMediaSource.all).toHaveLength(1);
    expect(element.attach).toHaveBeenCalledTimes(1);
    socket.open();
    expect(events).toEqual([{ type: 'open' }]);
  });

  it('destroy closes the socket, then releases the element, once however often it is called', () => {
    const { engine, element, socket } = harness();
    socket.open();
    engine.destroy();
    engine.destroy();
    expect(socket.closes).toBe(1);
    expect(element.release).toHaveBeenCalledTimes(1);
    // Nothing reconnects after a destroy.
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('the destroy command is the same teardown, and commands after it do nothing', () => {
    const { engine, element, socket } = harness();
    socket.open();
    engine.command({ type: 'destroy' });
    engine.command({ type: 'destroy' });
    engine.command({ type: 'ping' });
    engine.command({ type: 'recreate' });
    expect(socket.closes).toBe(1);
    expect(socket.sent).toEqual([]);
    expect(element.release).toHaveBeenCalledTimes(1);
    expect(FakeMediaSource.all).toHaveLength(1);
  });

  it('stop closes the socket for good but keeps the element as it is', () => {
    const { engine, element, socket } = harness();
    socket.open();
    engine.command({ type: 'stop' });
    vi.advanceTimersByTime(60_000);
    expect(socket.closes).toBe(1);
    expect(FakeSocket.all).toHaveLength(1);
    expect(element.release).not.toHaveBeenCalled();
    engine.destroy();
    expect(element.release).toHaveBeenCalledTimes(1);
  });
});
