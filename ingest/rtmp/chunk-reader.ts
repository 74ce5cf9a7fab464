// RTMP chunk stream → whole messages, incrementally and within a budget. The declared length
// of a message is checked against a per-type cap the moment its header arrives, and payload
// bytes are copied in only as they arrive: a header claiming 16 MB costs nothing until 16 MB
// are really sent, and the session's memory ceiling stops that long before.
import { RtmpError } from './errors.js';

export interface RtmpMessage {
  /** Chunk stream id the message came on. */
  csid: number;
  typeId: number;
  /** Message stream id (0 for control and connection commands, 1 once publishing). */
  streamId: number;
  /** Timestamp in ms, 32 bits. */
  timestamp: number;
  payload: Buffer;
}

export interface ChunkLimits {
  /** Largest chunk size a peer may set. */
  maxChunkSize: number;
  /** Chunk streams a peer may open; OBS and FFmpeg use 4 or 5. */
  maxChunkStreams: number;
  /** Largest declared length accepted for a message of this type, now. */
  maxLength(typeId: number): number;
  /** Ceiling on held bytes (partial messages and a partial header), now. */
  memoryBytes(): number;
}

interface ChunkStream {
  timestamp: number;
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  /** Whether the last full header used an extended timestamp (fmt 3 chunks then carry one too). */
  extended: boolean;
  /** Pieces of the message being read, copied; null when none is in progress. */
  parts: Buffer[] | null;
  got: number;
}

/** Basic header (≤ 3) + message header (≤ 11) + extended timestamp (4). */
const MAX_HEADER = 18;

export class ChunkReader {
  #chunkSize = 128;
  readonly #limits: ChunkLimits;
  readonly #streams = new Map<number, ChunkStream>();
  /** A partial chunk header carried to the next push (≤ 18 bytes). */
  #carry: Buffer | null = null;
  /** Payload bytes held in partial messages. */
  #held = 0;
  /** Bytes read since the last acknowledgement we sent (for the peer's window). */
  received = 0;

  constructor(limits: ChunkLimits) {
    this.#limits = limits;
  }

  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** Bytes held now: partial messages plus a partial header. */
  get bufferedBytes(): number {
    return this.#held + (this.#carry?.length ?? 0);
  }

  /** Set Chunk Size from the peer (1 to 2^31-1 by the spec; capped by our config). */
  setChunkSize(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > this.#limits.maxChunkSize) {
      throw new RtmpError('RTMP_BAD_CHUNK_SIZE', `chunk size ${n} is outside 1..${this.#limits.maxChunkSize}`);
    }
    this.#chunkSize = n;
  }

  /** Abort Message from the peer: drop the partial message on `csid`. */
  abort(csid: number): void {
    const s = this.#streams.get(csid);
    if (s?.parts) {
      this.#held -= s.got;
      s.parts = null;
      s.got = 0;
    }
  }

  /**
   * Feeds bytes; calls `onMessage` for each complete message, in order. `onMessage` returns
   * false to stop (the connection is closing, or waits for a decision): the rest of `data` is
   * not parsed, and is returned (not counted as received) for the caller to push again or drop.
   * Throws RtmpError.
   */
  push(data: Buffer, onMessage: (m: RtmpMessage) => boolean): Buffer | null {
    this.received += data.length;
    let buf = data;
    if (this.#carry) {
      buf = Buffer.concat([this.#carry, data]);
      this.#carry = null;
    }
    let pos = 0;
    while (pos < buf.length) {
      if (!this.#cur) {
        const h = this.#header(buf, pos);
        if (!h) {
          this.#carry = Buffer.from(buf.subarray(pos));
          // The carried header counts too: partial messages at the ceiling plus one would pass.
          this.#checkMemory();
          return null;
        }
        pos = h.end;
        this.#cur = { csid: h.csid, stream: h.stream, left: Math.min(this.#chunkSize, h.stream.length - h.stream.got) };
      }
      const c = this.#cur;
      const take = Math.min(c.left, buf.length - pos);
      if (take > 0) {
        c.stream.parts!.push(Buffer.from(buf.subarray(pos, pos + take)));
        c.stream.got += take;
        c.left -= take;
        this.#held += take;
        pos += take;
        this.#checkMemory();
      }
      if (c.left > 0) return null; // the chunk's body goes on in the next push, with no header
      this.#cur = null;
      if (c.stream.got === c.stream.length && !this.#emit(c.csid, c.stream, onMessage)) {
        // A message ends at a chunk boundary, so what is left starts with a header, and lies
        // within `data` (a carried partial header was consumed before any message).
        if (pos === buf.length) return null;
        this.received -= buf.length - pos;
        return buf.subarray(pos);
      }
    }
    return null;
  }

  #checkMemory(): void {
    if (this.bufferedBytes > this.#limits.memoryBytes()) {
      throw new RtmpError('RTMP_MEMORY', `more than ${this.#limits.memoryBytes()} bytes held for partial messages`);
    }
  }

  /** The chunk whose body is being read, and how much of it is left. */
  #cur: { csid: number; stream: ChunkStream; left: number } | null = null;

  #emit(csid: number, s: ChunkStream, onMessage: (m: RtmpMessage) => boolean): boolean {
    const parts = s.parts!;
    const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts, s.got);
    this.#held -= s.got;
    s.parts = null;
    s.got = 0;
    return onMessage({ csid, typeId: s.typeId, streamId: s.streamId, timestamp: s.timestamp, payload });
  }

  /**
   * Parses the chunk header at `pos`. Returns null when the header is incomplete (the bytes
   * are carried over to the next push).
   */
  #header(buf: Buffer, pos: number): { stream: ChunkStream; csid: number; end: number } | null {
    const avail = buf.length - pos;
    if (avail < 1) return null;
    const b0 = buf[pos]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let p = pos + 1;
    if (csid === 0) {
      if (avail < 2) return this.#incomplete(avail);
      csid = 64 + buf[p]!;
      p += 1;
    } else if (csid === 1) {
      if (avail < 3) return this.#incomplete(avail);
      csid = 64 + buf[p]! + buf[p + 1]! * 256;
      p += 2;
    }
    const msgHeader = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (buf.length - p < msgHeader) return this.#incomplete(avail);
    let s = this.#streams.get(csid);
    if (!s) {
      if (fmt !== 0) throw new RtmpError('RTMP_BAD_CHUNK', `chunk stream ${csid} starts with a type ${fmt} header`);
      if (this.#streams.size >= this.#limits.maxChunkStreams) {
        throw new RtmpError('RTMP_BAD_CHUNK', `more than ${this.#limits.maxChunkStreams} chunk streams`);
      }
      s = { timestamp: 0, delta: 0, length: 0, typeId: 0, streamId: 0, extended: false, parts: null, got: 0 };
    }
    if (fmt !== 3 && s.parts) throw new RtmpError('RTMP_BAD_CHUNK', `a type ${fmt} header in the middle of a message on chunk stream ${csid}`);
    let ts = 0;
    let length = s.length;
    let typeId = s.typeId;
    let streamId = s.streamId;
    if (fmt <= 2) {
      ts = buf.readUIntBE(p, 3);
      if (fmt <= 1) {
        length = buf.readUIntBE(p + 3, 3);
        typeId = buf[p + 6]!;
        if (fmt === 0) streamId = buf.readUInt32LE(p + 7);
      }
      p += msgHeader;
    }
    const extended = fmt <= 2 ? ts === 0xffffff : s.extended;
    if (extended) {
      if (buf.length - p < 4) return this.#incomplete(avail);
      // fmt 3 continuation chunks repeat the extended timestamp; it carries no new value.
      if (fmt <= 2) ts = buf.readUInt32BE(p);
      p += 4;
    }
    // The header is whole: commit it.
    if (!this.#streams.has(csid)) this.#streams.set(csid, s);
    if (fmt <= 2) s.extended = extended;
    if (!s.parts) {
      // A new message: fmt 0 carries the absolute time, 1 and 2 a delta, 3 repeats the last
      // delta. After fmt 0 that delta is its timestamp (the spec, 5.3.1.2.4): FFmpeg's writer
      // sends fmt 3 when the next delta equals the previous header's timestamp field.
      if (fmt === 0) { s.timestamp = ts; s.delta = ts; }
      else if (fmt === 3) s.timestamp = (s.timestamp + s.delta) >>> 0;
      else { s.delta = ts; s.timestamp = (s.timestamp + ts) >>> 0; }
      const max = this.#limits.maxLength(typeId);
      if (length > max) throw new RtmpError('RTMP_MESSAGE_TOO_LARGE', `message type ${typeId} of ${length} bytes (at most ${max})`);
      s.length = length;
      s.typeId = typeId;
      s.streamId = streamId;
      s.parts = [];
      s.got = 0;
    }
    return { stream: s, csid, end: p };
  }

  #incomplete(avail: number): null {
    if (avail > MAX_HEADER) throw new RtmpError('RTMP_BAD_CHUNK', 'chunk header longer than 18 bytes');
    return null;
  }
}
