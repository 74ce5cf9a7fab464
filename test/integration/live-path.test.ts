// The live path end to end with real parts: FFmpeg publishes over RTMP/SRT, our RTMP server
// hands the RTMP publish to the in-process remux (FFmpeg remuxes SRT), the uWS relay fans out,
// a WebSocket client checks what arrives. test/integration/ffmpeg-muxer.test.ts: remux.muxer ffmpeg.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { Viewer, ffprobe } from '../helpers/viewer.js';
import type { InfoMessage, StateMessage } from '../../protocol/messages.js';

let n: Running;
const publishers: Publisher[] = [];
const viewers: Viewer[] = [];
const publish = (o: ConstructorParameters<typeof Publisher>[0]): Publisher => {
  const p = new Publisher(o);
  publishers.push(p);
  return p;
};
const view = (name: string): Viewer => {
  const v = new Viewer(n.ws(name));
  viewers.push(v);
  return v;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Chunks arrive in order: mfhd sequence numbers strictly increase and decode times never go back. */
function expectOrdered(v: Viewer): void {
  const chunks = v.chunks();
  for (let i = 1; i < chunks.length; i++) {
    expect(chunks[i]!.seq).toBeGreaterThan(chunks[i - 1]!.seq);
    expect(chunks[i]!.dts).toBeGreaterThanOrEqual(chunks[i - 1]!.dts);
  }
}

beforeAll(async () => {
  n = await startNowcast({ srtStreams: ['srtcam'] });
});

afterAll(async () => {
  for (const v of viewers) v.close();
  await Promise.all(publishers.map((p) => p.stop()));
  n?.app.close();
});

describe('the live path', () => {
  it('delivers stream info, the init segment, then ordered chunks from an RTMP publisher, starting at a keyframe', async () => {
    const v = view('cam1');
    await v.opened;
    publish({ url: n.rtmp('cam1') });
    await v.until(() => v.chunks().length >= 60, 20_000, '60 chunks');

    const kinds = v.received.map((r) => (r.kind === 'text' ? r.msg.type : r.unit.kind));
    expect(kinds[0]).toBe('hello');
    const infoAt = kinds.indexOf('info');
    expect(infoAt).toBeGreaterThan(0);
    expect(kinds[infoAt + 1]).toBe('init');
    expect(kinds.indexOf('chunk')).toBeGreaterThan(infoAt + 1);

    const info = v.texts('info')[0] as InfoMessage;
    expect(info.mime).toBe(`video/mp4; codecs="${info.codecs}"`);
    expect(info.codecs).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    expect(info.tracks.find((t) => t.kind === 'video')).toMatchObject({ width: 320, height: 240 });
    expect((v.texts('state').at(-1) as StateMessage).state).toBe('live');

    const chunks = v.chunks();
    expect(chunks[0]!.keyframe).toBe(true);
    expect(chunks[0]!.prftMs).toBeGreaterThan(Date.now() - 60_000);
    expectOrdered(v);

    const probe = ffprobe(v.concat());
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(probe.videoPackets).toBeGreaterThanOrEqual(55);
  });

  it('delivers the same from an SRT publisher', async () => {
    const v = view('srtcam');
    await v.opened;
    publish({ url: n.srt(n.srtPorts[0]!), format: 'mpegts', width: 256, height: 144 });
    await v.until(() => v.chunks().length >= 60, 20_000, '60 SRT chunks');
    const info = v.texts('info')[0] as InfoMessage;
    expect(info.codecs).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    expect(v.chunks()[0]!.keyframe).toBe(true);
    expectOrdered(v);
    const probe = ffprobe(v.concat());
    expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 256, height: 144 });
    expect(probe.streams.some((s) => s.codec_name === 'aac')).toBe(true);
  });

  it('never mixes two streams published at once', async () => {
    const a = view('mixa');
    const b = view('mixb');
    await Promise.all([a.opened, b.opened]);
    publish({ url: n.rtmp('mixa'), width: 320, height: 240 });
    publish({ url: n.rtmp('mixb'), width: 160, height: 96 });
    await a.until(() => a.chunks().length >= 45 && b.chunks().length >= 45, 20_000, '45 chunks on both');
    expect(ffprobe(a.concat()).streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 320, height: 240 });
    expect(ffprobe(b.concat()).streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 160, height: 96 });
    const aBytes = new Set(a.chunks().map((c) => c.bytes.toString('base64')));
    expect(b.chunks().some((c) => aBytes.has(c.bytes.toString('base64')))).toBe(false);
    expectOrdered(a);
    expectOrdered(b);
  });

  it('starts a late joiner at a keyframe at once, without waiting for the next one', async () => {
    const first = view('late');
    await first.opened;
    publish({ url: n.rtmp('late') });
    await first.until(() => first.chunks().length >= 50, 20_000, 'the stream to run');
    // Join mid-GOP: 1 s keyframe interval, so wait until the last keyframe is ≥ 300 ms old.
    await first.until(() => {
      const c = first.chunks();
      const k = c.findLastIndex((x) => x.keyframe);
      return k >= 0 && c.length - k >= 10;
    }, 5_000, 'a point mid-GOP');
    const late = view('late');
    const joinedAt = await late.openedAt;
    await late.until(() => late.chunks().length >= 1, 2_000, 'the first chunk');
    const c0 = late.chunks()[0]!;
    expect(c0.keyframe).toBe(true);
    expect(c0.at - joinedAt).toBeLessThan(150);
    // It got the whole GOP so far in one go, then continues live with the others.
    await late.until(() => late.chunks().length >= 40, 5_000, '40 chunks');
    expectOrdered(late);
    const shared = late.chunks().at(-1)!.seq;
    await first.until(() => first.chunks().some((c) => c.seq === shared), 2_000, 'the same chunk on the first viewer');
  });

  it('keeps the viewer connected while the publisher stops, then delivers the new init segment and continues', async () => {
    const v = view('restart');
    await v.opened;
    const p1 = publish({ url: n.rtmp('restart'), width: 320, height: 240 });
    await v.until(() => v.chunks().length >= 30, 20_000, 'the first session');
    await p1.stop();
    const states = (): StateMessage[] => v.texts('state') as StateMessage[];
    await v.until(() => states().some((m) => m.code === 'PUBLISHER_LEFT'), 5_000, 'offline state');
    expect(states().at(-1)).toMatchObject({ state: 'offline', code: 'PUBLISHER_LEFT' });
    await sleep(300);
    expect(v.closed).toBe(false);

    const mark = v.received.length;
    publish({ url: n.rtmp('restart'), width: 192, height: 108 });
    await v.until(() => v.inits().length >= 2 && v.chunks().length >= 60, 20_000, 'the second session');
    const infos = v.texts('info') as InfoMessage[];
    expect(infos.at(-1)!.generation).toBe(infos[0]!.generation + 1);
    expect(infos.at(-1)!.tracks.find((t) => t.kind === 'video')).toMatchObject({ width: 192, height: 108 });
    const second = v.received.slice(mark);
    const firstChunk = second.find((r) => r.kind === 'binary' && r.unit.kind === 'chunk');
    expect(firstChunk && firstChunk.kind === 'binary' && firstChunk.unit.kind === 'chunk' && firstChunk.unit.keyframe).toBe(true);
    expect(ffprobe(v.concat(mark)).streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 192, height: 108 });
    expect(v.closed).toBe(false);
  });

  it('lists live streams at /api/streams and serves the watch page', async () => {
    const res = await fetch(`${n.ops}/api/streams`);
    const body = (await res.json()) as { streams: Array<{ name: string; state: string; viewers: number }> };
    expect(body.streams.find((s) => s.name === 'cam1')).toMatchObject({ state: 'live' });
    const page = await (await fetch(`${n.http}/watch/cam1`)).text();
    expect(page).toContain('<video id="video" autoplay muted playsinline');
    expect((await fetch(`${n.http}/watch/..%2Fetc`)).status).toBe(400);
    expect((await fetch(`${n.http}/`)).status).toBe(200);
  });
});
