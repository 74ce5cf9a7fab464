import { describe, expect, it } from 'vitest';
import { remuxArgs } from '../../ingest/ffmpeg-args.js';
import { restartDelay } from '../../ingest/backoff.js';

const base = { fragmentUs: 33333, analyzeDurationUs: 100000, probeSizeBytes: 32768 };
const flags = (args: string[]): string => args[args.indexOf('-movflags') + 1]!;

describe('the remux command', () => {
  it('copies an RTMP publish read as FLV from stdin into small fragments with prft and bounded probing', () => {
    const a = remuxArgs({ ...base, input: { kind: 'flv-pipe' } });
    expect(a.slice(a.indexOf('-i') - 2, a.indexOf('-i') + 2)).toEqual(['-f', 'flv', '-i', 'pipe:0']);
    expect(a).not.toContain('-nostdin');
    expect(a).toContain('copy');
    expect(a.slice(a.indexOf('-analyzeduration'), a.indexOf('-analyzeduration') + 2)).toEqual(['-analyzeduration', '100000']);
    expect(a[a.indexOf('-frag_duration') + 1]).toBe('33333');
    expect(a[a.indexOf('-write_prft') + 1]).toBe('wallclock');
    expect(flags(a)).toContain('empty_moov');
    expect(flags(a)).toContain('default_base_moof');
    expect(flags(a)).not.toContain('delay_moov');
    expect(a).not.toContain('nobuffer');
    expect(a.at(-1)).toBe('pipe:1');
  });

  it('reads an SRT caller\'s MPEG-TS on stdin, with the ADTS-to-ASC filter and delay_moov', () => {
    const a = remuxArgs({ ...base, input: { kind: 'ts-pipe' } });
    expect(a[a.indexOf('-bsf:a') + 1]).toBe('aac_adtstoasc');
    expect(flags(a)).toContain('delay_moov');
    expect(a.slice(a.indexOf('-i') - 2, a.indexOf('-i') + 2)).toEqual(['-f', 'mpegts', '-i', 'pipe:0']);
    expect(a.join(' ')).not.toContain('srt://');
  });
});

describe('the restart backoff', () => {
  it.each([[0, 100, 200], [1, 200, 400], [3, 800, 1600], [10, 2500, 5000]])(
    'waits between half and all of the capped exponential delay on attempt %i', (attempt, lo, hi) => {
      expect(restartDelay(attempt, 200, 5000, () => 0)).toBe(lo);
      expect(restartDelay(attempt, 200, 5000, () => 0.999999)).toBe(hi);
    });
});
