// Test helpers: fMP4 fixtures made by FFmpeg at test time, a seeded PRNG, and an
// independent top-level box walker so tests do not trust the code under test.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'];
const AUDIO = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30'];
const FMP4 = ['-f', 'mp4', '-write_prft', 'wallclock'];

/** name -> FFmpeg input/codec/muxer arguments (output is the file). */
export const FIXTURES = {
  av: [...VIDEO, ...AUDIO, '-t', '3', ...X264, '-c:a', 'aac', ...FMP4, '-movflags', 'empty_moov+default_base_moof', '-frag_duration', '33333'],
  video: [...VIDEO, '-t', '3', ...X264, ...FMP4, '-movflags', 'empty_moov+default_base_moof+skip_trailer', '-frag_duration', '33333'],
  audio: [...AUDIO, '-t', '3', '-c:a', 'libopus', ...FMP4, '-movflags', 'empty_moov+default_base_moof', '-frag_duration', '20000'],
  everyFrame: [...VIDEO, ...AUDIO, '-t', '3', ...X264, '-c:a', 'aac', ...FMP4, '-movflags', 'empty_moov+default_base_moof+frag_every_frame'],
} as const;

export type FixtureName = keyof typeof FIXTURES;

export interface Fixture {
  bytes: Buffer;
  /** Video packets ffprobe flags as keyframes. */
  videoKeyframes: number;
}

export interface FixtureSet {
  fixtures: Record<FixtureName, Fixture>;
  cleanup: () => Promise<void>;
}

async function countKeyframes(file: string): Promise<number> {
  const args = ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=flags', '-of', 'csv=p=0', file];
  const { stdout } = await run('ffprobe', args);
  return stdout.split('\n').filter((line) => line.includes('K')).length;
}

/** Generates every fixture in parallel into a fresh temp dir. */
export async function makeFixtures(): Promise<FixtureSet> {
  const dir = await mkdtemp(join(tmpdir(), 'nowcast-fmp4-'));
  const entries = await Promise.all(
    (Object.keys(FIXTURES) as FixtureName[]).map(async (name) => {
      const file = join(dir, `${name}.mp4`);
      await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...FIXTURES[name], file]);
      const fixture: Fixture = { bytes: await readFile(file), videoKeyframes: await countKeyframes(file) };
      return [name, fixture] as const;
    }),
  );
  return {
    fixtures: Object.fromEntries(entries) as Record<FixtureName, Fixture>,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts `bytes` into pieces of 1..maxPiece bytes; a third of them tiny (1..8) to stress header splits. */
export function randomPieces(bytes: Buffer, seed: number, maxPiece = 5000): Buffer[] {
  const rand = prng(seed);
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const len = rand() < 0.33 ? 1 + Math.floor(rand() * 8) : 1 + Math.floor(rand() * maxPiece);
    // Copy, like fresh child-process stdout chunks: no piece shares memory with another.
    pieces.push(Buffer.from(bytes.subarray(at, at + len)));
    at += len;
  }
  return pieces;
}

export interface TopBox {
  type: string;
  start: number;
  size: number;
}

/** Top-level boxes of a well-formed file (32-bit sizes only, as FFmpeg writes them). */
export function topLevelBoxes(bytes: Buffer): TopBox[] {
  const out: TopBox[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at);
    out.push({ type: bytes.toString('latin1', at + 4, at + 8), start: at, size });
    at += size;
  }
  return out;
}

/** Builds a box from a type and payload parts. */
export function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

/** Big-endian u32 words as a buffer. */
export function u32(...words: number[]): Buffer {
  const buf = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => buf.writeUInt32BE(w >>> 0, i * 4));
  return buf;
}
