// Incremental FLV reader for FFmpeg's `-f flv` stdout: turns an arbitrary byte stream into
// whole tags. Sizes are untrusted: a tag's size is checked from its 11-byte header before
// any body byte is buffered.

export type FlvErrorCode = 'FLV_BAD_HEADER' | 'FLV_BAD_TAG' | 'FLV_TAG_TOO_LARGE' | 'FLV_NO_TRACK';

export class FlvError extends Error {
  readonly code: FlvErrorCode;
  constructor(code: FlvErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'FlvError';
    this.code = code;
  }
}

export const TAG_AUDIO = 8;
export const TAG_VIDEO = 9;
export const TAG_SCRIPT = 18;

export interface FlvHeader {
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface FlvTag {
  type: number;
  /** Decode timestamp in ms (24 bits + 8 extended bits, as written). */
  timestamp: number;
  /** The tag's body; a view of the input when the tag arrived in one piece. */
  body: Buffer;
}

const HEADER_BYTES = 9;
const TAG_HEADER_BYTES = 11;
/** PreviousTagSize after every tag (and PreviousTagSize0 after the header). */
const TRAILER_BYTES = 4;

export class FlvReader {
  readonly #maxTagBytes: number;
  #header: FlvHeader | null = null;
  #failure: FlvError | null = null;
  /** Bytes of a tag (or the file header) not complete yet. */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** Bytes the held unit needs before it can be parsed (so a big tag is joined once, not per piece). */
  #need = 0;
  /** Stream offset of the next byte, for error messages. */
  #offset = 0;

  constructor(opts: { maxTagBytes: number }) {
    this.#maxTagBytes = opts.maxTagBytes;
  }

  get header(): FlvHeader | null {
    return this.#header;
  }

  /** Bytes held for an incomplete tag; at most maxTagBytes + 15. */
  get bufferedBytes(): number {
    return this.#heldBytes;
  }

  /**
   * Feeds the next piece; returns the tags it completed, in order. `data` must not be mutated
   * afterwards (tag bodies may be views of it). Throws FlvError on bad input, and keeps throwing it.
   */
  push(data: Buffer): FlvTag[] {
    if (this.#failure) throw this.#failure;
    let buf = data;
    if (this.#heldBytes) {
      this.#held.push(data);
      if (this.#heldBytes + data.length < this.#need) {
        this.#heldBytes += data.length;
        return [];
      }
      buf = Buffer.concat(this.#held, this.#heldBytes + data.length);
      this.#held = [];
      this.#heldBytes = 0;
    }
    const tags: FlvTag[] = [];
    let p = 0;
    try {
      if (!this.#header) {
        if (buf.length < HEADER_BYTES + TRAILER_BYTES) return this.#hold(buf, p, tags);
        this.#header = this.#readHeader(buf);
        p = buf.readUInt32BE(5) + TRAILER_BYTES;
      }
      while (buf.length - p >= TAG_HEADER_BYTES) {
        const type = buf[p]! & 0x1f;
        if (buf[p]! & 0x20) this.#fail('FLV_BAD_TAG', `tag at byte ${this.#offset + p} is encrypted (filter bit set)`);
        const size = buf.readUIntBE(p + 1, 3);
        if (size > this.#maxTagBytes) {
          this.#fail('FLV_TAG_TOO_LARGE', `tag at byte ${this.#offset + p} has ${size} bytes, over maxBoxBytes ${this.#maxTagBytes}`);
        }
        const whole = TAG_HEADER_BYTES + size + TRAILER_BYTES;
        if (buf.length - p < whole) break;
        const timestamp = (buf.readUIntBE(p + 4, 3) | (buf[p + 7]! << 24)) >>> 0;
        const prev = buf.readUInt32BE(p + TAG_HEADER_BYTES + size);
        if (prev !== TAG_HEADER_BYTES + size) {
          this.#fail('FLV_BAD_TAG', `tag at byte ${this.#offset + p} ends with PreviousTagSize ${prev}, expected ${TAG_HEADER_BYTES + size}`);
        }
        tags.push({ type, timestamp, body: buf.subarray(p + TAG_HEADER_BYTES, p + TAG_HEADER_BYTES + size) });
        p += whole;
      }
    } catch (err) {
      if (err instanceof FlvError) this.#failure = err;
      throw err;
    }
    return this.#hold(buf, p, tags);
  }

  #hold(buf: Buffer, p: number, tags: FlvTag[]): FlvTag[] {
    this.#offset += p;
    if (p < buf.length) {
      // A copy: holding a view would pin the caller's whole (pooled) buffer.
      const rest = Buffer.from(buf.subarray(p));
      this.#held = [rest];
      this.#heldBytes = rest.length;
      this.#need = !this.#header ? HEADER_BYTES + TRAILER_BYTES
        : rest.length < TAG_HEADER_BYTES ? TAG_HEADER_BYTES
          : TAG_HEADER_BYTES + rest.readUIntBE(1, 3) + TRAILER_BYTES;
    }
    return tags;
  }

  #readHeader(buf: Buffer): FlvHeader {
    if (buf.toString('latin1', 0, 3) !== 'FLV') this.#fail('FLV_BAD_HEADER', `stream does not start with "FLV" (got 0x${buf.subarray(0, 3).toString('hex')})`);
    if (buf[3] !== 1) this.#fail('FLV_BAD_HEADER', `FLV version ${buf[3]}, expected 1`);
    const dataOffset = buf.readUInt32BE(5);
    // Only the 9-byte header of version 1 exists; a larger offset would make us skip unseen bytes.
    if (dataOffset !== HEADER_BYTES) this.#fail('FLV_BAD_HEADER', `header size ${dataOffset}, expected ${HEADER_BYTES}`);
    return { hasAudio: (buf[4]! & 0x04) !== 0, hasVideo: (buf[4]! & 0x01) !== 0 };
  }

  #fail(code: FlvErrorCode, message: string): never {
    throw new FlvError(code, message);
  }
}
