// The player's LL-HLS session with a stand-in for the hls.js bundle: state, stats and latency
// from PROGRAM-DATE-TIME, starting over after a fatal error (offline on 404), giving up, the
// jump to hls.js's target, and destroy.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HlsSession, type CreateHls, type HlsEvents, type HlsSessionHost } from '../../player/hls-session.js';
import { DEFAULTS, type PlayerConfig } from '../../player/config.js';
import type { PlayerState } from '../../player/events.js';

class FakeVideo extends EventTarget {
  currentTime = 0;
  playbackRate = 1;
  paused = false;
  seeking = false;
  error: { code: number; message: string } | null = null;
  src = '';
  ranges: Array<[number, number]> = [];
  get buffered(): TimeRanges {
    const r = this.ranges;
    return { length: r.length, start: (i: number) => r[i]![0], end: (i: number) => r[i]![1] } as TimeRanges;
  }
  play = vi.fn(() => Promise.resolve());
  load = vi.fn();
  removeAttribute = vi.fn((k: string) => { if (k === 'src') this.src = ''; });
  getAttribute = (k: string): string | null => (k === 'src' && this.src ? this.src : null);
  getVideoPlaybackQuality = (): { droppedVideoFrames: number; totalVideoFrames: number } => ({ droppedVideoFrames: 1, totalVideoFrames: 90 });
  getStartDate?: () => Date;
  canPlayType = (): string => 'maybe';
}

interface Made { url: string; events: HlsEvents; destroyed: boolean; date: Date | null }

function setup(o: { native?: boolean; config?: Partial<PlayerConfig> } = {}) {
  const video = new FakeVideo();
  const made: Made[] = [];
  const create: CreateHls = (_v, url, _s, events) => {
    const m: Made = { url, events, destroyed: false, date: null };
    made.push(m);
    return { playingDate: () => m.date, targetLatency: () => 0.612, destroy: () => { m.destroyed = true; } };
  };
  const states: Array<[PlayerState, string | undefined]> = [];
  const errors: Array<[string, boolean]> = [];
  const config: PlayerConfig = { ...DEFAULTS, url: 'ws://relay/live/cam', reconnectBaseMs: 100, reconnectMaxMs: 1000, ...o.config };
  const host: HlsSessionHost = {
    config: () => config,
    state: (s, code) => states.push([s, code]),
    error: (code, _m, fatal) => errors.push([code, fatal]),
    log: () => {},
  };
  const s = new HlsSession(video as unknown as HTMLVideoElement, 'ws://relay/live/cam?token=t', !o.native, host, () => Promise.resolve(create));
  return { s, video, made, states, errors };
}

const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

beforeEach(() => vi.useFakeTimers({ now: 1_800_000_010_000 }));
afterEach(() => vi.useRealTimers());

describe('the LL-HLS session', () => {
  it('loads the playlist derived from the WebSocket URL into hls.js, and is live once the video plays', async () => {
    const { s, video, made, states } = setup();
    await settle();
    expect(made.map((m) => m.url)).toEqual(['http://relay/hls/cam/index.m3u8?token=t']);
    expect(video.play).toHaveBeenCalled();
    video.dispatchEvent(new Event('playing'));
    expect(states).toEqual([['live', undefined]]);
    expect(s.native).toBe(false);
  });

  it('reads latency from the PROGRAM-DATE-TIME of the position played, and fills the stats it can', async () => {
    const { s, video, made } = setup();
    await settle();
    expect(s.latency).toBeNaN(); // before the first frame
    video.dispatchEvent(new Event('playing'));
    made[0]!.date = new Date(Date.now() - 700);
    expect(s.latency).toBeCloseTo(0.7, 6);
    made[0]!.events.bytes(25_000);
    made[0]!.events.codecs('avc1.42c01e,mp4a.40.2');
    video.ranges = [[0, 1.5]];
    video.currentTime = 1;
    const st = s.stats('live', Date.now() - 300);
    expect(st).toMatchObject({ state: 'live', targetLatency: 0.612, buffer: 0.5, decodedFrames: 90, droppedFrames: 1, codecs: 'avc1.42c01e,mp4a.40.2', mseWorker: false, rtt: NaN, generation: -1 });
    expect(st.bitrate).toBeGreaterThan(0);
    expect(st.startupMs).toBeCloseTo(300, 0);
  });

  it('counts a stall from waiting to playing after the first frame', async () => {
    const { s, video } = setup();
    await settle();
    video.dispatchEvent(new Event('waiting')); // before the first frame: the start, not a stall
    video.dispatchEvent(new Event('playing'));
    video.dispatchEvent(new Event('waiting'));
    vi.advanceTimersByTime(400);
    video.dispatchEvent(new Event('playing'));
    expect(s.stats('live', 0)).toMatchObject({ stalls: 1, stallMs: 400 });
  });

  it('jumps to hls.js\'s target when it starts a GOP behind it, and counts the jump', async () => {
    const { s, video } = setup();
    await settle();
    video.ranges = [[2, 4.1]];
    video.currentTime = 2.01;
    video.dispatchEvent(new Event('playing'));
    vi.advanceTimersByTime(250);
    expect(video.currentTime).toBeCloseTo(4.1 - 0.612, 9);
    expect(s.stats('live', 0).liveSeeks).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(s.stats('live', 0).liveSeeks).toBe(1); // at the target now
  });

  it('after a fatal 404 is offline and starts over with a new hls.js after a backoff; other errors reconnect', async () => {
    const { s, made, states, errors } = setup();
    await settle();
    made[0]!.events.fatal('network', 'levelLoadError', 404);
    expect(made[0]!.destroyed).toBe(true);
    expect(states.at(-1)).toEqual(['offline', 'HLS_NOT_FOUND']);
    expect(errors).toEqual([['HLS_NETWORK_ERROR', false]]);
    vi.advanceTimersByTime(100);
    expect(made).toHaveLength(2);
    made[1]!.events.fatal('media', 'bufferAppendError', 0);
    expect(states.at(-1)).toEqual(['reconnecting', 'HLS_MEDIA_ERROR']);
    vi.advanceTimersByTime(200);
    expect(made).toHaveLength(3);
    expect(s.reconnects).toBe(2);
  });

  it('gives up after maxReconnectAttempts fatal errors in a row', async () => {
    const { made, states, errors } = setup({ config: { maxReconnectAttempts: 1 } });
    await settle();
    made[0]!.events.fatal('network', 'manifestLoadError', 0);
    vi.advanceTimersByTime(100);
    made[1]!.events.fatal('network', 'manifestLoadError', 0);
    expect(states.at(-1)).toEqual(['error', 'RECONNECT_EXHAUSTED']);
    expect(errors.at(-1)).toEqual(['RECONNECT_EXHAUSTED', true]);
    vi.advanceTimersByTime(10_000);
    expect(made).toHaveLength(2);
  });

  it('plays natively where there is no MSE: the element gets the playlist, latency from getStartDate', async () => {
    const { s, video, made } = setup({ native: true });
    await settle();
    expect(made).toHaveLength(0);
    expect(video.src).toBe('http://relay/hls/cam/index.m3u8?token=t');
    video.getStartDate = () => new Date(Date.now() - 10_000);
    video.currentTime = 9.4;
    video.dispatchEvent(new Event('playing'));
    expect(s.latency).toBeCloseTo(0.6, 6);
    video.error = { code: 4, message: 'bad' };
    video.dispatchEvent(new Event('error'));
    expect(video.src).toBe('');
    vi.advanceTimersByTime(100);
    expect(video.src).toBe('http://relay/hls/cam/index.m3u8?token=t');
  });

  it('without MSE or HLS of the browser\'s own fails with MSE_UNSUPPORTED', () => {
    const video = new FakeVideo();
    video.canPlayType = () => '';
    const states: Array<[PlayerState, string | undefined]> = [];
    const host: HlsSessionHost = { config: () => ({ ...DEFAULTS, url: 'ws://x/y' }), state: (st, code) => states.push([st, code]), error: () => {}, log: () => {} };
    new HlsSession(video as unknown as HTMLVideoElement, 'ws://relay/live/cam', false, host).destroy();
    expect(states).toEqual([['error', 'MSE_UNSUPPORTED']]);
    expect(video.src).toBe('');
  });

  it('reports a stream URL it cannot derive a playlist from as HLS_UNAVAILABLE', () => {
    const states: PlayerState[] = [];
    const host: HlsSessionHost = { config: () => ({ ...DEFAULTS, url: 'ws://x/y' }), state: (st) => states.push(st), error: () => {}, log: () => {} };
    const s = new HlsSession(new FakeVideo() as unknown as HTMLVideoElement, 'ws://relay/elsewhere', true, host, () => Promise.reject(new Error('unused')));
    expect(states).toEqual(['error']);
    s.destroy();
  });

  it('destroys hls.js and stops its timers once, however often it is destroyed', async () => {
    const { s, made } = setup();
    await settle();
    made[0]!.events.fatal('network', 'x', 0);
    s.destroy();
    s.destroy();
    expect(made[0]!.destroyed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(made).toHaveLength(1);
  });
});
