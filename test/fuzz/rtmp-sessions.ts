// RTMP session fuzzing, shared by the short run in `npm test` (test/integration/ingest/rtmp-fuzz.test.ts) and
// the long one (`npm run bench:fuzz`, bench/fuzz/run.ts). A session is generated from one seed:
// an OBS-like or FFmpeg-like publish of real FFmpeg-made tags, chunked the way encoders do
// (header compression, extended timestamps, csid ≥ 64, odd chunk sizes), with hostile commands
// mixed in and its bytes mutated, then cut into random reads. It runs in process on RtmpSession
// over a fake socket, with a real FlvRemuxer behind the feed, and every invariant of issue 20 is
// checked after every read: a violation throws FuzzViolation with the seed to replay it.
import { encodeAmf0, type Amf0Value } from '../../ingest/rtmp/amf0.js';
import { RTMP_ERROR_CODES } from '../../ingest/rtmp/errors.js';
import { RtmpSession, type PublishRefusal, type SessionLimits, type SessionSocket } from '../../ingest/rtmp/session.js';
import { FlvRemuxer } from '../../ingest/flv/remuxer.js';
import { FlvError, type FlvTag } from '../../ingest/flv/reader.js';
import { feedHooks } from '../helpers/rtmp-feeds.js';

// ---- A small seeded PRNG: fast enough for 10^6 sessions, and a session replays from its seed ----

export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = (seed >>> 0) || 0x9e3779b9;
  }
  /** mulberry32 */
  u32(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 ≤ n < max */
  int(max: number): number {
    return max <= 1 ? 0 : this.u32() % max;
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() < p * 0x1_0000_0000;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** Seed of session `i` of a run seeded `seed` (sessions are independent: any one replays alone). */
export const sessionSeed = (seed: number, i: number): number => (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(i, 0x85ebca6b)) >>> 0;

// ---- Chunking like an encoder ----

export interface Msg {
  csid: number;
  typeId: number;
  streamId: number;
  timestamp: number;
  payload: Buffer;
}

interface Prev { streamId: number; typeId: number; length: number; timestamp: number; delta: number; fmt: number }

/** Writes a basic header at `at`; returns its length (1, 2 or 3 bytes). */
function basicHeader(out: Buffer, at: number, fmt: number, csid: number, wide: boolean): number {
  if (csid < 64 && !wide) { out[at] = (fmt << 6) | csid; return 1; }
  const id = csid - 64;
  if (id < 256 && !wide) { out[at] = fmt << 6; out[at + 1] = id; return 2; }
  out[at] = (fmt << 6) | 1; out[at + 1] = id & 0xff; out[at + 2] = id >> 8;
  return 3;
}

/**
 * Messages as chunks: fmt 0 first on a chunk stream, then the most compressed exact header
 * (1, 2 or 3), 3-byte basic headers for csid ≥ 320 (and, with `wide`, for any csid ≥ 64),
 * extended timestamps on the header and on every continuation chunk. A fmt 3 header never
 * starts a message right after a fmt 0 one: RTMP implementations disagree on its delta there.
 */
export class ChunkEncoder {
  chunkSize = 128;
  readonly #prev = new Map<number, Prev>();
  constructor(readonly opts: { compress: boolean; wide?: boolean } = { compress: true }) {}

  encode(m: Msg): Buffer {
    const p = this.#prev.get(m.csid);
    const delta = p ? m.timestamp - p.timestamp : 0;
    let fmt = 0;
    if (this.opts.compress && p && p.streamId === m.streamId && delta >= 0) {
      fmt = 1;
      if (p.typeId === m.typeId && p.length === m.payload.length) {
        fmt = 2;
        if (delta === p.delta && p.fmt !== 0) fmt = 3;
      }
    }
    const field = fmt === 0 ? m.timestamp : delta;
    const extended = field >= 0xffffff;
    // fmt 3 starting a message carries the extended field when the header it repeats did.
    const withExt = extended || (fmt === 3 && p !== undefined && p.delta >= 0xffffff);
    const wide = this.opts.wide ?? false;
    const basic = m.csid < 64 && !wide ? 1 : m.csid - 64 < 256 && !wide ? 2 : 3;
    const len = m.payload.length;
    const chunks = Math.max(1, Math.ceil(len / this.chunkSize));
    const msgHeader = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    const out = Buffer.allocUnsafe(len + msgHeader + chunks * (basic + (withExt ? 4 : 0)));
    let at = basicHeader(out, 0, fmt, m.csid, wide);
    if (fmt <= 2) {
      out.writeUIntBE(extended ? 0xffffff : field, at, 3);
      if (fmt <= 1) {
        out.writeUIntBE(len, at + 3, 3);
        out[at + 6] = m.typeId;
        if (fmt === 0) out.writeUInt32LE(m.streamId, at + 7);
      }
      at += msgHeader;
    }
    for (let off = 0; off === 0 || off < len; off += this.chunkSize) {
      if (off > 0) at += basicHeader(out, at, 3, m.csid, wide);
      if (withExt) at = out.writeUInt32BE(field >>> 0, at);
      at += m.payload.copy(out, at, off, Math.min(len, off + this.chunkSize));
    }
    this.#prev.set(m.csid, { streamId: m.streamId, typeId: m.typeId, length: len, timestamp: m.timestamp, delta: fmt === 0 ? 0 : delta, fmt });
    return out;
  }
}

// ---- Messages publishers send ----

const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
export const cmd = (values: Amf0Value[], streamId = 0, csid = 3): Msg => ({ csid, typeId: 20, streamId, timestamp: 0, payload: encodeAmf0(values) });
export const ctl = (typeId: number, payload: Buffer): Msg => ({ csid: 2, typeId, streamId: 0, timestamp: 0, payload });
export const setChunkSizeMsg = (n: number): Msg => ctl(1, u32(n));

/** '@setDataFrame' then the onMetaData script body (FFmpeg's and OBS's metadata message). */
export const setDataFrame = (scriptBody: Buffer, csid = 4): Msg => ({ csid, typeId: 18, streamId: 1, timestamp: 0, payload: Buffer.concat([encodeAmf0(['@setDataFrame']), scriptBody]) });

export type Flavor = 'obs' | 'ffmpeg';

/** The commands up to publish, as OBS (librtmp) and FFmpeg (libavformat) send them. */
export function publishMessages(flavor: Flavor, app: Amf0Value, key: Amf0Value, chunkSize: number): Msg[] {
  if (flavor === 'obs') {
    return [
      setChunkSizeMsg(chunkSize),
      cmd(['connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', swfUrl: 'rtmp://127.0.0.1/live', tcUrl: 'rtmp://127.0.0.1/live' }]),
      cmd(['releaseStream', 2, null, key]),
      cmd(['FCPublish', 3, null, key]),
      cmd(['createStream', 4, null]),
      cmd(['publish', 5, null, key, 'live'], 1, 4),
    ];
  }
  return [
    cmd(['connect', 1, { app, flashVer: 'FMLE/3.0 (compatible; Lavf61.7.100)', tcUrl: 'rtmp://127.0.0.1:1935/live', type: 'nonprivate' }]),
    ctl(5, u32(2_500_000)),
    setChunkSizeMsg(chunkSize),
    cmd(['releaseStream', 2, null, key]),
    cmd(['FCPublish', 3, null, key]),
    cmd(['createStream', 4, null]),
    cmd(['_checkbw', 5, null]),
    cmd(['publish', 6, null, key, 'live'], 1, 8),
  ];
}

/** Chunk streams for media: OBS puts audio and video on 4 and 5, FFmpeg on 4 and 6. */
const MEDIA_CSID: Record<Flavor, { audio: number; video: number; data: number }> = {
  obs: { audio: 5, video: 4, data: 4 },
  ffmpeg: { audio: 4, video: 6, data: 8 },
};

// ---- Sessions ----

export interface FuzzSession {
  seed: number;
  flavor: Flavor;
  limits: SessionLimits;
  /** The reads, in order. */
  pieces: Buffer[];
  /** hooks.publish's answer. */
  refusal: PublishRefusal | null;
  /**
   * 0: the decision is immediate. n: it reaches the session n reads later (as from the relay's
   * thread), or after the connection closed if the reads run out first.
   */
  decideAfter: number;
  /** After this many writes the socket reports a backlog (a peer that stops reading); Infinity: never. */
  slowReader: number;
  /** Nothing hostile and no byte mutated: the whole publish must arrive, tag for tag. */
  clean: boolean;
  /** For clean sessions: the FLV tags the feed must deliver (type, timestamp, body length). */
  expect: { type: number; timestamp: number; length: number }[];
}

export const LIMITS: Record<'defaults' | 'tight', SessionLimits> = {
  // app/config.ts defaults.
  defaults: { app: 'live', preAdmitBytes: 64 * 1024, maxChunkSize: 64 * 1024, maxCommandBytes: 8 * 1024, maxMessageBytes: 2 * 1024 * 1024, maxHeaderChangesPer10s: 10, maxPublishBitrate: 100_000_000 },
  // Small enough that real keyframes, long commands and header changes hit every cap.
  tight: { app: 'live', preAdmitBytes: 8 * 1024, maxChunkSize: 4096, maxCommandBytes: 1024, maxMessageBytes: 12 * 1024, maxHeaderChangesPer10s: 3, maxPublishBitrate: 0 },
};

const STATUSES: PublishRefusal['status'][] = ['BadName', 'Unauthorized', 'Rejected'];
export const REFUSAL_CODES = ['FUZZ_REFUSED_BadName', 'FUZZ_REFUSED_Unauthorized', 'FUZZ_REFUSED_Rejected'] as const;

function randomAmf0(r: Rng, depth = 0): Amf0Value {
  switch (r.int(depth > 2 ? 6 : 9)) {
    case 0: return r.pick([0, -1, 1.5, NaN, Infinity, 2 ** 53, -0]);
    case 1: return r.chance(0.5);
    case 2: return r.pick(['', 'live', 'stream', '__proto__', 'a'.repeat(r.range(0, 2000)), '\u0000', 'é?token=x']);
    case 3: return null;
    case 4: return undefined;
    case 5: return new Date(r.int(2 ** 31));
    case 6: return Array.from({ length: r.int(4) }, () => randomAmf0(r, depth + 1));
    default: {
      const o = Object.create(null) as { [k: string]: Amf0Value }; // '__proto__' stays a key
      for (let i = r.int(4); i > 0; i--) o[r.pick(['app', 'tcUrl', '__proto__', 'constructor', 'x'])] = randomAmf0(r, depth + 1);
      return o;
    }
  }
}

/** A command or message a hostile or confused client might send at any point. */
function hostileMessage(r: Rng, key: Amf0Value): Msg {
  switch (r.int(16)) {
    case 0: return cmd(['play', 7, null, key], 1, 8);
    case 1: return cmd(['publish', 8, null, r.chance(0.5) ? key : randomAmf0(r), 'live'], 1, 4);
    case 2: return cmd(['connect', 9, r.chance(0.5) ? { app: 'live' } : randomAmf0(r)]);
    case 3: return cmd([r.pick(['deleteStream', 'FCUnpublish', 'closeStream', 'createStream', 'getStreamLength', 'play2']), 10, null, 1]);
    case 4: return cmd(Array.from({ length: r.range(0, 5) }, () => randomAmf0(r)), r.int(3));
    case 5: return ctl(r.range(1, 6), r.bytes(r.pick([0, 1, 3, 4, 5, 8])));
    case 6: return ctl(2, u32(r.pick([3, 4, 5, 6, 8, 64, 70000])));
    case 7: return setChunkSizeMsg(r.pick([0, 1, 2, 127, 4096, 65536, 65537, 2 ** 31 - 1, 2 ** 31]));
    case 8: return { csid: r.pick([4, 6]), typeId: r.pick([8, 9]), streamId: r.pick([0, 1, 2]), timestamp: r.int(100_000), payload: r.bytes(r.pick([0, 1, 2, 5, 40])) };
    case 9: return { csid: 8, typeId: 18, streamId: r.pick([0, 1]), timestamp: 0, payload: encodeAmf0(Array.from({ length: r.range(1, 3) }, () => randomAmf0(r))) };
    case 10: return { csid: 8, typeId: 22, streamId: 1, timestamp: 0, payload: r.bytes(r.int(64)) };
    case 11: return { csid: 3, typeId: 17, streamId: 0, timestamp: 0, payload: Buffer.concat([Buffer.from([r.int(2)]), encodeAmf0(['createStream', 4, null])]) };
    case 12: return { csid: r.range(2, 400), typeId: r.int(256), streamId: r.int(3), timestamp: r.u32(), payload: r.bytes(r.int(300)) };
    case 13: return { csid: 3, typeId: 20, streamId: 0, timestamp: 0, payload: r.bytes(r.range(1, 64)) };
    case 14: {
      // A changed AVC sequence header: counted towards the storm limit.
      const b = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0xc0, r.int(256), 1, 0, 4, 0x68, 0xce, 0x3c, 0x80]);
      return { csid: 6, typeId: 9, streamId: 1, timestamp: r.int(10_000), payload: b };
    }
    default: return cmd(['publish', 11, null, 'x'.repeat(r.pick([1024, 1025, 5000])), 'live'], 1, 4);
  }
}

const isSequenceHeader = (t: FlvTag): boolean => (t.type === 9 && t.body[0] === 0x17 && t.body[1] === 0) || (t.type === 8 && t.body[0]! >> 4 === 10 && t.body[1] === 0);

/** Generates one session from its seed. `tags`: real FFmpeg FLV tags (sampleTags()). */
export function generateSession(seed: number, tags: readonly FlvTag[], donor?: Buffer): FuzzSession & { bytes: Buffer } {
  const r = new Rng(seed);
  const flavor: Flavor = r.chance(0.5) ? 'obs' : 'ffmpeg';
  const limits = r.chance(0.7) ? LIMITS.defaults : LIMITS.tight;
  const hostile = r.chance(0.5);
  const mutate = r.chance(0.5);
  // Tiny chunk sizes cost a header per byte: rarer, and with short windows.
  const tiny = r.chance(0.06);
  const chunkSize = tiny ? r.pick([1, 7, 60]) : r.chance(0.7) ? 4096 : r.pick([128, 1000, 4095, 60_000, 65_536, r.range(1, 70_000)]);
  const app: Amf0Value = !hostile || r.chance(0.8) ? r.pick(['live', 'live/', 'live?x=1']) : r.pick(['other', '', 'LIVE', '/'.repeat(r.range(1, 500)) + 'x', randomAmf0(r)]);
  const key: Amf0Value = !hostile || r.chance(0.8) ? r.pick(['stream', 'stream?token=secret', 'a/b', 'é']) : randomAmf0(r);
  const csids = MEDIA_CSID[flavor];
  const enc = new ChunkEncoder({ compress: flavor === 'ffmpeg' || r.chance(0.3), wide: r.chance(0.1) });
  const csidShift = r.chance(0.15) ? r.pick([60, 300, 1000]) : 0; // moves media to 2- and 3-byte basic headers

  const msgs: Msg[] = publishMessages(flavor, app, key, chunkSize);
  const expect: FuzzSession['expect'] = [];
  // A window of the real publish: from the start (metadata and sequence headers first) or mid-stream.
  const start = r.chance(0.8) ? 0 : r.int(tags.length);
  const count = tiny || r.chance(0.8) ? r.range(1, 8) : r.range(9, 40);
  const headersSeen = new Set<number>();
  const tsBase = r.chance(0.15) ? 0xffffff - r.int(2000) : r.chance(0.05) ? 0xffffffff - r.int(3000) : 0;
  for (let i = 0; i < count; i++) {
    const idx = (start + i) % tags.length;
    const t = tags[idx]!;
    const loop = Math.floor((start + i) / tags.length);
    const ts = (tsBase + t.timestamp + loop * 4_100) >>> 0;
    if (t.type === 18) {
      msgs.push(setDataFrame(t.body, csids.data + csidShift));
      expect.push({ type: 18, timestamp: 0, length: t.body.length });
      continue;
    }
    msgs.push({ csid: (t.type === 8 ? csids.audio : csids.video) + csidShift, typeId: t.type, streamId: 1, timestamp: ts, payload: t.body });
    // A repeated identical sequence header (the window wrapped) is ignored by the feed.
    const repeat = isSequenceHeader(t) && headersSeen.has(t.type);
    if (isSequenceHeader(t)) headersSeen.add(t.type);
    if (!repeat) expect.push({ type: t.type, timestamp: ts, length: t.body.length });
  }
  if (hostile) {
    for (let k = r.range(1, 4); k > 0; k--) msgs.splice(r.int(msgs.length + 1), 0, hostileMessage(r, key));
  }

  // Encode; the encoder follows each Set Chunk Size it sends (unless it lies about it).
  const lie = hostile && r.chance(0.2);
  const parts: Buffer[] = [];
  for (const m of msgs) {
    parts.push(enc.encode(m));
    if (m.typeId === 1 && m.csid === 2 && m.payload.length === 4 && !lie) {
      const n = m.payload.readUInt32BE(0) & 0x7fffffff;
      if (n >= 1 && n <= limits.maxChunkSize) enc.chunkSize = n;
    }
  }
  const c0 = !mutate || r.chance(0.95) ? 3 : r.pick([0, 6, 0x03 ^ 0x80, r.int(256)]);
  let bytes: Buffer = Buffer.concat([Buffer.from([c0]), r.chance(0.5) ? ZEROS : C1, C2, ...parts]);
  if (mutate) bytes = mutateBytes(r, bytes, donor);

  const refusal: PublishRefusal | null = r.chance(0.15) ? (() => {
    const status = r.pick(STATUSES);
    return { code: `FUZZ_REFUSED_${status}`, message: 'refused by the fuzzer', status };
  })() : null;
  const slowReader = r.chance(0.03) ? r.range(1, 4) : Infinity;
  const clean = chunkSize <= limits.maxChunkSize && !hostile && !mutate && !refusal && slowReader === Infinity && limits === LIMITS.defaults;
  // From the seed alone, so every other choice of a seed stays what it was.
  const decideAfter = (seed >>> 3) % 4;
  return { seed, flavor, limits, pieces: cut(r, bytes), refusal, decideAfter, slowReader, clean, expect, bytes };
}

const ZEROS = Buffer.alloc(1536);
const C1 = new Rng(1).bytes(1536);
const C2 = Buffer.alloc(1536, 9);

/** Byte flips, insertions, deletions, duplications, splices from another session, truncation. */
function mutateBytes(r: Rng, b: Buffer, donor?: Buffer): Buffer {
  // Mostly after the handshake, where the parsers are.
  const at = (len: number): number => (r.chance(0.9) && len > 3073 ? r.range(3073, len) : r.int(len + 1));
  for (let k = r.range(1, 8); k > 0; k--) {
    const p = at(b.length);
    switch (r.int(7)) {
      case 0: if (p < b.length) b[p] = b[p]! ^ (1 << r.int(8)); break;
      case 1: if (p < b.length) b[p] = r.pick([0, 0xff, 0x7f, 0x80, 0xc3, 0x03, r.int(256)]); break;
      case 2: b = Buffer.concat([b.subarray(0, p), r.bytes(r.range(1, 24)), b.subarray(p)]); break;
      case 3: b = Buffer.concat([b.subarray(0, p), b.subarray(Math.min(b.length, p + r.range(1, 64)))]); break;
      case 4: { const q = at(b.length); b = Buffer.concat([b.subarray(0, p), b.subarray(Math.min(p, q), Math.max(p, q)).subarray(0, 20_000), b.subarray(p)]); break; }
      case 5: if (donor) { const d = r.int(donor.length); b = Buffer.concat([b.subarray(0, p), donor.subarray(d, d + r.range(1, 4000)), b.subarray(p)]); } break;
      default: b = b.subarray(0, p);
    }
  }
  return Buffer.from(b);
}

/** Random reads: whole, in small pieces for a stretch (then large ones), or random sizes. */
function cut(r: Rng, b: Buffer): Buffer[] {
  const mode = r.int(4);
  if (mode === 0) return [b];
  const out: Buffer[] = [];
  let pos = 0;
  const smallUntil = r.range(0, 8192);
  while (pos < b.length) {
    const n = mode === 1 ? (pos < smallUntil ? r.range(1, 24) : r.range(1, 16_384)) : mode === 2 ? r.range(1, 4096) : r.pick([1, 2, 11, 12, 18, 1537, 3073, r.range(1, 70_000)]);
    out.push(b.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

// ---- Running a session ----

export class FuzzViolation extends Error {
  constructor(readonly seed: number, message: string) {
    super(`seed ${seed}: ${message}`);
    this.name = 'FuzzViolation';
  }
}

export class FakeSocket implements SessionSocket {
  written = 0;
  ended = false;
  destroyed = false;
  readonly writes: Buffer[] = [];
  #writes = 0;
  /** `backlogAfter`: after this many writes the peer stops reading (writableLength grows). */
  constructor(readonly record = false, readonly backlogAfter = Infinity) {}
  get writableLength(): number {
    return this.#writes > this.backlogAfter ? 1 << 20 : 0;
  }
  write(b: Buffer): boolean {
    this.#writes++;
    this.written += b.length;
    if (this.record) this.writes.push(b);
    return true;
  }
  end(): void { this.ended = true; }
  destroy(): void { this.destroyed = true; }
}

export interface Outcome {
  /** hooks.error codes, in order (at most one). */
  codes: string[];
  admitted: boolean;
  maxHeld: number;
  /** FLV tags delivered by the feed. */
  tags: number;
  fmp4Bytes: number;
  /** The remux's FlvError code, if it refused the feed. */
  flvError?: string;
}

const KNOWN = new Set<string>([...RTMP_ERROR_CODES, ...REFUSAL_CODES]);

/** Runs a session and checks the invariants after every read. Throws FuzzViolation. */
/** A decision delivered synchronously after a number of reads: deterministic, unlike a Promise. */
class Deferred implements PromiseLike<PublishRefusal | null> {
  #cbs: Array<(d: PublishRefusal | null) => void> = [];
  #settled = false;
  constructor(readonly value: PublishRefusal | null, public left: number) {}

  then<A = PublishRefusal | null, B = never>(ok?: ((d: PublishRefusal | null) => A | PromiseLike<A>) | null): PromiseLike<A | B> {
    if (ok) this.#cbs.push((d) => { ok(d); });
    return this as unknown as PromiseLike<A | B>;
  }

  get settled(): boolean {
    return this.#settled;
  }

  tick(): void {
    if (--this.left <= 0) this.settle();
  }

  settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const cb of this.#cbs) cb(this.value);
  }
}

export function runSession(s: FuzzSession, opts: { remux?: boolean } = {}): Outcome {
  const v = (msg: string): never => { throw new FuzzViolation(s.seed, msg); };
  // Found inside a hook or the feed, where data()'s own catch would swallow a throw.
  let found: string | null = null;
  const note = (msg: string): void => { found ??= msg; };
  const out: Outcome = { codes: [], admitted: false, maxHeld: 0, tags: 0, fmp4Bytes: 0 };
  const socket = new FakeSocket(false, s.slowReader);
  let closedCalls = 0;
  let unpublishCalls = 0;
  let decided = false;
  const got: { type: number; timestamp: number; length: number }[] = [];
  const remuxer = opts.remux ? new FlvRemuxer({ maxTagBytes: s.limits.maxMessageBytes }) : null;
  const emit = (b: Buffer): void => { out.fmp4Bytes += b.length; };
  let headerSeen = false;
  let decision: Deferred | null = null;
  const hooks = feedHooks({
    publish: (p) => {
      if (decided) note('publish decided twice');
      decided = true;
      if (!s.refusal) out.admitted = true;
      // Subscribed before the decision: a refused publish must deliver nothing.
      p.subscribe((flv) => {
        if (!headerSeen) {
          headerSeen = true;
          if (flv.length !== 13) note('the feed did not start with the FLV header');
        } else if (session.closed) note('feed data after close');
        else if (s.refusal) note('feed data from a refused publish');
        else {
          out.tags++; if (s.clean) got.push({ type: flv[0]!, timestamp: (flv.readUIntBE(4, 3) | (flv[7]! << 24)) >>> 0, length: flv.readUIntBE(1, 3) }); }
        if (remuxer && !out.flvError) {
          try {
            remuxer.push(flv, emit);
            if (remuxer.ready()) remuxer.flush(emit);
          } catch (err) {
            if (err instanceof FlvError) out.flvError = err.code;
            else note(`the remux threw ${err instanceof Error ? err.stack : String(err)}`);
          }
          if (remuxer.bufferedBytes > s.limits.maxMessageBytes + 15) note(`remux holds ${remuxer.bufferedBytes} bytes`);
        }
      }, false);
      return s.refusal;
    },
    unpublish: () => { unpublishCalls++; },
  }, s.limits, () => session, {
    error: (code) => { out.codes.push(code); },
    closed: () => { closedCalls++; },
  });
  const session = new RtmpSession(socket, '203.0.113.7:5000', s.limits, {
    ...hooks,
    // Decided at once by the relay's side; the session hears of it s.decideAfter reads later.
    publish: (p) => {
      const d = hooks.publish(p) as PublishRefusal | null;
      if (s.decideAfter === 0) return d;
      decision = new Deferred(d, s.decideAfter);
      return decision;
    },
  }, 0);
  let now = 0;
  for (const piece of s.pieces) {
    try {
      session.data(piece, (now += 3));
      (decision as Deferred | null)?.tick();
    } catch (err) {
      v(`data() threw ${err instanceof Error ? err.stack : String(err)}`);
    }
    if (found) v(found);
    const held = session.heldBytes;
    if (held > out.maxHeld) out.maxHeld = held;
    if (!session.closed) {
      // Before admission the connection lives in preAdmitBytes; after, two media messages in
      // flight plus the restart cache (feed.ts: 4 × maxMessageBytes).
      const budget = session.publishing ? 6 * s.limits.maxMessageBytes : s.limits.preAdmitBytes;
      if (held > budget) v(`heldBytes ${held} over the budget ${budget} (${session.publishing ? 'publishing' : 'before admission'})`);
    }
    if (session.closed) break;
  }
  // The decision reaches a connection still open (sessions 3 of 4 seeds in that case); else it
  // arrives after the connection is gone, and an admission must then be undone.
  if (s.decideAfter !== 3 || s.clean) (decision as Deferred | null)?.settle();
  if (found) v(found);
  // The connection ends before its decision arrives: nothing is answered or counted for it.
  const late = !session.closed && (decision as Deferred | null)?.settled === false;
  const wasPublishing = session.publishing;
  session.socketClosed();
  (decision as Deferred | null)?.settle(); // a decision that arrives after the connection is gone
  session.data(Buffer.from([3, 0, 0, 0]), now + 1); // after close: ignored
  if (found) v(found);
  if (closedCalls !== 1) v(`closed() called ${closedCalls} times`);
  if (unpublishCalls !== (out.admitted ? 1 : 0)) v(`unpublish() called ${unpublishCalls} times (admitted: ${out.admitted}, publishing at the end: ${wasPublishing})`);
  if (out.codes.length > 1) v(`more than one error counted: ${out.codes.join(', ')}`);
  for (const c of out.codes) if (!KNOWN.has(c)) v(`unknown error code ${c}`);
  if (s.refusal && out.admitted) v('admitted despite a refusal');
  // A refusal whose reply crossed the write backlog is counted as the slow reader it is.
  // A publisher that sends more than preAdmitBytes while its decision is on the way is closed
  // for memory first (real publishers wait for NetStream.Publish.Start).
  const heldTooMuch = s.decideAfter > 0 && out.codes[0] === 'RTMP_MEMORY';
  if (s.refusal && decided && !late && out.codes[0] !== s.refusal.code && out.codes[0] !== 'RTMP_SLOW_READER' && !heldTooMuch) v(`refused, but counted ${out.codes.join(', ')}`);
  if (s.clean && !heldTooMuch) {
    if (out.codes.length || !out.admitted) v(`a clean ${s.flavor} publish failed: ${out.codes.join(', ') || 'not admitted'}`);
    const a = JSON.stringify(got);
    const b = JSON.stringify(s.expect);
    if (a !== b) v(`a clean ${s.flavor} publish delivered other tags than sent:\n got    ${a.slice(0, 400)}\n expect ${b.slice(0, 400)}`);
  }
  return out;
}
