// The Player facade in Node: a fake <video>, MediaSource and WebSocket (test/player/fakes.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Player } from '../../player/index.js';
import type { PlayerOptions, PlayerState, StateEvent } from '../../player/index.js';
import { FakeSocket, stubBrowser } from './fakes.js';

class FakeVideo extends EventTarget {
  muted = false;
  playsInline = false;
  currentTime = 0;
  playbackRate = 1;
  paused = true;
  seeking = false;
  readyState = 0;
  error = null;
  src = '';
  buffered = { length: 0, start: () => 0, end: () => 0 };
  removeAttribute = vi.fn((k: string) => { if (k === 'src') this.src = ''; });
  getAttribute = (k: string): string | null => (k === 'src' && this.src ? this.src : null);
  load = vi.fn();
  play = vi.fn(() => Promise.resolve());
  canPlayType = vi.fn((): string => '');
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function player(o: Partial<PlayerOptions> = {}, video = new FakeVideo()): { p: Player; video: FakeVideo; states: PlayerState[] } {
  const p = new Player(video as unknown as HTMLVideoElement, { url: 'ws://relay/live/x', worker: false, muted: true, ...o });
  const states: PlayerState[] = [];
  p.on('state', (e: StateEvent) => states.push(e.state));
  return { p, video, states };
}

describe('Player', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('without MediaSource and with transport ws fails with MSE_UNSUPPORTED, and destroy still works twice', async () => {
    vi.stubGlobal('MediaSource', undefined);
    const { p, states } = player({ transport: 'ws' });
    const errors: string[] = [];
    p.on('error', (e) => errors.push(e.code));
    await settle();
    expect(errors).toEqual(['MSE_UNSUPPORTED']);
    p.destroy();
    p.destroy();
    expect(states).toEqual(['error', 'destroyed']);
    expect(p.state).toBe('destroyed');
  });

  it('without any MediaSource, transport auto plays the relay\'s LL-HLS playlist natively, token and all', async () => {
    vi.stubGlobal('MediaSource', undefined);
    const video = new FakeVideo();
    video.canPlayType.mockReturnValue('maybe');
    const { p } = player({ url: 'wss://relay.example/live/x?token=t.k' }, video);
    await settle();
    expect(p.transport).toBe('hls-native');
    expect(video.src).toBe('https://relay.example/hls/x/index.m3u8?token=t.k');
    expect(video.play).toHaveBeenCalled();
    expect(p.stats.mseWorker).toBe(false);
    p.destroy();
    p.destroy();
    expect(video.src).toBe('');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('with transport hls and MSE, goes to hls.js, and fails with HLS_UNAVAILABLE when its bundle cannot load', async () => {
    stubBrowser();
    const { p, states } = player({ transport: 'hls' });
    const errors: Array<{ code: string; fatal: boolean }> = [];
    p.on('error', (e) => errors.push({ code: e.code, fatal: e.fatal }));
    await vi.waitFor(() => expect(errors).toEqual([{ code: 'HLS_UNAVAILABLE', fatal: true }]), { interval: 5 });
    expect(p.transport).toBe('hls');
    expect(FakeSocket.all).toHaveLength(0);
    expect(states).toEqual(['error']);
    p.destroy();
  });

  it('destroy closes the socket, releases the decoder and stops its timers, once however often it is called', async () => {
    stubBrowser();
    const { p, video, states } = player();
    await settle();
    expect(FakeSocket.all).toHaveLength(1);
    expect(video.src).toBe('blob:fake-1');
    FakeSocket.all[0]!.open();
    p.destroy();
    p.destroy();
    expect(FakeSocket.all[0]!.closes).toBe(1);
    expect(video.load).toHaveBeenCalledTimes(1);
    expect(states).toEqual(['destroyed']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('pings on the schedule once the socket is open, and answers to the clock sync', async () => {
    stubBrowser();
    const { p } = player();
    await settle();
    const ws = FakeSocket.all[0]!;
    ws.open();
    vi.advanceTimersByTime(2000);
    const pings = ws.sent.map((s) => JSON.parse(s) as { type: string; t0: number }).filter((m) => m.type === 'ping');
    expect(pings.length).toBeGreaterThanOrEqual(3);
    const t0 = pings[0]!.t0;
    ws.onmessage?.({ data: JSON.stringify({ type: 'pong', t0, serverTime: t0 + 1000 }) });
    expect(p.rtt).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(p.clockOffsetMs)).toBe(true);
    p.destroy();
  });
});
