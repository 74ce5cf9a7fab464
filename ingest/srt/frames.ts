// The gateway's stdout (gateway.c): frames [type u8][id u32 BE][length u32 BE][payload]. An
// incremental reader that copies only what straddles reads. The gateway is ours, but its
// payloads are callers' bytes, so lengths are bounded anyway.

export type FrameType = 'L' | 'R' | 'O' | 'D' | 'X' | 'F';
const TYPES = new Set<string>(['L', 'R', 'O', 'D', 'X', 'F']);

/** Largest payload the gateway writes: one SRT message (1500) or a handshake line (~560). */
export const MAX_FRAME_PAYLOAD = 4096;
const HEAD = 9;

export class FrameError extends Error {}

export class FrameReader {
  #rest: Buffer = Buffer.alloc(0);

  /** Calls `on` for each whole frame in `data` (and what was left from before). Throws FrameError on garbage. */
  push(data: Buffer, on: (type: FrameType, id: number, payload: Buffer) => void): void {
    let buf = this.#rest.length ? Buffer.concat([this.#rest, data]) : data;
    let off = 0;
    while (buf.length - off >= HEAD) {
      const type = String.fromCharCode(buf[off]!);
      if (!TYPES.has(type)) throw new FrameError(`unknown frame type 0x${buf[off]!.toString(16)}`);
      const len = buf.readUInt32BE(off + 5);
      if (len > MAX_FRAME_PAYLOAD) throw new FrameError(`frame of ${len} bytes`);
      if (buf.length - off < HEAD + len) break;
      // SRT socket ids are positive 31-bit numbers; read unsigned and keep as a number.
      const id = buf.readUInt32BE(off + 1);
      on(type as FrameType, id, buf.subarray(off + HEAD, off + HEAD + len));
      off += HEAD + len;
    }
    buf = buf.subarray(off);
    // Copy the tail: `data` may be reused by the stream, and a slice would pin the whole chunk.
    this.#rest = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }
}
