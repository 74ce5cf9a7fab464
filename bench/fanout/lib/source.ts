// The benchmark's media: ~12 s of 2 Mbps, 30 fps H.264 recorded by FFmpeg into fragmented
// MP4 with one frame per fragment (prft + moof + mdat), split with the relay's own splitter.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Fmp4Splitter } from '../../../ingest/fmp4/splitter.js';
import type { Chunk, InitSegment } from '../../../media/types.js';

export const FPS = 30;
export const CHUNK_MS = 1000 / FPS;

export function recordArgs(out: string, seconds: number): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${FPS}`, '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', String(FPS), '-keyint_min', String(FPS), '-sc_threshold', '0',
    '-b:v', '2M', '-maxrate', '2M', '-bufsize', '1M', '-an',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof', '-frag_duration', '33333',
    '-write_prft', 'wallclock', out,
  ];
}

/** Records the source with FFmpeg unless `out` exists already. */
export function record(out: string, seconds = 12): void {
  if (existsSync(out)) return;
  const r = spawnSync('ffmpeg', recordArgs(out, seconds), { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`ffmpeg recording failed (exit ${r.status})`);
}

export interface Source {
  init: InitSegment;
  chunks: Chunk[];
  /** Byte offset of the 4-byte mfhd sequence number in every chunk (prft 32 + moof hdr 8 + mfhd hdr 12). */
  seqOffset: number;
  /** Mean bits per second of the chunks at FPS chunks/s. */
  bitrate: number;
}

/** Finds the mfhd sequence-number offset in one chunk, walking its top-level boxes. */
export function findSeqOffset(b: Buffer): number {
  let p = 0;
  while (p + 8 <= b.length) {
    const size = b.readUInt32BE(p);
    const type = b.toString('latin1', p + 4, p + 8);
    if (type === 'moof') {
      const inner = p + 8;
      if (b.toString('latin1', inner + 4, inner + 8) !== 'mfhd') throw new Error('moof does not start with mfhd');
      return inner + 12;
    }
    if (size < 8) break;
    p += size;
  }
  throw new Error('no moof in chunk');
}

export function loadSource(file: string): Source {
  const sp = new Fmp4Splitter();
  let init: InitSegment | null = null;
  const chunks: Chunk[] = [];
  sp.push(readFileSync(file), (u) => {
    if (u.kind === 'init') init = u;
    else chunks.push({ ...u, bytes: Buffer.from(u.bytes) });
  });
  if (!init) throw new Error(`${file}: no init segment`);
  if (!chunks[0]?.keyframe) throw new Error(`${file}: first chunk is not a keyframe`);
  const seqOffset = findSeqOffset(chunks[0].bytes);
  for (const c of chunks) {
    if (findSeqOffset(c.bytes) !== seqOffset) throw new Error('mfhd offset differs between chunks');
    if (c.bytes.readUInt32BE(seqOffset) !== c.seq) throw new Error('mfhd offset does not hold the sequence number');
  }
  const bytes = chunks.reduce((a, c) => a + c.bytes.length, 0);
  return { init, chunks, seqOffset, bitrate: (bytes * 8 * FPS) / chunks.length };
}

/**
 * The chunks for the C sender: "NCFO" magic, u32 count, u32 seqOffset, then per chunk
 * u32 length, u32 keyframe, bytes. Little-endian header fields.
 */
export function writeChunkFile(src: Source, out: string): void {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(12);
  h.write('NCFO', 0, 'latin1');
  h.writeUInt32LE(src.chunks.length, 4);
  h.writeUInt32LE(src.seqOffset, 8);
  parts.push(h);
  for (const c of src.chunks) {
    const ch = Buffer.alloc(8);
    ch.writeUInt32LE(c.bytes.length, 0);
    ch.writeUInt32LE(c.keyframe ? 1 : 0, 4);
    parts.push(ch, c.bytes);
  }
  writeFileSync(out, Buffer.concat(parts));
}
