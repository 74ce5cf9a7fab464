// Fan-out behaviour at small scale: the real relay, 50 raw WebSocket viewers (the benchmark's
// load generator) of which 2 read at 25% of the stream rate. Asserts behaviour, not speed:
// healthy viewers get every chunk in order; slow viewers are told `skip` and resume at a
// keyframe; the relay's memory stays bounded.
//
// Loopback TCP buffers several MB per connection, and a viewer reading at 25% only sees its
// skip message after draining that backlog, so the stream here is fat (~4 MB/s: each chunk
// padded with a `free` box) to keep the test to seconds. See bench/fanout/README.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { defaults, loadConfig } from '../../app/config.js';
import { createRootLogger } from '../../util/log.js';
import { Relay } from '../../relay/relay.js';
import { analyze, readArrivals, type Analysis } from '../../bench/fanout/lib/analyze.js';
import { monoMs, sleep } from '../../bench/fanout/lib/clock.js';
import { Pacer } from '../../bench/fanout/lib/pacer.js';
import { readReceipts } from '../../bench/fanout/lib/receipts.js';
import { loadSource, type Source } from '../../bench/fanout/lib/source.js';

const VIEWERS = 50;
const SLOW_EVERY = 25; // viewers 24 and 49
const CHUNK_BYTES = 128 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'nowcast-fanout-'));
let relay: Relay;
let pacer: Pacer;
let gen: ChildProcess | null = null;

/** A short FFmpeg recording (keyframe every 15 frames), each chunk padded to CHUNK_BYTES with a trailing `free` box. */
function fatSource(): Source {
  const file = join(dir, 'src.mp4');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '3',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '15', '-keyint_min', '15', '-sc_threshold', '0', '-an',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof', '-frag_duration', '33333', '-write_prft', 'wallclock', file]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr?.toString()}`);
  const src = loadSource(file);
  for (const c of src.chunks) {
    const pad = Buffer.alloc(Math.max(8, CHUNK_BYTES - c.bytes.length));
    pad.writeUInt32BE(pad.length, 0);
    pad.write('free', 4, 'latin1');
    c.bytes = Buffer.concat([c.bytes, pad]);
  }
  return { ...src, bitrate: (CHUNK_BYTES * 8 * 30) };
}

beforeAll(async () => {
  relay = new Relay({ config: loadConfig({}, {}).relay, log: createRootLogger('silent'), service: () => defaults.latency.default });
  await relay.listen('127.0.0.1', 0);
});

afterAll(() => {
  if (gen && gen.exitCode === null) gen.kill('SIGKILL');
  pacer?.stop();
  relay?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fan-out to 50 viewers with 2 slow ones', () => {
  it('delivers every chunk in order to healthy viewers, skips slow ones to a keyframe, and keeps memory bounded', async () => {
    const src = fatSource();
    const sink = relay.sink('fan');
    sink.init(src.init);
    pacer = new Pacer(src, 60, (c) => sink.chunk(c));
    pacer.start();
    await sleep(300);
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;

    const arrivals = join(dir, 'arrivals.bin');
    gen = spawn('node', ['--import', 'tsx', 'bench/fanout/client/loadgen.ts', '--port', String(relay.port), '--path', '/live/fan', '--n', String(VIEWERS),
      '--seq-offset', String(src.seqOffset), '--slow-every', String(SLOW_EVERY), '--slow-rate-bps', String(Math.round(src.bitrate / 4)),
      '--max-s', '60', '--progress', '250', '--out', arrivals], { stdio: ['pipe', 'pipe', 'inherit'] });
    const events: Array<Record<string, unknown>> = [];
    createInterface({ input: gen.stdout! }).on('line', (l) => { try { events.push(JSON.parse(l) as Record<string, unknown>); } catch { /* not ours */ } });
    const exited = new Promise<void>((r) => gen!.once('exit', () => r()));
    const waitFor = async (pred: () => boolean, ms: number, what: string): Promise<void> => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(events.at(-1))}`);
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
        await sleep(100);
      }
    };

    await waitFor(() => events.some((e) => e.event === 'joined'), 15_000, 'all viewers to join');
    const joined = events.find((e) => e.event === 'joined')!;
    expect(joined.joined).toBe(VIEWERS);
    const tJoined = monoMs();
    // Both slow viewers have been told to skip and got media again after it.
    await waitFor(() => events.some((e) => e.event === 'progress' && e.slowResumed === 2), 30_000, 'both slow viewers to skip and resume');
    await sleep(1000);
    const tEnd = monoMs() - 500;
    gen.stdin!.write('stop\n');
    await exited;
    pacer.stop();
    const receiptsFile = join(dir, 'receipts.txt');
    pacer.receipts.write(receiptsFile);

    const a: Analysis = analyze(readReceipts(receiptsFile), readArrivals(arrivals), tJoined + 1000, tEnd);
    expect(a.windowChunks).toBeGreaterThan(60);
    expect(a.failed).toBe(0);
    expect(a.badFrames).toBe(0);
    // Healthy viewers: every chunk of the window, in order, no skip, still connected.
    expect(a.healthy.viewers).toBe(VIEWERS - 2);
    expect(a.healthy.missing).toBe(0);
    expect(a.healthy.outOfOrder).toBe(0);
    expect(a.healthy.skipped).toBe(0);
    expect(a.healthy.closed).toBe(0);
    // Slow viewers: told to skip, and every resume is at a keyframe chunk; media flows again.
    expect(a.slow.viewers).toBe(2);
    expect(a.slow.viewersSkipped).toBe(2);
    expect(a.slow.resumedTotal).toBeGreaterThanOrEqual(2);
    expect(a.slow.resumedAtKeyframe).toBe(a.slow.resumedTotal);
    expect(a.slow.recovered).toBe(2);
    expect(a.slow.closed).toBe(0);
    expect(relay.stream('fan')!.counters.skips).toBeGreaterThanOrEqual(2);
    // Memory: the slow viewers' backlog is capped by the drop policy, not by the test's length.
    expect(rssMax - rss0).toBeLessThan(300 * 2 ** 20);
  }, 60_000);
});
