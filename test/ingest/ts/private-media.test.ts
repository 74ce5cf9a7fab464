import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { privateMedia } from '../../../ingest/ts/remuxer.js';

const d = (tag: number, body: Buffer | string): Buffer => {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  return Buffer.concat([Buffer.from([tag, b.length]), b]);
};

describe('privateMedia: whether PES private data (stream_type 0x06) is audio or video, by its descriptors', () => {
  const table: Array<[string, Buffer, string | null]> = [
    ['Opus, by its registration descriptor (as FFmpeg writes it)', Buffer.concat([d(0x05, 'Opus'), d(0x7f, Buffer.from([0x80, 2]))]), 'Opus'],
    ['AC-3, by its registration descriptor', d(0x05, 'AC-3'), 'AC-3'],
    ['AC-3, by the DVB AC-3 descriptor', d(0x6a, Buffer.from([0])), 'DVB descriptor 0x6a'],
    ['E-AC-3, by the DVB enhanced AC-3 descriptor', d(0x7a, Buffer.from([0])), 'DVB descriptor 0x7a'],
    ['teletext (DVB teletext descriptor): data', d(0x56, Buffer.from([0x65, 0x6e, 0x67, 0x09, 0x00])), null],
    ['subtitles (DVB subtitling descriptor): data', d(0x59, Buffer.alloc(8)), null],
    ['KLV, by its registration descriptor: data', d(0x05, 'KLVA'), null],
    ['no descriptors', Buffer.alloc(0), null],
    ['a descriptor cut short', Buffer.from([0x05, 10, 0x4f]), null],
    ['a registration descriptor too short for its identifier', d(0x05, 'Op'), null],
  ];

  it.each(table)('%s', (_name, info, expected) => {
    expect(privateMedia(info)).toBe(expected);
  });

  it('never throws, whatever the descriptor bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const r = privateMedia(Buffer.from(bytes));
      expect(r === null || typeof r === 'string').toBe(true);
    }), { numRuns: 500 });
  });
});
