// Who remuxes an SRT caller's MPEG-TS: in process (ingest/ts) for H.264 and AAC, one FFmpeg for
// other codecs (from the caller's first byte) or with remux.muxer 'ffmpeg'. Real FFmpeg callers
// over loopback; "an FFmpeg for the caller" is a process whose environment names its stream.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { ffprobe } from '../../helpers/viewer.js';
import { Cast, srtCaller } from '../../helpers/cast.js';
import { remuxesOf, srtGateway } from '../../helpers/processes.js';

let n: Running;
let viaFfmpeg: Running;
const cast = new Cast({ width: 256, height: 144, format: 'mpegts' });
const publish = cast.publish.bind(cast);
const view = cast.view.bind(cast);
const caller = (r: Running, name: string): string => srtCaller(r, `#!::r=${name},m=publish`);

beforeAll(async () => {
  n = await startNowcast({ srtStreams: ['srtremux', { stream: 'srtlan', latencyMs: 25 }] });
  viaFfmpeg = await startNowcast({ srtStreams: ['srtffmpeg'], remux: { muxer: 'ffmpeg' } });
});

afterEach(() => cast.end());

afterAll(() => {
  n?.app.close();
  viaFfmpeg?.app.close();
});

describe('an SRT port\'s receive latency', () => {
  it('is srt.latencyMs, or the port\'s own srt.listeners[].latencyMs', () => {
    expect(srtGateway(n.srtPorts[0]!)?.argv[3]).toBe('40');
    expect(srtGateway(n.srtPorts[1]!)?.argv[3]).toBe('25');
  });
});

describe('the remux of an SRT caller', () => {
  it('runs in process for H.264 and AAC: no FFmpeg for the caller, a chunk per frame, both tracks', async () => {
    const v = view(n, 'inproc');
    await v.opened;
    publish({ url: caller(n, 'inproc') });
    await v.until(() => v.chunks().length >= 60, 30_000, '60 chunks');
    expect(remuxesOf('inproc')).toEqual([]);
    const probe = ffprobe(v.concat());
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 256, height: 144 });
    // About one chunk per frame: 30 fps of video, audio riding with the frames.
    const spanS = (v.chunks().at(-1)!.at - v.chunks()[0]!.at) / 1000;
    expect(v.chunks().length / spanS).toBeGreaterThan(20);
    expect(v.chunks().length / spanS).toBeLessThan(60);
    expect(v.inits()).toHaveLength(1);
  });

  it('hands a caller with HEVC to one FFmpeg from its first byte, and viewers get its media', async () => {
    const v = view(n, 'hevcin');
    await v.opened;
    publish({ url: caller(n, 'hevcin'), videoCodec: 'hevc' });
    await v.until(() => v.chunks().length >= 30, 30_000, '30 HEVC chunks');
    expect(remuxesOf('hevcin')).toHaveLength(1);
    expect(ffprobe(v.concat()).streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'hevc']);
    expect(v.inits()).toHaveLength(1);
    expect(v.texts('error')).toEqual([]);
  });

  it('gives every caller its own FFmpeg with remux.muxer ffmpeg', async () => {
    const v = view(viaFfmpeg, 'viaffmpeg');
    await v.opened;
    publish({ url: caller(viaFfmpeg, 'viaffmpeg') });
    await v.until(() => v.chunks().length >= 30, 30_000, '30 chunks');
    expect(remuxesOf('viaffmpeg')).toHaveLength(1);
    expect(ffprobe(v.concat()).streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  });
});
