// RemuxTap: the in-process RTMP remux, fed real FFmpeg FLV tag by tag as the RTMP server does
// (one tag per event-loop turn), through the real FlvRemuxer and fMP4 splitter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemuxTap, type TapSubscribe } from '../../../ingest/tap.js';
import type { MediaOut } from '../../../media/sink.js';
import type { Fmp4Unit } from '../../../media/types.js';
import { createRootLogger } from '../../../util/log.js';

const log = createRootLogger('silent');
const OPTS = { maxBoxBytes: 1 << 24, maxInitBytes: 1 << 20, restartDelayMs: 50, maxRestartDelayMs: 100, chunkWaitMs: 25 };
let dir = '';
let header: Buffer;
let tags: Buffer[] = [];
let videoFrames = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nowcast-tap-'));
  const file = join(dir, 'av.flv');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', file]);
  expect(r.status, r.stderr.toString()).toBe(0);
  const flv = readFileSync(file);
  header = flv.subarray(0, 13);
  for (let at = 13; at + 11 <= flv.length;) {
    const end = at + 11 + flv.readUIntBE(at + 1, 3) + 4;
    tags.push(flv.subarray(at, end));
    if (flv[at] === 9 && flv[at + 12] === 1) videoFrames++;
    at = end;
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A feed that sends the header, then one tag per macrotask, like sockets reads; records subscriptions. */
function feed(script: (cached: boolean, n: number) => Buffer[]) {
  const subs: Array<{ cached: boolean; active: boolean }> = [];
  const subscribe: TapSubscribe = (onData, cached) => {
    const sub = { cached, active: true };
    subs.push(sub);
    const queue = [header, ...script(cached, subs.length)];
    const next = (): void => {
      const b = queue.shift();
      if (!b || !sub.active) return;
      onData(b);
      setTimeout(next, 1);
    };
    next();
    return () => { sub.active = false; };
  };
  return { subs, subscribe };
}

function collector() {
  const units: Fmp4Unit[] = [];
  const failures: string[] = [];
  const sink: MediaOut = { init: (u) => units.push(u), chunk: (u) => units.push(u), failure: (code) => failures.push(code) };
  return { units, failures, sink, chunks: () => units.filter((u) => u.kind === 'chunk') };
}

const until = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the in-process RTMP remux (RemuxTap)', () => {
  it('writes about one chunk per video frame, the audio riding along instead of making chunks of its own', async () => {
    const { subscribe, subs } = feed(() => tags);
    const c = collector();
    const tap = new RemuxTap(subscribe, OPTS, c.sink, log);
    await until(() => c.chunks().reduce((n, u) => n + (u.kind === 'chunk' ? 1 : 0), 0) >= videoFrames - 1, 10_000, 'the chunks');
    await tap.close();
    expect(subs).toEqual([{ cached: false, active: false }]);
    expect(c.units[0]!.kind).toBe('init');
    expect(c.units.filter((u) => u.kind === 'init')).toHaveLength(1);
    const chunks = c.chunks();
    // Audio packets outnumber frames 1.6 to 1; they ride along instead of making chunks of their own.
    expect(chunks.length).toBeGreaterThanOrEqual(videoFrames * 0.9);
    expect(chunks.length).toBeLessThanOrEqual(videoFrames * 1.15);
    expect(chunks.every((u) => u.kind === 'chunk' && u.prftMs !== undefined)).toBe(true);
    expect(c.failures).toEqual([]);
  });

  it('fails the stream on bad media, then starts over from the cached keyframe after a backoff', async () => {
    const badConfig = Buffer.from(tags.find((t) => t[0] === 9 && t[12] === 0)!);
    badConfig[16] = 0; // AVCDecoderConfigurationRecord version 0: not a record we can read
    const { subscribe, subs } = feed((cached) => (cached ? tags : [...tags.slice(0, 40), badConfig, ...tags.slice(40)]));
    const c = collector();
    const tap = new RemuxTap(subscribe, OPTS, c.sink, log);
    await until(() => c.units.filter((u) => u.kind === 'init').length >= 2 && c.chunks().length >= 40, 10_000, 'a second init after the restart');
    await tap.close();
    expect(c.failures).toEqual(['FLV_BAD_TAG']);
    expect(subs.map((s) => s.cached)).toEqual([false, true]);
    expect(subs.every((s) => !s.active)).toBe(true);
    // The restart begins at a keyframe.
    const secondInit = c.units.findIndex((u, i) => i > 0 && u.kind === 'init');
    const first = c.units[secondInit + 1];
    expect(first?.kind === 'chunk' && first.keyframe).toBe(true);
  });

  it('writes what it holds when closed, and closing twice is safe', async () => {
    // Ends on a frame whose audio never comes: it waits (chunkWaitMs is long) until close.
    const lastFrame = tags.findLastIndex((t, i) => i < 40 && t[0] === 9 && t[12] === 1);
    const { subscribe } = feed(() => tags.slice(0, lastFrame + 1));
    const c = collector();
    const tap = new RemuxTap(subscribe, { ...OPTS, chunkWaitMs: 10_000 }, c.sink, log);
    await until(() => c.units.length > 0, 5_000, 'the init');
    await new Promise((r) => setTimeout(r, 300)); // every tag in
    const before = c.chunks().length;
    await tap.close();
    await tap.close();
    expect(c.chunks().length).toBeGreaterThan(before);
  });
});
