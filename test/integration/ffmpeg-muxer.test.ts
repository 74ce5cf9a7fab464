// remux.muxer 'ffmpeg': an RTMP publish remuxed by a supervised FFmpeg reading it as FLV on stdin (its mp4 muxer), as
// an SRT caller with codecs other than H.264 and AAC is. A killed FFmpeg is restarted, counted, and the viewer goes on after a new init.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { Viewer, ffprobe } from '../helpers/viewer.js';
import { parse, value } from '../helpers/prom.js';
import type { InfoMessage } from '../../protocol/messages.js';

let n: Running;
const publishers: Publisher[] = [];
const viewers: Viewer[] = [];

function view(name: string): Viewer {
  const v = new Viewer(n.ws(name));
  viewers.push(v);
  return v;
}

/** The newest FFmpeg remux this process started (the one for the latest publisher). */
function newestRemux(): string {
  return execFileSync('pgrep', ['-n', '-P', String(process.pid), '-f', 'flv -i pipe:0'], { encoding: 'utf8' }).trim();
}

async function scrape(): Promise<ReturnType<typeof parse>> {
  return parse(await (await fetch(`${n.ops}/metrics`)).text());
}

beforeAll(async () => {
  n = await startNowcast({ remux: { muxer: 'ffmpeg' } });
});

afterAll(async () => {
  for (const v of viewers) v.close();
  await Promise.all(publishers.map((p) => p.stop()));
  n?.app.close();
});

describe('RTMP through the FFmpeg remux (remux.muxer ffmpeg)', () => {
  it('delivers a playable fMP4 from FFmpeg, one chunk per frame', async () => {
    const v = view('ff');
    await v.opened;
    publishers.push(new Publisher({ url: n.rtmp('ff') }));
    await v.until(() => v.chunks().length >= 45, 20_000, '45 chunks');
    const info = v.texts('info')[0] as InfoMessage;
    expect(info.codecs).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    // FFmpeg reads the publish as FLV on its stdin.
    expect(newestRemux()).not.toBe('');
    const probe = ffprobe(v.concat(0));
    expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    // 30 ms fragments: about one chunk per video frame.
    expect(Math.abs(probe.videoPackets - v.chunks().length)).toBeLessThanOrEqual(v.chunks().length * 0.1);
  });

  it('restarts a killed FFmpeg, counts it, and the viewer continues after a new init segment at a keyframe', async () => {
    const v = view('crash');
    await v.opened;
    publishers.push(new Publisher({ url: n.rtmp('crash') }));
    await v.until(() => v.chunks().length >= 30, 20_000, 'the stream to run');
    expect(value(await scrape(), 'nowcast_ffmpeg_restarts_total', { reason: 'failure' })).toBe(0);
    const pid = newestRemux();
    process.kill(Number(pid), 'SIGKILL');
    const killedAt = Date.now();
    const before = v.chunks().length;
    await v.until(() => v.inits().length >= 2 && v.chunks().length >= before + 30, 10_000, 'chunks after the restart');
    const info = v.texts('info') as InfoMessage[];
    expect(info.at(-1)!.generation).toBe(info[0]!.generation + 1);
    const resumed = v.chunks().find((c) => c.at > killedAt && c.keyframe);
    expect(resumed).toBeDefined();
    expect(resumed!.at - killedAt).toBeLessThan(2_000);
    expect(v.closed).toBe(false);
    const m = await scrape();
    expect(value(m, 'nowcast_ffmpeg_restarts_total', { reason: 'failure' })).toBe(1);
    expect(value(m, 'nowcast_ffmpeg_restarts_total', { reason: 'recycle' })).toBe(0);
    // The RTMP sessions survived their remuxer.
    expect(value(m, 'nowcast_publishers', { protocol: 'rtmp' })).toBe(2);
  });
});
