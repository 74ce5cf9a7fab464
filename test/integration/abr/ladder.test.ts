// The ladder on real parts: a real publish through Nowcast, its chunks as a viewer gets them fed
// to AbrLadder's transcoders (real FFmpeg, x264), and each rendition's output checked against
// the source: the same keyframes at the same decode times (ffprobe of the concatenated output),
// and a killed transcoder fails only its own rendition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';
import { AbrLadder, renditionStream } from '../../../abr/ladder.js';
import type { MediaSink } from '../../../media/sink.js';
import type { Fmp4Unit } from '../../../media/types.js';
import { createRootLogger } from '../../../util/log.js';

const LADDER = [{ name: '240p', height: 240, videoBitrate: 500_000 }, { name: '120p', height: 120, videoBitrate: 150_000 }];

/** Every unit each internal stream got, in order, with its arrival time. */
class Recorder {
  readonly units = new Map<string, Array<Fmp4Unit & { at: number }>>();
  readonly failures: Array<[string, string]> = [];
  sink(name: string): MediaSink {
    const list = this.units.get(name) ?? [];
    this.units.set(name, list);
    return {
      init: (u) => list.push({ ...u, at: Date.now() }),
      chunk: (u) => list.push({ ...u, at: Date.now() }),
      failure: (code) => this.failures.push([name, code]),
      offline: () => {},
    };
  }
  chunks(name: string): Array<Extract<Fmp4Unit, { kind: 'chunk' }> & { at: number }> {
    return (this.units.get(name) ?? []).flatMap((u) => (u.kind === 'chunk' ? [u] : []));
  }
}

/** Video packets of an fMP4 as ffprobe reads them: decode time (track units) and keyframe flag. */
function videoPackets(bytes: Buffer): Array<{ dts: number; key: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'nowcast-abr-'));
  const file = join(dir, 'out.mp4');
  writeFileSync(file, bytes);
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=dts,flags', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => { const [dts, flags] = l.split(','); return { dts: Number(dts), key: flags!.startsWith('K') }; });
}

describe('the ABR ladder on real FFmpeg', () => {
  let n: Running;
  let pub: Publisher;
  let viewer: Viewer;
  let ladder: AbrLadder;
  const rec = new Recorder();

  beforeAll(async () => {
    n = await startNowcast();
    pub = new Publisher({ url: n.rtmp('abr'), width: 640, height: 360, durationS: 60 });
    viewer = new Viewer(n.ws('abr'));
    await viewer.until(() => viewer.chunks().length > 0, 20_000, 'the source');
    ladder = new AbrLadder({
      config: { enabled: true, ladder: LADDER, ackIntervalMs: 200, streams: [] }, ffmpegPath: 'ffmpeg', fragmentUs: 30_000,
      maxBoxBytes: 2 * 1024 * 1024, maxInitBytes: 1024 * 1024, restartDelayMs: 100, maxRestartDelayMs: 1000,
      sinks: rec, log: createRootLogger(process.env.NOWCAST_TEST_LOG ?? 'silent'),
    });
    // Feed the ladder what the viewer gets, as the relay's tap would: the init, then each chunk.
    let fed = 0;
    let started = false;
    const pump = (): void => {
      const all = viewer.received;
      for (; fed < all.length; fed++) {
        const r = all[fed]!;
        if (r.kind !== 'binary') continue;
        if (r.unit.kind === 'init') { ladder.init('abr', 1, r.unit); started = true; } else if (started) ladder.chunk('abr', r.unit);
      }
    };
    const timer = setInterval(pump, 10);
    afterAll(() => clearInterval(timer));
  });

  afterAll(async () => {
    await ladder?.close();
    await ladder?.close();
    viewer?.close();
    await pub?.stop();
    await n?.app.close();
  });

  it('makes each rendition smaller than the source, with its keyframes at the source\'s decode times', async () => {
    const low = renditionStream('abr', '120p');
    await viewer.until(() => rec.chunks(low).filter((c) => c.keyframe).length >= 4, 30_000, 'four keyframes of the lowest rendition');
    const source = videoPackets(viewer.concat());
    const sourceKeys = new Set(source.filter((p) => p.key).map((p) => p.dts));
    const sourceDts = new Set(source.map((p) => p.dts));
    for (const r of LADDER) {
      const name = renditionStream('abr', r.name);
      const units = rec.units.get(name)!;
      const init = units.find((u) => u.kind === 'init');
      expect(init && init.kind === 'init' ? init.tracks.find((t) => t.kind === 'video')?.height : 0).toBe(r.height);
      const packets = videoPackets(Buffer.concat(units.map((u) => u.bytes)));
      expect(packets.length).toBeGreaterThan(60);
      // Every frame at one of the source's decode times, every keyframe at one of its keyframes.
      expect(packets.filter((p) => !sourceDts.has(p.dts))).toEqual([]);
      const keys = packets.filter((p) => p.key).map((p) => p.dts);
      expect(keys.length).toBeGreaterThanOrEqual(3);
      expect(keys.filter((k) => !sourceKeys.has(k))).toEqual([]);
      // …and none missing in between: the rendition has a keyframe wherever the source has one.
      const between = [...sourceKeys].filter((k) => k >= keys[0]! && k <= keys.at(-1)!);
      expect(keys).toEqual(between);
    }
  });

  it('keeps the other renditions going when one transcoder is killed, and restarts the killed one on a keyframe', async () => {
    const killed = renditionStream('abr', '240p');
    const other = renditionStream('abr', '120p');
    const pid = ladder.pid('abr', '240p');
    expect(pid).toBeGreaterThan(0);
    const before = { killed: rec.chunks(killed).length, other: rec.chunks(other).length };
    process.kill(pid!, 'SIGKILL');
    await viewer.until(() => ladder.failures > 0, 10_000, 'the failure seen');
    await viewer.until(() => rec.chunks(other).length > before.other + 60, 20_000, 'the other rendition going on');
    expect(rec.failures).toEqual([]);
    expect(ladder.failures).toBe(1);
    // Restarted: a new FFmpeg, whose output starts with an init and then a keyframe.
    await viewer.until(() => ladder.pid('abr', '240p') !== pid && rec.chunks(killed).length > before.killed + 30, 20_000, 'the killed rendition back');
    const units = rec.units.get(killed)!;
    const lastInit = units.findLastIndex((u) => u.kind === 'init');
    expect(lastInit).toBeGreaterThan(0);
    const first = units[lastInit + 1];
    expect(first?.kind === 'chunk' && first.keyframe).toBe(true);
  });
});
