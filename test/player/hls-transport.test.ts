// Which transport the player takes, where its LL-HLS playlist is, and when it jumps to hls.js's target.
import { describe, expect, it } from 'vitest';
import { HLS_SYNC_SLACK, hlsSyncTarget, hlsUrl, resolveTransport, useNativeHls } from '../../player/hls-transport.js';

describe('the player\'s transport', () => {
  it.each([
    ['auto', true, 'ws'], ['auto', false, 'hls'], ['ws', true, 'ws'], ['ws', false, 'ws'], ['hls', true, 'hls'], ['hls', false, 'hls'],
  ] as const)('%s with MSE %s is %s', (transport, mse, want) => {
    expect(resolveTransport(transport, mse)).toBe(want);
  });

  it.each([
    ['probably', false, true], ['maybe', false, true], ['', false, false], ['maybe', true, false], ['probably', true, false],
  ])('canPlayType %j with MSE %s: native %s', (can, mse, want) => {
    expect(useNativeHls(can, mse)).toBe(want);
  });

  it.each([
    ['ws://relay:8080/live/cam1', 'http://relay:8080/hls/cam1/index.m3u8'],
    ['wss://relay.example/live/cam1', 'https://relay.example/hls/cam1/index.m3u8'],
    ['ws://relay/live/cam1?token=a.b-c_', 'http://relay/hls/cam1/index.m3u8?token=a.b-c_'],
    ['ws://relay/live/cam1?x=1&token=t', 'http://relay/hls/cam1/index.m3u8?token=t'],
    ['ws://[::1]:8080/live/cam1/', 'http://[::1]:8080/hls/cam1/index.m3u8'],
  ])('derives the playlist of %s: %s', (ws, want) => {
    expect(hlsUrl(ws)).toBe(want);
  });

  it.each(['ws://relay/other/cam1', 'ws://relay/live/', 'ws://relay/live/a/b', 'not a url'])('refuses to guess a playlist for %j', (ws) => {
    expect(() => hlsUrl(ws)).toThrow();
  });
});

describe('the jump to hls.js\'s target latency', () => {
  const r = (start: number, end: number): { start: number; end: number } => ({ start, end });
  it.each<[string, Array<{ start: number; end: number }>, number, number, number | undefined]>([
    ['a join at the segment\'s keyframe, 1.1 s behind the buffered end: to end − target', [r(2, 4.1)], 3, 0.612, 3.488],
    ['within the slack: stays', [r(2, 4.1)], 3.488 - HLS_SYNC_SLACK + 0.01, 0.612, undefined],
    ['never before the last range\'s start', [r(0, 1), r(3, 3.5)], 0.5, 0.612, 3],
    ['nothing buffered: stays', [], 0, 0.612, undefined],
    ['past the buffered end: stays', [r(0, 1)], 2, 0.612, undefined],
    ['no target yet: stays', [r(0, 4)], 0, 0, undefined],
  ])('%s', (_name, ranges, t, target, want) => {
    const to = hlsSyncTarget(ranges, t, target);
    if (want === undefined) expect(to).toBeUndefined();
    else expect(to).toBeCloseTo(want, 9);
  });
});
