// The MPEG-TS demuxer (ingest/ts/demux.ts) on streams built by hand as muxers write them: PSI
// sections with their CRC, PES packets cut into TS packets, the last one padded with
// adaptation-field stuffing. Arbitrary and mangled bytes only ever throw TsError.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PACKET, TsDemuxer, crc32Mpeg, type Pes, type TsDemuxerOptions } from '../../../ingest/ts/demux.js';
import { TsError, type TsErrorCode } from '../../../ingest/ts/errors.js';

const H264 = 0x1b;
const ADTS = 0x0f;
const PMT_PID = 0x1000;
const VIDEO = 0x100;
const AUDIO = 0x101;
const DATA = 0x102;

// ---- A small muxer ----

/** A 188-byte packet. `af` is the adaptation field after its length byte (flags first); short payloads are stuffed there as FFmpeg does. */
function packet(pid: number, cc: number, payload: Buffer, o: { pusi?: boolean; af?: Buffer } = {}): Buffer {
  let af = o.af ?? null;
  const room = PACKET - 4 - (af ? 1 + af.length : 0);
  if (payload.length > room) throw new Error(`${payload.length} bytes do not fit in a packet`);
  if (payload.length < room) {
    const stuffing = room - payload.length;
    // One byte: adaptation_field_length 0; two: a flags byte of 0; more: 0xff after it.
    af = af ? Buffer.concat([af, Buffer.alloc(stuffing, 0xff)])
      : Buffer.concat([Buffer.alloc(Math.min(stuffing - 1, 1), 0), Buffer.alloc(Math.max(0, stuffing - 2), 0xff)]);
  }
  const head = Buffer.from([0x47, (o.pusi ? 0x40 : 0) | (pid >> 8), pid & 0xff, (af ? 0x30 : 0x10) | (cc & 0x0f)]);
  return Buffer.concat([head, af ? Buffer.concat([Buffer.from([af.length]), af]) : Buffer.alloc(0), payload]);
}

/** A PSI section with its CRC-32/MPEG-2 (table_id_extension 1, current, section 0 of 0). */
function section(tableId: number, version: number, body: Buffer): Buffer {
  const len = 5 + body.length + 4;
  const s = Buffer.concat([Buffer.from([tableId, 0xb0 | (len >> 8), len & 0xff, 0, 1, 0xc1 | (version << 1), 0, 0]), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32Mpeg(s));
  return Buffer.concat([s, crc]);
}

const pat = (pmtPid = PMT_PID): Buffer => section(0, 0, Buffer.from([0, 1, 0xe0 | (pmtPid >> 8), pmtPid & 0xff]));
function pmt(streams: Array<[number, number]>, version = 0, esInfo = 0): Buffer {
  const entries = streams.map(([type, pid]) => Buffer.concat([Buffer.from([type, 0xe0 | (pid >> 8), pid & 0xff, 0xf0 | (esInfo >> 8), esInfo & 0xff]), Buffer.alloc(esInfo, 0x0a)]));
  return section(2, version, Buffer.concat([Buffer.from([0xe1, 0x00, 0xf0, 0x00]), ...entries]));
}

/** The 5-byte PES form of a 33-bit timestamp. */
function stamp(prefix: number, t: number): number[] {
  const hi = Math.floor(t / 2 ** 30) & 0x07;
  const mid = Math.floor(t / 2 ** 15) & 0x7fff;
  const lo = t % 2 ** 15;
  return [(prefix << 4) | (hi << 1) | 1, mid >> 7, ((mid & 0x7f) << 1) | 1, lo >> 7, ((lo & 0x7f) << 1) | 1];
}

/** A PES packet; bounded ones carry PES_packet_length, video ones usually do not (0). */
function pes(data: Buffer, o: { pts?: number; dts?: number; bounded?: boolean; streamId?: number } = {}): Buffer {
  const ts = o.pts === undefined ? [] : o.dts === undefined ? stamp(2, o.pts) : [...stamp(3, o.pts), ...stamp(1, o.dts)];
  const flags = o.pts === undefined ? 0 : o.dts === undefined ? 0x80 : 0xc0;
  const len = o.bounded ? 3 + ts.length + data.length : 0;
  return Buffer.concat([Buffer.from([0, 0, 1, o.streamId ?? 0xe0, len >> 8, len & 0xff, 0x80, flags, ts.length, ...ts]), data]);
}

/** Writes packets with continuity counters per PID. */
class Mux {
  readonly #cc = new Map<number, number>();
  cc(pid: number): number {
    const c = ((this.#cc.get(pid) ?? 15) + 1) & 0x0f;
    this.#cc.set(pid, c);
    return c;
  }
  /** A section in one packet, padded with 0xff (PSI is stuffed in its payload). */
  psi(pid: number, s: Buffer): Buffer {
    const payload = Buffer.concat([Buffer.from([0]), s]);
    return packet(pid, this.cc(pid), Buffer.concat([payload, Buffer.alloc(PACKET - 4 - payload.length, 0xff)]), { pusi: true });
  }
  program(streams: Array<[number, number]> = [[H264, VIDEO], [ADTS, AUDIO]]): Buffer[] {
    return [this.psi(0, pat()), this.psi(PMT_PID, pmt(streams))];
  }
  /** A PES cut into packets; `first` is the first packet's adaptation field (a PCR, say). */
  pes(pid: number, p: Buffer, first?: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (let at = 0; at < p.length; ) {
      const af = at === 0 ? first : undefined;
      const n = Math.min(p.length - at, PACKET - 4 - (af ? 1 + af.length : 0));
      out.push(packet(pid, this.cc(pid), p.subarray(at, at + n), { pusi: at === 0, ...(af ? { af } : {}) }));
      at += n;
    }
    return out;
  }
}

const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251));
/** Adaptation field with a PCR (and random_access_indicator), as on the first packet of a keyframe. */
const PCR_AF = Buffer.from([0x50, 0, 0, 0, 0, 0x7e, 0]);

// ---- Running it ----

interface Seen {
  pid: number;
  pts: number;
  dts: number;
  data: string;
  /** Index of the piece whose push gave it out, or 'end'. */
  at: number | 'end';
}

function demux(pieces: Buffer[], o: Partial<TsDemuxerOptions> = {}) {
  const warnings: string[] = [];
  const programs: Array<Record<number, number>> = [];
  const d = new TsDemuxer({
    streamTypes: new Set([H264, ADTS]), maxPesBytes: 1 << 20,
    warn: (m) => warnings.push(m), program: (s) => programs.push(Object.fromEntries(s)), ...o,
  });
  const seen: Seen[] = [];
  const take = (list: Pes[], at: number | 'end'): void => {
    for (const p of list) seen.push({ pid: p.pid, pts: p.pts, dts: p.dts, data: p.data.toString('hex'), at });
  };
  pieces.forEach((piece, i) => take(d.push(piece), i));
  take(d.end(), 'end');
  return { seen, warnings, programs, demuxer: d };
}

const content = (seen: Seen[]): Array<Omit<Seen, 'at'>> => seen.map(({ at: _at, ...rest }) => rest);

function codeOf(fn: () => unknown): TsErrorCode {
  try {
    fn();
  } catch (err) {
    if (err instanceof TsError) return err.code;
    throw err;
  }
  throw new Error('expected a TsError');
}

// ---- The tests ----

describe('program tables', () => {
  it('a PAT then a PMT declare the program\'s streams, once per PMT version', () => {
    const m = new Mux();
    const [pa, pm] = m.program([[H264, VIDEO], [ADTS, AUDIO], [0x06, DATA]]);
    const programs: Array<Record<number, number>> = [];
    const d = new TsDemuxer({ streamTypes: new Set([H264]), maxPesBytes: 1 << 20, program: (s) => programs.push(Object.fromEntries(s)) });
    d.push(pa!);
    expect(d.hasProgram).toBe(false);
    d.push(pm!);
    expect(d.hasProgram).toBe(true);
    d.push(m.psi(PMT_PID, pmt([[H264, VIDEO], [ADTS, AUDIO], [0x06, DATA]]))); // the same version again
    d.push(m.psi(PMT_PID, pmt([[H264, VIDEO]], 1)));
    expect(programs).toEqual([{ [VIDEO]: H264, [AUDIO]: ADTS, [DATA]: 0x06 }, { [VIDEO]: H264 }]);
  });

  const bad = (s: Buffer): Buffer => Buffer.concat([s.subarray(0, 9), Buffer.from([s[9]! ^ 1]), s.subarray(10)]);
  const cases: Array<[string, (m: Mux) => Buffer[], Array<Record<number, number>>, RegExp | null]> = [
    ['a PMT with a bad CRC is ignored, and the next good one read', (m) => [m.psi(0, pat()), m.psi(PMT_PID, bad(pmt([[H264, VIDEO]]))), m.psi(PMT_PID, pmt([[ADTS, AUDIO]]))], [{ [AUDIO]: ADTS }], /bad CRC/],
    ['a PAT with a bad CRC is ignored, so its PMT is not read', (m) => [m.psi(0, bad(pat())), m.psi(PMT_PID, pmt([[H264, VIDEO]]))], [], /bad CRC/],
    ['a PMT on a PID the PAT did not name is not read', (m) => [m.psi(0, pat(0x1001)), m.psi(PMT_PID, pmt([[H264, VIDEO]]))], [], null],
    ['a section longer than 1,024 bytes is ignored', (m) => [m.psi(0, pat()), packet(PMT_PID, m.cc(PMT_PID), Buffer.concat([Buffer.from([0, 2, 0xb7, 0xff]), Buffer.alloc(180, 0xff)]), { pusi: true })], [], /PSI section of 2050 bytes/],
    ['a PMT spanning two packets (long descriptors) is gathered', (m) => {
      const s = Buffer.concat([Buffer.from([0]), pmt([[H264, VIDEO], [ADTS, AUDIO]], 0, 150)]);
      return [m.psi(0, pat()), packet(PMT_PID, m.cc(PMT_PID), s.subarray(0, 184), { pusi: true }), packet(PMT_PID, m.cc(PMT_PID), s.subarray(184))];
    }, [{ [VIDEO]: H264, [AUDIO]: ADTS }], null],
    ['a PMT after a pointer_field skipping bytes is read', (m) => {
      const s = Buffer.concat([Buffer.from([3, 0xaa, 0xbb, 0xcc]), pmt([[H264, VIDEO]])]);
      return [m.psi(0, pat()), packet(PMT_PID, m.cc(PMT_PID), Buffer.concat([s, Buffer.alloc(184 - s.length, 0xff)]), { pusi: true })];
    }, [{ [VIDEO]: H264 }], null],
  ];

  it.each(cases)('%s', (_name, build, programs, warning) => {
    const r = demux(build(new Mux()));
    expect(r.programs).toEqual(programs);
    if (warning) expect(r.warnings).toEqual([expect.stringMatching(warning)]);
    else expect(r.warnings).toEqual([]);
  });
});

describe('PES assembly', () => {
  const frame = (n: number, seed: number, pts: number): Buffer => pes(bytes(n, seed), { pts: pts + 3000, dts: pts });
  const audio = (n: number, seed: number, pts: number): Buffer => pes(bytes(n, seed), { pts, bounded: true, streamId: 0xc0 });

  interface Case {
    pieces: Buffer[];
    /** Per PES out: its PID, data and the piece that gave it out. */
    want: Array<[number, Buffer, number | 'end']>;
    warnings?: RegExp[];
  }
  const cases: Array<[string, (m: Mux) => Case]> = [
    ['a PES with a length completes at its last byte, without waiting for the next', (m) => {
      const a = audio(500, 1, 9000);
      return { pieces: [...m.program(), ...m.pes(AUDIO, a)], want: [[AUDIO, bytes(500, 1), 4]] };
    }],
    ['a PES with a length that exactly fills its last packet completes there', (m) => {
      const a = audio(2 * 184 - 14, 2, 9000);
      return { pieces: [...m.program(), ...m.pes(AUDIO, a)], want: [[AUDIO, bytes(354, 2), 3]] };
    }],
    ['an unbounded video PES completes at once at its stuffed last packet', (m) => {
      const p = m.pes(VIDEO, frame(1000, 3, 9000), PCR_AF);
      return { pieces: [...m.program(), ...p], want: [[VIDEO, bytes(1000, 3), 1 + p.length]] };
    }],
    ['an unbounded video PES whose last packet is exactly full completes at the next PES start', (m) => {
      const p = m.pes(VIDEO, frame(3 * 184 - 19, 4, 9000));
      expect(p.at(-1)![3]! & 0x20).toBe(0); // no adaptation field: nothing says it ended
      const next = m.pes(VIDEO, frame(100, 5, 12000));
      return { pieces: [...m.program(), ...p, ...next], want: [[VIDEO, bytes(533, 4), 5], [VIDEO, bytes(100, 5), 5]] };
    }],
    // FFmpeg pads one byte with adaptation_field_length 0 (13818-1 2.4.3.5: "for inserting a
    // single stuffing byte"), and two with an empty flags byte.
    ['an unbounded video PES whose last packet has one byte of stuffing (adaptation_field_length 0) completes at once', (m) => {
      const p = m.pes(VIDEO, frame(2 * 184 - 19 - 1, 6, 9000));
      expect([p[1]![3]! & 0x20, p[1]![4]]).toEqual([0x20, 0]);
      return { pieces: [...m.program(), ...p], want: [[VIDEO, bytes(348, 6), 3]] };
    }],
    ['an unbounded video PES whose last packet has two bytes of stuffing (an empty flags byte) completes at once', (m) => {
      const p = m.pes(VIDEO, frame(2 * 184 - 19 - 2, 7, 9000));
      expect([p[1]![4], p[1]![5]]).toEqual([1, 0]);
      return { pieces: [...m.program(), ...p], want: [[VIDEO, bytes(347, 7), 3]] };
    }],
    ['a PCR or random-access adaptation field is not stuffing: the PES goes on', (m) => {
      const p = m.pes(VIDEO, frame(184 - 8 - 19 + 184 + 50, 8, 9000), PCR_AF);
      return { pieces: [...m.program(), ...p], want: [[VIDEO, bytes(391, 8), 4]] };
    }],
    ['lost packets (a continuity gap) drop the PES they hit, and the next one is whole', (m) => {
      const first = m.pes(VIDEO, frame(600, 9, 9000));
      const second = m.pes(VIDEO, frame(400, 10, 12000));
      return { pieces: [...m.program(), first[0]!, first[2]!, first[3]!, ...second], want: [[VIDEO, bytes(400, 10), 7]], warnings: [/packets lost on PID 256/, /without a PES start/] };
    }],
    ['a lost PES start drops its other packets, and the next one is whole', (m) => {
      const first = m.pes(VIDEO, frame(600, 11, 9000));
      return { pieces: [...m.program(), ...first.slice(1), ...m.pes(AUDIO, audio(100, 12, 9000))], want: [[AUDIO, bytes(100, 12), 5]], warnings: [/without a PES start/] };
    }],
    ['a duplicate packet inside a PES is ignored', (m) => {
      const p = m.pes(VIDEO, frame(600, 13, 9000));
      return { pieces: [...m.program(), p[0]!, p[1]!, p[1]!, p[2]!, p[3]!], want: [[VIDEO, bytes(600, 13), 6]] };
    }],
    ['a duplicate of a PES\'s first packet is ignored', (m) => {
      const p = m.pes(VIDEO, frame(600, 14, 9000));
      return { pieces: [...m.program(), p[0]!, p[0]!, ...p.slice(1)], want: [[VIDEO, bytes(600, 14), 6]] };
    }],
    ['a duplicate of a one-packet PES is ignored, not given out twice', (m) => {
      const p = m.pes(AUDIO, audio(100, 15, 9000));
      return { pieces: [...m.program(), p[0]!, p[0]!, ...m.pes(AUDIO, audio(100, 16, 10920))], want: [[AUDIO, bytes(100, 15), 2], [AUDIO, bytes(100, 16), 4]] };
    }],
    ['packets of PIDs and stream types not asked for are not assembled', (m) => {
      const pieces = [...m.program([[H264, VIDEO], [0x06, DATA]]), ...m.pes(DATA, pes(bytes(300, 17), { pts: 1, bounded: true, streamId: 0xbd })), ...m.pes(0x1ff, audio(10, 1, 1))];
      return { pieces, want: [] };
    }],
    ['transport-error and null packets are skipped', (m) => {
      const p = m.pes(VIDEO, frame(300, 18, 9000));
      const broken = Buffer.from(m.pes(VIDEO, frame(100, 19, 1))[0]!);
      broken[1]! |= 0x80;
      return { pieces: [...m.program(), p[0]!, broken, packet(0x1fff, 0, Buffer.alloc(184, 0xff)), p[1]!], want: [[VIDEO, bytes(300, 18), 5]] };
    }],
    ['an adaptation field length over 183 before any program table is skipped as noise', (m) => {
      const bad = Buffer.concat([Buffer.from([0x47, 0x01, 0x01, 0x30, 200]), Buffer.alloc(183, 0xff)]);
      return { pieces: [bad, ...m.program(), ...m.pes(AUDIO, audio(10, 30, 9000))], want: [[AUDIO, bytes(10, 30), 3]] };
    }],
    ['end() completes a PES still open', (m) => {
      const p = m.pes(VIDEO, frame(3 * 184 - 19, 20, 9000));
      return { pieces: [...m.program(), ...p], want: [[VIDEO, bytes(533, 20), 'end']] };
    }],
    ['a PES whose end came before its PES_packet_length is dropped at the next start', (m) => {
      const a = audio(500, 21, 9000);
      a.writeUInt16BE(600, 4);
      return { pieces: [...m.program(), ...m.pes(AUDIO, a), ...m.pes(AUDIO, audio(10, 22, 11000))], want: [[AUDIO, bytes(10, 22), 5]], warnings: [/shorter than its length/] };
    }],
  ];

  it.each(cases)('%s', (_name, build) => {
    const c = build(new Mux());
    const r = demux(c.pieces);
    expect(r.seen.map((s) => [s.pid, s.data, s.at])).toEqual(c.want.map(([pid, data, at]) => [pid, data.toString('hex'), at]));
    expect(r.warnings).toEqual((c.warnings ?? []).map((w) => expect.stringMatching(w)));
  });

  /** A small stream: program, two video frames (one ending exactly full), audio between. */
  function small(): Buffer {
    const m = new Mux();
    return Buffer.concat([...m.program(), ...m.pes(VIDEO, frame(500, 23, 9000), PCR_AF), ...m.pes(AUDIO, audio(200, 24, 9000)),
      ...m.pes(VIDEO, frame(2 * 184 - 19, 25, 12000)), ...m.pes(AUDIO, audio(30, 26, 10920)), ...m.pes(VIDEO, frame(10, 27, 15000))]);
  }

  it('gives the same PES list for every split point of a small stream', () => {
    const s = small();
    const whole = content(demux([s]).seen);
    expect(whole.map((p) => p.pid)).toEqual([VIDEO, AUDIO, AUDIO, VIDEO, VIDEO]);
    for (let k = 0; k <= s.length; k++) expect(content(demux([s.subarray(0, k), s.subarray(k)]).seen)).toEqual(whole);
  });

  it('gives the same PES list however the stream is cut into pieces', () => {
    const s = small();
    const whole = content(demux([s]).seen);
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: s.length - 1 }), { maxLength: 40 }), (cuts) => {
      const at = [0, ...cuts.sort((a, b) => a - b), s.length];
      expect(content(demux(at.slice(1).map((e, i) => s.subarray(at[i], e))).seen)).toEqual(whole);
    }), { numRuns: 200, seed: 1 });
  });

  // A packet followed by garbage is lost with it (nothing shows it is one): here a null packet.
  it('resyncs after garbage bytes, warning once', () => {
    const m = new Mux();
    const garbage = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 7 + 1) % 256).filter((b) => b !== 0x47));
    const nul = packet(0x1fff, 0, Buffer.alloc(184, 0xff));
    const pieces = [...m.program(), nul, garbage, ...m.pes(VIDEO, frame(300, 28, 9000)), nul, garbage.subarray(0, 5), ...m.pes(AUDIO, audio(50, 29, 9000))];
    const r = demux([Buffer.concat(pieces)]);
    expect(r.seen.map((s) => [s.pid, s.data])).toEqual([[VIDEO, bytes(300, 28).toString('hex')], [AUDIO, bytes(50, 29).toString('hex')]]);
    expect(r.warnings).toEqual([expect.stringMatching(/sync lost/)]);
  });
});

describe('timestamps', () => {
  const W = 2 ** 33;
  const cases: Array<[string, Array<[number, number | undefined]>, Array<[number, number]>]> = [
    ['a PTS alone is also the DTS', [[123456, undefined]], [[123456, 123456]]],
    ['PTS and DTS are read apart', [[9000 + 6000, 9000]], [[15000, 9000]]],
    ['the largest 33-bit value reads back', [[W - 1, W - 1]], [[W - 1, W - 1]]],
    ['timestamps run on across the 33-bit wrap', [[W - 3000, W - 6000], [3000 - 3000, W - 3000], [3000, 0]], [[W - 3000, W - 6000], [W, W - 3000], [W + 3000, W]]],
    ['a straggler from before the wrap stays before it', [[W - 3000, undefined], [1000, undefined], [W - 1000, undefined], [4000, undefined]], [[W - 3000, W - 3000], [W + 1000, W + 1000], [W - 1000, W - 1000], [W + 4000, W + 4000]]],
  ];

  it.each(cases)('%s', (_name, stamps, want) => {
    const m = new Mux();
    const pieces = [...m.program(), ...stamps.flatMap(([pts, dts]) => m.pes(VIDEO, pes(bytes(20, 1), dts === undefined ? { pts } : { pts, dts })))];
    expect(demux(pieces).seen.map((s) => [s.pts, s.dts])).toEqual(want);
  });

  it('a PES without a PTS has NaN timestamps', () => {
    const m = new Mux();
    expect(demux([...m.program(), ...m.pes(VIDEO, pes(bytes(20, 1)))]).seen.map((s) => [s.pts, s.dts])).toEqual([[NaN, NaN]]);
  });
});

describe('errors', () => {
  const hdr = (b: number[]): Buffer => Buffer.from([0, 0, 1, 0xe0, 0, 0, ...b]);
  const cases: Array<[string, (m: Mux) => Buffer[], TsErrorCode]> = [
    ['a PES over maxPesBytes', (m) => [...m.program(), ...m.pes(VIDEO, pes(bytes(5000, 1), { pts: 1 }))], 'TS_PES_TOO_LARGE'],
    ['an adaptation field length over 183', (m) => [...m.program(), Buffer.concat([Buffer.from([0x47, 0x01, 0x00, 0x30, 184]), Buffer.alloc(183, 0xff)])], 'TS_BAD_PACKET'],
    ['a PES header longer than the PES', (m) => [...m.program(), ...m.pes(VIDEO, hdr([0x80, 0x80, 40, 0x21]))], 'TS_BAD_PES'],
    ['a PTS flag with a header too short for it', (m) => [...m.program(), ...m.pes(VIDEO, hdr([0x80, 0x80, 2, 0x21, 0, 0]))], 'TS_BAD_PES'],
    ['a DTS flag with a header too short for it', (m) => [...m.program(), ...m.pes(VIDEO, hdr([0x80, 0xc0, 5, ...stamp(3, 1), 0, 0]))], 'TS_BAD_PES'],
    // ES_info_length 32 in a section that ends sooner, with a good CRC.
    ['a PMT entry overrunning its section', (m) => [m.psi(0, pat()), m.psi(PMT_PID, section(2, 0, Buffer.from([0xe1, 0, 0xf0, 0, H264, 0xe1, 0, 0xf0, 0x20])))], 'TS_BAD_SECTION'],
  ];

  it.each(cases)('%s throws %s', (_name, build, code) => {
    const m = new Mux();
    expect(codeOf(() => demux(build(m), { maxPesBytes: 4096 }))).toBe(code);
  });
});

describe('one stream of each type', () => {
  it('assembles only the first stream of a type the PMT lists, so 30 declared video streams hold no memory', () => {
    const m = new Mux();
    const pids = Array.from({ length: 30 }, (_, i) => 0x200 + i);
    const input = [m.psi(0, pat()), m.psi(PMT_PID, pmt(pids.map((p): [number, number] => [H264, p])))];
    // An unbounded PES opened on every declared PID: only the first is gathered.
    for (const p of pids) input.push(...m.pes(p, pes(bytes(150, p), { pts: 9000 })).map((pk) => Buffer.from(pk)));
    const r = demux(input);
    expect(new Set(r.seen.map((x) => x.pid))).toEqual(new Set([0x200]));
    expect(r.warnings).toContainEqual(expect.stringMatching(/a second stream of type 0x1b \(PID 513\) ignored/));
  });
});

describe('hostile input', () => {
  const mangled = (s: Buffer, edits: Array<[number, number]>, cut: number): Buffer => {
    const b = Buffer.from(s.subarray(0, Math.max(0, s.length - cut)));
    for (const [at, v] of edits) if (b.length) b[at % b.length] = v;
    return b;
  };
  const only = (fn: () => unknown): void => {
    try { fn(); } catch (err) { if (!(err instanceof TsError)) throw err; }
  };
  const pieces = (b: Buffer, cuts: number[]): Buffer[] => {
    const at = [0, ...cuts.map((c) => c % (b.length + 1)).sort((x, y) => x - y), b.length];
    return at.slice(1).map((e, i) => b.subarray(at[i], e));
  };

  function valid(): Buffer {
    const m = new Mux();
    return Buffer.concat([...m.program(), ...m.pes(VIDEO, pes(bytes(700, 1), { pts: 9000, dts: 6000 }), PCR_AF),
      ...m.pes(AUDIO, pes(bytes(300, 2), { pts: 9000, bounded: true, streamId: 0xc0 })), ...m.pes(VIDEO, pes(bytes(200, 3), { pts: 12000 }))]);
  }

  it('only ever throws TsError on random bytes in random pieces', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (raw, cuts, sync) => {
      const b = Buffer.from(raw);
      // Half the runs: sync bytes every 188, so packets are taken and their fields read.
      if (sync) for (let i = 0; i < b.length; i += PACKET) b[i] = 0x47;
      only(() => demux(pieces(b, cuts), { maxPesBytes: 2000 }));
    }), { numRuns: 300, seed: 2 });
  });

  it('only ever throws TsError on a valid stream with bytes changed, cut short and split', () => {
    const s = valid();
    const edit = fc.tuple(fc.nat(), fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0x47, 0xff, 0x01)));
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 12 }), fc.nat({ max: 400 }), fc.array(fc.nat(), { maxLength: 8 }), (edits, cut, cuts) => {
      only(() => demux(pieces(mangled(s, edits, cut), cuts), { maxPesBytes: 2000 }));
    }), { numRuns: 300, seed: 3 });
  });

  it('only ever throws TsError on a valid stream with bytes inserted or removed', () => {
    const s = valid();
    fc.assert(fc.property(fc.nat(), fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 300 }), (at, insert, remove) => {
      const p = at % s.length;
      only(() => demux([Buffer.concat([s.subarray(0, p), Buffer.from(insert), s.subarray(p + remove)])], { maxPesBytes: 2000 }));
    }), { numRuns: 300, seed: 4 });
  });
});
