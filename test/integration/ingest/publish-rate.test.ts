// limits.maxPublishBitrate on real publishers: an FFmpeg publisher far above the cap, over RTMP
// and over SRT, is closed with its code, while a publisher within it keeps its stream playing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import type { Publisher } from '../../helpers/publisher.js';
import { Cast, srtCaller } from '../../helpers/cast.js';

/** 1 Mbit/s: a 4 Mbit/s CBR publisher is over it within a second or two, a 300 kbit/s one never. */
const CAP = 1_000_000;
let n: Running;
const cast = new Cast({ width: 320, height: 240 });
const FAST = { videoKbps: 4000, cbr: true, audioKbps: 64 } as const;
const SLOW = { videoKbps: 200, audioKbps: 64 } as const;

/** A publisher's FFmpeg ends within `ms` (the server closed it); its exit code, or 'running'. */
async function endsWithin(p: Publisher, ms: number): Promise<number | null | 'running'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.exited, new Promise<'running'>((resolve) => { timer = setTimeout(() => resolve('running'), ms); })]);
  clearTimeout(timer);
  return r;
}

beforeAll(async () => {
  n = await startNowcast({ srtStreams: ['srtrate'], limits: { maxPublishBitrate: CAP } });
});

afterEach(() => cast.end());

afterAll(() => {
  n?.app.close();
});

describe('limits.maxPublishBitrate', () => {
  it.each([
    { protocol: 'rtmp', code: 'RTMP_RATE' },
    { protocol: 'srt', code: 'SRT_RATE' },
  ] as const)('closes an $protocol publisher four times over the cap ($code) and keeps one within it playing', async ({ protocol, code }) => {
    const url = protocol === 'rtmp' ? n.rtmp : (name: string): string => srtCaller(n, `#!::r=${name},m=publish`);
    const format = protocol === 'rtmp' ? 'flv' : 'mpegts';
    const calm = cast.view(n, `${protocol}calm`);
    await calm.opened;
    cast.publish({ url: url(`${protocol}calm`), format, ...SLOW });
    await calm.until(() => calm.chunks().length >= 15, 30_000, 'the calm publisher to play');
    const before = n.app.ingest.errors.get(protocol, code);
    const fast = cast.publish({ url: url(`${protocol}fast`), format, ...FAST });
    // libsrt's caller keeps sending into a closed connection until its peer idle timeout.
    expect(await endsWithin(fast, 15_000)).not.toBe('running');
    expect(n.app.ingest.errors.get(protocol, code)).toBe(before + 1);
    const seen = calm.chunks().length;
    await calm.until(() => calm.chunks().length >= seen + 30, 20_000, 'the calm publisher to keep playing');
    expect(calm.inits()).toHaveLength(1);
  });
});
