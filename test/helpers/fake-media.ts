// Init segments and chunks of made-up bytes, for tests of the relay, which only forwards them:
// an init is an `ftyp` box followed by a tag saying which configuration it is; a chunk is a
// 12-byte `moof` box carrying its sequence number (read it back with seqOf).
import type { Chunk, InitSegment } from '../../media/types.js';

export const fakeInit = (tag: string): InitSegment => {
  const bytes = Buffer.alloc(16 + tag.length);
  bytes.writeUInt32BE(16, 0);
  bytes.write('ftypisom', 4, 'latin1');
  bytes.write(tag, 16, 'latin1');
  return { kind: 'init', bytes, codecs: 'avc1.42c01e', mime: 'video/mp4; codecs="avc1.42c01e"', tracks: [] };
};

export const fakeChunk = (seq: number, keyframe: boolean, dts = seq / 30): Chunk => {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(12, 0);
  bytes.write('moof', 4, 'latin1');
  bytes.writeUInt32BE(seq, 8);
  return { kind: 'chunk', bytes, seq, dts, duration: 1 / 30, keyframe };
};

export const seqOf = (b: Buffer): number => b.readUInt32BE(8);
