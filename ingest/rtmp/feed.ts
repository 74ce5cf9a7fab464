// One admitted publish as an FLV byte feed: what the remux subscribes to. Keeps what a restart
// of the remux needs (metadata, the sequence headers and the tags since the last keyframe,
// bounded), ignores a sequence header identical to the current one, and refuses a storm of
// changed ones: each change is a new init segment for every viewer.
import { RtmpError } from './errors.js';

const TAG_AUDIO = 8;
const TAG_VIDEO = 9;
const TAG_SCRIPT = 18;

/** 'FLV', version 1, audio and video present, header size 9, PreviousTagSize0. */
const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00]);
const STORM_WINDOW_MS = 10_000;

export type FlvListener = (flv: Buffer) => void;

export interface FeedOptions {
  /** Cap on the tags kept since the last keyframe; past it the cache waits for the next keyframe. */
  maxCacheBytes: number;
  maxHeaderChangesPer10s: number;
  now?: () => number;
}

/** Whether a media payload is a sequence header (AVC/HEVC config, AAC config, enhanced RTMP SequenceStart). */
export function isSequenceHeader(type: number, p: Buffer): boolean {
  if (p.length < 2) return false;
  if (type === TAG_AUDIO) return p[0]! >> 4 === 10 && p[1] === 0;
  if (p[0]! & 0x80) return (p[0]! & 0x0f) === 0; // enhanced RTMP: PacketType SequenceStart
  return (p[0]! & 0x0f) === 7 || (p[0]! & 0x0f) === 12 ? p[1] === 0 : false;
}

function isKeyframe(p: Buffer): boolean {
  return p.length > 0 && ((p[0]! >> 4) & 0x07) === 1;
}

/** An FLV tag: 11-byte header, body, PreviousTagSize. */
export function flvTag(type: number, timestamp: number, body: Buffer): Buffer {
  const b = Buffer.allocUnsafe(11 + body.length + 4);
  b[0] = type;
  b.writeUIntBE(body.length, 1, 3);
  b.writeUIntBE(timestamp & 0xffffff, 4, 3);
  b[7] = (timestamp >>> 24) & 0xff;
  b.writeUIntBE(0, 8, 3);
  body.copy(b, 11);
  b.writeUInt32BE(11 + body.length, 11 + body.length);
  return b;
}

export class PublishFeed {
  readonly #o: FeedOptions;
  readonly #now: () => number;
  #meta: Buffer | null = null;
  #videoHeader: { body: Buffer; tag: Buffer } | null = null;
  #audioHeader: { body: Buffer; tag: Buffer } | null = null;
  #gop: Buffer[] = [];
  #gopBytes = 0;
  /** The cache overflowed: skip until the next keyframe. */
  #gopFull = false;
  #changes: number[] = [];
  readonly #listeners = new Set<FlvListener>();
  #ended = false;

  constructor(o: FeedOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** A media or data message from the publisher. Throws RtmpError('RTMP_HEADER_STORM'). */
  push(type: number, timestamp: number, body: Buffer): void {
    if (this.#ended) return;
    if (type === TAG_SCRIPT) {
      this.#meta = flvTag(TAG_SCRIPT, 0, body);
      this.#send(this.#meta);
      return;
    }
    if (isSequenceHeader(type, body)) {
      const cur = type === TAG_VIDEO ? this.#videoHeader : this.#audioHeader;
      if (cur && cur.body.equals(body)) return; // encoders repeat it; nothing changed
      this.#countChange();
      const h = { body, tag: flvTag(type, timestamp, body) };
      if (type === TAG_VIDEO) this.#videoHeader = h;
      else this.#audioHeader = h;
      this.#send(h.tag);
      return;
    }
    const tag = flvTag(type, timestamp, body);
    if (type === TAG_VIDEO && isKeyframe(body)) {
      this.#gop = [];
      this.#gopBytes = 0;
      this.#gopFull = false;
    }
    if (!this.#gopFull) {
      if (this.#gopBytes + tag.length > this.#o.maxCacheBytes) {
        this.#gopFull = true;
        this.#gop = [];
        this.#gopBytes = 0;
      } else {
        this.#gop.push(tag);
        this.#gopBytes += tag.length;
      }
    }
    this.#send(tag);
  }

  #countChange(): void {
    const now = this.#now();
    this.#changes = this.#changes.filter((t) => now - t < STORM_WINDOW_MS);
    this.#changes.push(now);
    if (this.#changes.length > this.#o.maxHeaderChangesPer10s) {
      throw new RtmpError('RTMP_HEADER_STORM', `${this.#changes.length} sequence-header changes in 10 s (at most ${this.#o.maxHeaderChangesPer10s})`);
    }
  }

  #send(b: Buffer): void {
    for (const l of this.#listeners) l(b);
  }

  /**
   * Subscribes: the FLV header first, then with `cached` the metadata, the sequence headers and
   * the tags since the last keyframe (a remux restarting), else only the sequence headers
   * known so far and what comes next. Returns the unsubscribe, safe to call twice.
   */
  subscribe(onData: FlvListener, cached: boolean): () => void {
    if (this.#ended) throw new Error('rtmp: the publish has ended');
    onData(FLV_HEADER);
    if (this.#meta) onData(this.#meta);
    if (this.#videoHeader) onData(this.#videoHeader.tag);
    if (this.#audioHeader) onData(this.#audioHeader.tag);
    if (cached) for (const t of this.#gop) onData(t);
    this.#listeners.add(onData);
    return () => { this.#listeners.delete(onData); };
  }

  /** Bytes held for restarts. */
  get cachedBytes(): number {
    return this.#gopBytes;
  }

  /** The publish is over: no more data, and the cache is freed. Safe to call twice. */
  end(): void {
    this.#ended = true;
    this.#listeners.clear();
    this.#gop = [];
    this.#gopBytes = 0;
  }
}
