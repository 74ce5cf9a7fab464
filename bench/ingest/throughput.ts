// How fast the in-process remux reads, on one core: what a publisher at limits.maxPublishBitrate
// costs the relay's thread (the remux runs there). Media made once by FFmpeg (720p30 at 8 Mbit/s,
// AAC 128 kb/s), then fed through each remux from memory in the pieces the network hands over:
// 1,316-byte SRT payloads, 64 KiB TCP reads.
import { spawnSync } from 'node:child_process';
import { FlvRemuxer } from '../../ingest/flv/remuxer.js';
import { TsRemuxer } from '../../ingest/ts/remuxer.js';
import type { ChunkRemuxer } from '../../ingest/tap.js';
import { defaults } from '../../app/config.js';

export interface ThroughputRow {
  what: string;
  /** Media bytes read per second of one core, median of the repeats (first one discarded: JIT warm-up). */
  mbitPerS: number;
  /** Share of one core a publisher at limits.maxPublishBitrate costs. */
  capShare: number;
  chunksPerS: number;
}

const SECONDS = 20;
const REPEATS = 6;
/** Runs timed: the first is JIT warm-up. */
export const TIMED_RUNS = REPEATS - 1;
const MAX_BOX = defaults.remux.maxBoxBytes;

function media(format: 'flv' | 'mpegts', muxerArgs: string[]): Buffer {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(SECONDS), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', '8000k', '-g', '30',
    '-c:a', 'aac', '-b:a', '128k', ...muxerArgs, '-f', format, 'pipe:1'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr.toString()}`);
  return r.stdout;
}

function timeOne(bytes: Buffer, piece: number, make: () => ChunkRemuxer): { seconds: number; chunks: number } {
  const m = make();
  let chunks = 0;
  const emit = (): void => { chunks++; };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < bytes.length; i += piece) {
    m.push(bytes.subarray(i, i + piece), emit);
    if (m.ready()) m.flush(emit);
  }
  m.flush(emit, true);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, chunks };
}

function measure(what: string, bytes: Buffer, piece: number, make: () => ChunkRemuxer): ThroughputRow {
  const runs = Array.from({ length: REPEATS }, () => timeOne(bytes, piece, make)).slice(REPEATS - TIMED_RUNS);
  const seconds = runs.map((r) => r.seconds).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  const mbitPerS = (bytes.length * 8) / seconds / 1e6;
  return { what, mbitPerS, capShare: defaults.limits.maxPublishBitrate / 1e6 / mbitPerS, chunksPerS: runs[0]!.chunks / seconds };
}

export function remuxThroughput(): ThroughputRow[] {
  const ts = (): ChunkRemuxer => new TsRemuxer({ maxPesBytes: MAX_BOX, maxProbeBytes: defaults.srt.probeSizeBytes });
  return [
    measure('MPEG-TS, FFmpeg\'s defaults, 1,316-byte pieces → TsRemuxer (SRT)', media('mpegts', []), 1316, ts),
    measure('MPEG-TS, -pes_payload_size 0 -muxdelay 0, 1,316-byte pieces → TsRemuxer (SRT)', media('mpegts', ['-pes_payload_size', '0', '-muxdelay', '0']), 1316, ts),
    measure('FLV, 64 KiB pieces → FlvRemuxer (RTMP\'s remux, after the RTMP thread)', media('flv', []), 64 * 1024, () => new FlvRemuxer({ maxTagBytes: MAX_BOX })),
  ];
}
