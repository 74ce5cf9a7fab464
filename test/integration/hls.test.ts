// LL-HLS end to end: a real FFmpeg publisher over RTMP, the real server, and plain HTTP: the
// playlist as hls-parser reads it, init + parts as ffprobe reads them, segments from keyframes,
// blocking reload and the preload hint answered when the next part exists, a publisher's
// return as a discontinuity, and view tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, setOptions, type types } from 'hls-parser';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { signToken } from '../../admission/auth.js';
import { VIDEO, readMoofs } from '../hls/fixtures.js';

// Every rule hls-parser checks fails the test instead of a line on stderr.
setOptions({ strictMode: true });

type MediaPlaylist = types.MediaPlaylist;

let n: Running;
const publishers: Publisher[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const publish = (name: string): Publisher => {
  const p = new Publisher({ url: n.rtmp(name), width: 320, height: 240, durationS: 120 });
  publishers.push(p);
  return p;
};

async function get(path: string): Promise<{ status: number; text: string; bytes: Buffer; at: number; type: string | null }> {
  const r = await fetch(`${n.http}${path}`);
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, text: bytes.toString('utf8'), bytes, at: Date.now(), type: r.headers.get('content-type') };
}

/** The playlist once it lists at least `segments` complete segments. */
async function playlistWith(name: string, segments: number, timeoutMs = 20_000): Promise<{ text: string; p: MediaPlaylist }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await get(`/hls/${name}/index.m3u8`);
    if (r.status === 200) {
      const p = parse(r.text) as MediaPlaylist;
      if (p.segments.filter((s) => s.uri).length >= segments) return { text: r.text, p };
    }
    if (Date.now() > end) throw new Error(`no playlist of ${segments} segments for ${name} in ${timeoutMs} ms (last: ${r.status})`);
    await sleep(200);
  }
}

interface Packet { dts_time: string; flags: string }

function probe(bytes: Buffer): { streams: Array<{ codec_type: string; codec_name: string }>; video: Packet[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'nowcast-hls-')), 'parts.mp4');
  writeFileSync(file, bytes);
  const streams = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'json', file], { encoding: 'utf8' })) as { streams: Array<{ codec_type: string; codec_name: string }> };
  const packets = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=dts_time,flags', '-of', 'json', file], { encoding: 'utf8' })) as { packets: Packet[] };
  return { streams: streams.streams, video: packets.packets };
}

beforeAll(async () => {
  n = await startNowcast();
});

afterAll(async () => {
  await Promise.all(publishers.map((p) => p.stop()));
  await n?.app.close();
});

describe('LL-HLS from a live RTMP publisher', () => {
  it('serves a playlist whose init segment and parts, concatenated, ffprobe reads as H.264 and AAC, each frame lasting until the next', async () => {
    publish('hls1');
    const { p, text } = await playlistWith('hls1', 3);
    expect(p.lowLatencyCompatibility).toMatchObject({ canBlockReload: true });
    expect(p.partTargetDuration).toBeGreaterThan(0.19);
    expect(p.partTargetDuration).toBeLessThan(0.22);
    expect(text).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART');
    const withParts = p.segments.filter((s) => s.uri && s.parts.length);
    expect(withParts.length).toBeGreaterThanOrEqual(2);
    const init = await get(`/hls/hls1/${p.segments[0]!.map.uri}`);
    expect(init.status).toBe(200);
    const parts = await Promise.all(withParts.flatMap((s) => s.parts.map((x) => get(`/hls/hls1/${x.uri}`))));
    for (const r of parts) expect([r.status, r.type]).toEqual([200, 'video/mp4']);
    for (const s of withParts) for (const x of s.parts) expect(x.duration).toBeLessThanOrEqual(p.partTargetDuration!);
    const { streams, video } = probe(Buffer.concat([init.bytes, ...parts.map((r) => r.bytes)]));
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(video.length).toBeGreaterThanOrEqual(50);
    expect(video[0]!.flags).toMatch(/^K/); // the first part is INDEPENDENT: it starts at a keyframe
    // Decode times step one frame at a time, across parts and segments: nothing missing, nothing twice.
    for (let i = 0; i + 1 < video.length; i++) {
      const step = Number(video[i + 1]!.dts_time) - Number(video[i]!.dts_time);
      expect(step).toBeGreaterThan(0.0329);
      expect(step).toBeLessThan(0.0341);
    }
    // Every frame lasts until the next one's decode time: the parts carry the real interval, not
    // the WebSocket's 2× estimate. Read from the trun (ffprobe 5.1 reports the frame rate's
    // duration whatever the trun says), and the playlist's durations add up to the same.
    const moofs = parts.flatMap((r) => readMoofs(r.bytes)).flatMap((m) => m.filter((t) => t.trackId === VIDEO.id)); // audio-only chunks have none
    for (let i = 0; i + 1 < moofs.length; i++) expect(moofs[i]!.durations.at(-1)).toBe(moofs[i + 1]!.dts - moofs[i]!.dts);
    const total = withParts.reduce((t, s) => t + s.duration, 0);
    expect((moofs.at(-1)!.dts + moofs.at(-1)!.durations.at(-1)! - moofs[0]!.dts) / 1000).toBeCloseTo(total, 6);
  });

  it('starts every segment at a keyframe: the segment is its parts, and ffprobe sees one keyframe, first', async () => {
    const { p } = await playlistWith('hls1', 3);
    const init = await get(`/hls/hls1/${p.segments[0]!.map.uri}`);
    const seg = p.segments.filter((s) => s.uri && s.parts.length)[0]!;
    const whole = await get(`/hls/hls1/${seg.uri}`);
    const parts = await Promise.all(seg.parts.map((x) => get(`/hls/hls1/${x.uri}`)));
    expect(whole.bytes.equals(Buffer.concat(parts.map((r) => r.bytes)))).toBe(true);
    const { video } = probe(Buffer.concat([init.bytes, whole.bytes]));
    expect(video[0]!.flags).toMatch(/^K/);
    expect(video.filter((x) => x.flags.startsWith('K'))).toHaveLength(1); // the test publisher's GOP is 1 s: one per segment
    expect(seg.duration).toBeGreaterThan(0.9);
    expect(seg.duration).toBeLessThan(1.1);
  });

  it('answers a blocking reload when the next part exists, and a request for the hinted part with that part', async () => {
    const { text } = await playlistWith('hls1', 2);
    const p = parse(text) as MediaPlaylist;
    const last = p.segments.filter((s) => s.parts.some((x) => !x.hint)).at(-1)!;
    const msn = last.mediaSequenceNumber;
    const nextPart = last.parts.filter((x) => !x.hint).length; // may be past the last: then part 0 of the next segment
    const hint = /PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)![1];
    const asked = Date.now();
    const [reload, hinted] = await Promise.all([get(`/hls/hls1/index.m3u8?_HLS_msn=${msn}&_HLS_part=${nextPart}`), get(`/hls/hls1/${hint}`)]);
    expect(reload.status).toBe(200);
    expect(hinted.status).toBe(200);
    // Held until the part closed: under a part's duration (plus one frame and slack), not the 3 s timeout.
    expect(reload.at - asked).toBeLessThan(600);
    expect(reload.text).toContain(`URI="${hint}"`);
    expect(hinted.bytes.toString('latin1', 4, 8)).toBe('moof');
    expect(Math.abs(hinted.at - reload.at)).toBeLessThan(100);
  });

  it('continues the same playlist, after a discontinuity and under a new map, when the publisher comes back', async () => {
    const pub = publish('hls2');
    const first = await playlistWith('hls2', 2);
    await pub.stop();
    await sleep(500);
    publish('hls2');
    const end = Date.now() + 20_000;
    let text = '';
    while (Date.now() < end) {
      text = (await get('/hls/hls2/index.m3u8')).text;
      if (/#EXT-X-DISCONTINUITY\n(?:.*\n)*?#EXTINF/.test(text)) break;
      await sleep(200);
    }
    const p = parse(text) as MediaPlaylist;
    const segs = p.segments.filter((s) => s.uri);
    expect(new Set(segs.map((s) => s.map.uri)).size).toBe(2);
    expect(segs.some((s) => s.discontinuity)).toBe(true);
    expect(segs[0]!.mediaSequenceNumber).toBe(first.p.segments[0]!.mediaSequenceNumber);
    const after = segs.find((s) => s.discontinuity)!;
    expect((await get(`/hls/hls2/${after.map.uri}`)).status).toBe(200);
  });

  it('refuses what it should, with a code, and counts it', async () => {
    await playlistWith('hls1', 1);
    expect((await get('/hls/nosuch/index.m3u8')).status).toBe(404);
    expect(JSON.parse((await get('/hls/hls1/index.m3u8?_HLS_msn=99999999999999&_HLS_part=0')).text).code).toBe('HLS_MSN_AHEAD');
    expect((await get('/hls/hls1/index.m3u8?_HLS_msn=x')).status).toBe(400);
    const counts = n.app.ingest.errors.entries().filter((e) => e.protocol === 'http');
    expect(counts.map((e) => e.code).sort()).toEqual(expect.arrayContaining(['HLS_BAD_QUERY', 'HLS_MSN_AHEAD', 'HLS_NOT_FOUND']));
    const metrics = await (await fetch(`${n.ops}/metrics`)).text();
    expect(metrics).toMatch(/nowcast_protocol_errors_total\{protocol="http",code="HLS_MSN_AHEAD"\} [1-9]/);
  });
});

describe('LL-HLS with view tokens required', () => {
  let t: Running;
  const secret = 'an-hls-test-secret-0123456789';
  beforeAll(async () => { t = await startNowcast({ security: { requireViewerToken: true, secret } }); });
  afterAll(async () => { await t?.app.close(); });

  it('needs a token for the playlist and its media, and writes it into every URI', async () => {
    const p = new Publisher({ url: t.rtmp('tok'), width: 320, height: 240, durationS: 30 });
    publishers.push(p);
    const token = signToken(secret, { s: 'tok', a: 'view', e: Math.floor(Date.now() / 1000) + 600 });
    const end = Date.now() + 20_000;
    let r: Response;
    for (;;) {
      r = await fetch(`${t.http}/hls/tok/index.m3u8?token=${token}`);
      if (r.status === 200 || Date.now() > end) break;
      await sleep(200);
    }
    expect(r.status).toBe(200);
    const text = await r.text();
    const uris = [...text.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!);
    expect(uris.length).toBeGreaterThan(1);
    for (const u of uris) expect(u.endsWith(`?token=${token}`)).toBe(true);
    expect((await fetch(`${t.http}/hls/tok/${uris[0]}`)).status).toBe(200);
    expect((await fetch(`${t.http}/hls/tok/${uris[0]!.split('?')[0]}`)).status).toBe(401);
    expect((await fetch(`${t.http}/hls/tok/index.m3u8`)).status).toBe(401);
  });
});
