import { describe, expect, it } from 'vitest';
import { HoldRestamp, writePrft } from '../../../ingest/srt/restamp.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID, chunk } from '../../../ingest/flv/mp4-writer.js';
import { childBoxes, parsePrft, summarizeMoof, type BoxRef, type MoovTrack } from '../../../ingest/fmp4/boxes.js';

/** Chunks every 33.3 ms of media; `writtenAt(i)` is when FFmpeg wrote chunk i. */
function run(n: number, writtenAt: (i: number) => number): Array<{ prft: number; stamp: number }> {
  const r = new HoldRestamp();
  return Array.from({ length: n }, (_, i) => {
    const prft = writtenAt(i);
    return { prft, stamp: r.stamp(prft, i / 30) };
  });
}

describe('SRT chunk restamping', () => {
  it('keeps a steady stream\'s stamps', () => {
    for (const c of run(300, (i) => 1_000_000 + i * (1000 / 30) + (i % 3))) expect(c.prft - c.stamp).toBeLessThanOrEqual(2);
  });

  it('stamps a frame held for a burst when it could have been written', () => {
    // Bursts of 7 frames every 233 ms: each burst written when its last frame could be.
    const cs = run(140, (i) => 1_000_000 + (Math.floor(i / 7) * 7 + 6) * (1000 / 30));
    // The first frame of a later burst was held 6 frame intervals (200 ms).
    expect(cs[70]!.prft - cs[70]!.stamp).toBeCloseTo(200, 0);
    expect(cs[76]!.prft - cs[76]!.stamp).toBeCloseTo(0, 0);
    for (const c of cs) expect(c.stamp).toBeLessThanOrEqual(c.prft);
  });

  it('starts over at a timestamp jump instead of stamping far in the past', () => {
    const r = new HoldRestamp();
    for (let i = 0; i < 30; i++) r.stamp(1_000_000 + i * 33, i / 30);
    // The publisher's clock restarts at 0 one second later.
    expect(r.stamp(1_002_000, 0)).toBe(1_002_000);
  });

  it('rewrites a prft box in place, readable again', () => {
    const box = Buffer.alloc(32);
    box.writeUInt32BE(32, 0);
    box.write('prft', 4, 'latin1');
    expect(writePrft(box, 1_796_594_000_123.5)).toBe(true);
    expect(parsePrft(box, { type: 'prft', start: 0, headerSize: 8, end: 32 })).toBeCloseTo(1_796_594_000_123.5, 2);
    expect(writePrft(Buffer.from('0000moofxxxxxxxxxxxxxxxxxxxxxxxx'), 1)).toBe(false);
  });

  // A frame at 3.0 s (timescale 1000) carrying audio that came late, from 2.8 s (timescale 48000).
  const late = (): Buffer => chunk(7, [
    { trackId: VIDEO_TRACK_ID, dts: 3000, samples: [{ data: Buffer.alloc(10), duration: 33, cts: 0, sync: false }] },
    { trackId: AUDIO_TRACK_ID, dts: 134_400, samples: [{ data: Buffer.alloc(8), duration: 1024, cts: 0, sync: true }] },
  ], { refTrackId: VIDEO_TRACK_ID, unixMs: 1_796_594_000_000, mediaTime: 3000 });
  /** What the splitter makes of it: its moof summary, with the tracks of the remux's init. */
  const summary = (c: Buffer) => {
    const root: BoxRef = { type: 'root', start: 0, headerSize: 0, end: c.length };
    const moof = childBoxes(c, root).find((b) => b.type === 'moof')!;
    const track = (id: number, timescale: number, handler: string): [number, MoovTrack] => [id, { id, handler, timescale, defaultDuration: 0, defaultFlags: 0 }];
    const tracks = new Map([track(VIDEO_TRACK_ID, 1000, 'vide'), track(AUDIO_TRACK_ID, 48000, 'soun')]);
    return summarizeMoof(c, moof, tracks);
  };

  it('finds the track that starts earliest in a chunk (late audio riding with a frame)', () => {
    expect(summary(late())).toMatchObject({ dts: 3, earliest: { trackId: AUDIO_TRACK_ID, ticks: 134_400, seconds: 2.8 } });
  });

  it('stamps the late audio, not the frame, when it restamps a chunk for it', () => {
    const c = late();
    expect(writePrft(c, 1_796_593_999_800, summary(c).earliest)).toBe(true);
    expect(c.readUInt32BE(12)).toBe(AUDIO_TRACK_ID);
    expect(c.readUInt32BE(24) * 2 ** 32 + c.readUInt32BE(28)).toBe(134_400);
    expect(parsePrft(c, { type: 'prft', start: 0, headerSize: 8, end: c.readUInt32BE(0) })).toBeCloseTo(1_796_593_999_800, 2);
  });
});
