import { describe, expect, it } from 'vitest';
import { decode, encodeChunk, encodeEnd, encodeInit, encodeState, HEADER_BYTES, WireError } from '../../cluster/wire.js';
import type { Chunk, InitSegment } from '../../media/types.js';

const init: InitSegment = { kind: 'init', bytes: Buffer.from('ftyp....moov....'), codecs: 'avc1.42c015,mp4a.40.2', mime: 'video/mp4; codecs="avc1.42c015,mp4a.40.2"',
  tracks: [{ id: 1, kind: 'video', codec: 'avc1.42c015', timescale: 16000, width: 320, height: 240 }] };
const chunk: Chunk = { kind: 'chunk', bytes: Buffer.from('moof....mdat....'), seq: 77, dts: 12.5, duration: 0.033, keyframe: true, prftMs: 1_700_000_000_123.25 };

describe('cluster frames', () => {
  it('carry a chunk with its keyframe flag, timing, mfhd and prft through encode and decode', () => {
    const f = decode(encodeChunk(chunk, 3, 41, 1234.5));
    expect(f).toMatchObject({ kind: 'chunk', generation: 3, seq: 41, sentAt: 1234.5 });
    if (f.kind !== 'chunk') throw new Error('kind');
    expect(f.chunk).toEqual({ ...chunk, bytes: chunk.bytes });
    expect(Buffer.compare(f.chunk.bytes, chunk.bytes)).toBe(0);
  });

  it('leave prftMs out of a chunk that had none', () => {
    const f = decode(encodeChunk({ ...chunk, prftMs: undefined, keyframe: false }, 1, 1, 0));
    if (f.kind !== 'chunk') throw new Error('kind');
    expect(f.chunk.keyframe).toBe(false);
    expect('prftMs' in f.chunk).toBe(false);
  });

  it('carry an init segment with its codecs, mime and tracks', () => {
    const f = decode(encodeInit(init, 2, 0, 5));
    expect(f).toMatchObject({ kind: 'init', generation: 2, init: { codecs: init.codecs, mime: init.mime, tracks: init.tracks } });
    if (f.kind !== 'init') throw new Error('kind');
    expect(f.init.bytes.toString()).toBe(init.bytes.toString());
  });

  it('carry states and the end of a snapshot', () => {
    expect(decode(encodeState({ state: 'error', code: 'X', message: 'm', codecs: 'avc1' }, 1, 9, 0))).toMatchObject({ kind: 'state', seq: 9, state: { state: 'error', code: 'X', message: 'm', codecs: 'avc1' } });
    expect(decode(encodeEnd(4, 10, 0))).toMatchObject({ kind: 'end', generation: 4, seq: 10 });
  });

  const good = encodeChunk(chunk, 1, 1, 0);
  const withByte = (at: number, v: number): Buffer => { const b = Buffer.from(good); b[at] = v; return b; };
  const initWithMeta = (meta: string): Buffer => {
    const b = Buffer.from(encodeInit(init, 1, 0, 0));
    const m = Buffer.from(meta);
    const out = Buffer.concat([b.subarray(0, HEADER_BYTES), Buffer.alloc(4), m, Buffer.from('ftyp')]);
    out.writeUInt32BE(m.length, HEADER_BYTES);
    return out;
  };
  it.each<[string, Buffer, RegExp]>([
    ['an empty message', Buffer.alloc(0), /0 bytes is shorter than the 56-byte header/],
    ['a truncated header', good.subarray(0, 20), /20 bytes is shorter/],
    ['another magic', withByte(0, 0x41), /bad magic/],
    ['another version', withByte(4, 9), /version 9 is not 1/],
    ['an unknown kind', withByte(5, 42), /unknown kind 42/],
    ['a chunk without bytes', good.subarray(0, HEADER_BYTES), /chunk without bytes/],
    ['init metadata that overruns the frame', (() => { const b = Buffer.from(encodeInit(init, 1, 0, 0)); b.writeUInt32BE(1e6, HEADER_BYTES); return b; })(), /overruns the frame/],
    ['init metadata that is not JSON', initWithMeta('{nope'), /init metadata is not a JSON object/],
    ['init metadata without codecs', initWithMeta('{"mime":"video/mp4","tracks":[]}'), /needs codecs, mime and tracks/],
    ['a state that is not a state', encodeState({ state: 'dancing' as 'live' }, 1, 1, 0), /state "dancing" is not one of offline, live, error/],
  ])('reject %s with an error that says what is wrong', (_name, bytes, message) => {
    expect(() => decode(bytes)).toThrow(WireError);
    expect(() => decode(bytes)).toThrow(message);
  });
});
