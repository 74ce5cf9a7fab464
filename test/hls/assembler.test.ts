// Chunks to LL-HLS parts: where segments and parts start and end, how long parts are against
// PART-TARGET, and the trun patch on the copies (never on the buffers WebSocket viewers share).
import { describe, expect, it } from 'vitest';
import { MIN_SEGMENT_S, PartAssembler, type AssembledPart } from '../../hls/assembler.js';
import type { Chunk } from '../../media/types.js';
import { AUDIO, VIDEO, audioChunks, initOf, readMoofs, remuxChunks, topBoxes } from './fixtures.js';

interface Out { segments: AssembledPart[][]; open: AssembledPart[] }

function assemble(chunks: Chunk[], o: { partTargetMs?: number; maxSegmentBytes?: number; audioOnly?: boolean; flush?: boolean } = {}): Out & { asm: PartAssembler } {
  const out: Out = { segments: [], open: [] };
  const asm = new PartAssembler({ partTargetMs: o.partTargetMs ?? 200, maxSegmentBytes: o.maxSegmentBytes ?? 16 * 1024 * 1024 }, {
    part: (p) => out.open.push(p),
    segmentEnd: () => { out.segments.push(out.open); out.open = []; },
  });
  asm.init(initOf(o.audioOnly ? [AUDIO] : [VIDEO, AUDIO]));
  for (const c of chunks) asm.chunk(c, 0);
  if (o.flush) asm.flush();
  return { ...out, asm };
}

const sum = (ps: AssembledPart[]): number => ps.reduce((n, p) => n + p.duration, 0);

describe('the part assembler', () => {
  it('starts a segment at each keyframe and marks the parts that start at one independent', () => {
    const { segments, open } = assemble(remuxChunks(121), {}); // keyframes at 0, 30, 60, 90, 120
    expect(segments).toHaveLength(4);
    for (const seg of segments) {
      expect(seg[0]!.independent).toBe(true);
      expect(seg.slice(1).every((p) => !p.independent)).toBe(true);
      expect(sum(seg)).toBeCloseTo(1, 6); // 30 frames of 1/30 s, ms-rounded: exactly 1 s per GOP
    }
    expect(open).toEqual([]); // frame 120 waits for the next video chunk
  });

  it.each([
    [30, 200], [25, 200], [24, 200], [60, 200], [50, 100], [30, 500], [30, 33], [29.97, 200], [15, 200],
  ])('at %s fps and partTargetMs %s, keeps parts within PART-TARGET and, but the last of a segment, at 85 %% of it or more', (fps, partTargetMs) => {
    const gop = Math.round(fps * 2);
    const { segments, asm } = assemble(remuxChunks(gop * 3 + 1, { fps, gop }), { partTargetMs });
    const target = asm.partTarget;
    expect(target).toBeGreaterThan(0);
    // The whole number of frames nearest the wish, each rounded up to the ms plus 1 ms.
    const frame = 1000 / fps;
    const k = Math.max(1, Math.round(partTargetMs / frame));
    expect(target * 1000).toBeGreaterThanOrEqual(k * frame);
    expect(target * 1000).toBeLessThanOrEqual(k * (frame + 2));
    expect(segments).toHaveLength(3);
    for (const seg of segments) {
      for (const p of seg) expect(p.duration).toBeLessThanOrEqual(target + 1e-9);
      for (const p of seg.slice(0, -1)) expect(p.duration).toBeGreaterThanOrEqual(0.85 * target);
    }
  });

  it('fixes PART-TARGET from the first frame interval: 6 frames of 33–34 ms make 6 × 35 ms', () => {
    const { asm } = assemble(remuxChunks(3));
    expect(asm.partTarget).toBe(0.204); // the first settled interval is 33 ms → 6 × (33 + 1)
  });

  it('writes the real frame interval into each part\'s copy and leaves the shared chunk buffers as they were', () => {
    const chunks = remuxChunks(61);
    const before = chunks.map((c) => Buffer.from(c.bytes));
    const { segments } = assemble(chunks);
    chunks.forEach((c, i) => expect(c.bytes.equals(before[i]!)).toBe(true));
    const moofs = segments.flat().flatMap((p) => readMoofs(p.bytes));
    expect(moofs).toHaveLength(60);
    for (let i = 0; i + 1 < moofs.length; i++) {
      const v = moofs[i]!.find((t) => t.trackId === VIDEO.id)!;
      const next = moofs[i + 1]!.find((t) => t.trackId === VIDEO.id)!;
      expect(v.durations.at(-1)).toBe(next.dts - v.dts); // 33 or 34 ms, not the 66–68 written for WebSocket viewers
    }
    // The originals still carry twice the interval: MSE viewers rely on it.
    expect(readMoofs(chunks[5]!.bytes.subarray(chunks[5]!.bytes.indexOf('moof') - 4))[0]![0]!.durations[0]).toBeGreaterThanOrEqual(66);
  });

  it('leaves prft out: a part is moof and mdat only', () => {
    const { segments } = assemble(remuxChunks(31));
    expect(topBoxes(segments[0]![0]!.bytes).slice(0, 4)).toEqual(['moof', 'mdat', 'moof', 'mdat']);
    expect(topBoxes(remuxChunks(1)[0]!.bytes)[0]).toBe('prft');
  });

  it('gives a skipped frame\'s predecessor the real, longer interval', () => {
    const { segments } = assemble(remuxChunks(61, { skip: [10] }));
    const moofs = segments.flat().flatMap((p) => readMoofs(p.bytes));
    const v9 = moofs[9]!.find((t) => t.trackId === VIDEO.id)!;
    const v10 = moofs[10]!.find((t) => t.trackId === VIDEO.id)!;
    expect(v9.durations[0]).toBe(v10.dts - v9.dts);
    expect(v10.dts - v9.dts).toBeGreaterThanOrEqual(66);
  });

  it('holds an audio-only chunk behind the video chunk before it until the next video chunk settles that one', () => {
    const [a, b, c] = remuxChunks(3, { audio: false });
    const audio = audioChunks(1)[0]!;
    const out: AssembledPart[] = [];
    const asm = new PartAssembler({ partTargetMs: 33, maxSegmentBytes: 1e9 }, { part: (p) => out.push(p), segmentEnd: () => {} });
    asm.init(initOf());
    asm.chunk(a!, 0);
    asm.chunk(audio, 0);
    expect(out).toHaveLength(0); // a is not settled, and the audio chunk waits behind it
    asm.chunk(b!, 0);
    asm.chunk(c!, 0);
    const boxes = out.flatMap((p) => topBoxes(p.bytes)).filter((t) => t === 'moof');
    expect(boxes.length).toBe(3); // a, the audio chunk, b: in order
    expect(readMoofs(out[0]!.bytes)[0]![0]!.durations[0]).toBe(33);
  });

  it('on flush gives the last frame the last known interval and ends the segment', () => {
    const { segments, open } = assemble(remuxChunks(45), { flush: true });
    expect(open).toEqual([]);
    expect(segments).toHaveLength(2);
    const last = readMoofs(segments[1]!.at(-1)!.bytes).at(-1)!.find((t) => t.trackId === VIDEO.id)!;
    expect([33, 34]).toContain(last.durations[0]);
    expect(sum(segments[1]!)).toBeCloseTo(0.5, 2);
  });

  it('ends the segment at a new init segment, and starts the next from the new generation\'s first keyframe', () => {
    const out: string[] = [];
    const asm = new PartAssembler({ partTargetMs: 200, maxSegmentBytes: 1e9 }, { part: (p) => out.push(p.independent ? 'P!' : 'p'), segmentEnd: () => out.push('|') });
    asm.init(initOf());
    for (const c of remuxChunks(20)) asm.chunk(c, 0);
    asm.init(initOf([VIDEO, AUDIO], 'b'));
    for (const c of remuxChunks(8)) asm.chunk(c, 0);
    expect(out.join(' ')).toBe('P! p p p |' + ' P!');
  });

  it('cuts a keyframe-less stretch at maxSegmentBytes: the segment after it does not start independent', () => {
    const { segments } = assemble(remuxChunks(200, { gop: 1000 }), { maxSegmentBytes: 20_000 });
    expect(segments.length).toBeGreaterThan(1);
    expect(segments[0]![0]!.independent).toBe(true);
    expect(segments[1]![0]!.independent).toBe(false);
    for (const seg of segments) expect(seg.reduce((n, p) => n + p.bytes.length, 0)).toBeLessThanOrEqual(20_000);
  });

  it(`with a keyframe every 10 frames, makes segments of at least ${MIN_SEGMENT_S} s, each keyframe starting an independent part`, () => {
    const { segments } = assemble(remuxChunks(91, { gop: 10 }));
    expect(segments).toHaveLength(3);
    for (const seg of segments) {
      expect(sum(seg)).toBeGreaterThanOrEqual(MIN_SEGMENT_S);
      expect(seg.filter((p) => p.independent)).toHaveLength(3);
    }
  });

  it('makes parts and segments of an audio-only stream, whose every chunk is a keyframe', () => {
    const { segments, asm } = assemble(audioChunks(200), { audioOnly: true }); // 42.7 ms chunks
    expect(asm.partTarget).toBeCloseTo(0.22, 6); // 5 × (43 + 1) ms
    expect(segments.length).toBeGreaterThan(5);
    for (const seg of segments) {
      expect(sum(seg)).toBeGreaterThanOrEqual(MIN_SEGMENT_S);
      for (const p of seg) expect(p.duration).toBeLessThanOrEqual(asm.partTarget);
    }
  });

  it('takes the wall clock of each part\'s first chunk from its prft', () => {
    const { segments } = assemble(remuxChunks(31, { wallMs: 1_000_000 }));
    expect(segments[0]!.map((p) => p.wallMs)).toEqual([1_000_000, 1_000_200, 1_000_400, 1_000_600, 1_000_800]);
  });

  it('counts and drops a chunk it cannot read', () => {
    const bad: Chunk = { kind: 'chunk', bytes: Buffer.from('not an mp4 box at all'), seq: 1, dts: 0, duration: 0.033, keyframe: true };
    const { asm, segments } = assemble([bad, ...remuxChunks(2)], { flush: true });
    expect(asm.unreadable).toBe(1);
    expect(segments.flat()).toHaveLength(1);
  });
});

