// Our side of the chunk stream: the few control messages and commands a publish-only server
// sends, chunked at the size we announced.
import { encodeAmf0, type Amf0Value } from './amf0.js';

export const MSG_SET_CHUNK_SIZE = 1;
export const MSG_ABORT = 2;
export const MSG_ACK = 3;
export const MSG_USER_CONTROL = 4;
export const MSG_WINDOW_ACK_SIZE = 5;
export const MSG_SET_PEER_BANDWIDTH = 6;
export const MSG_AUDIO = 8;
export const MSG_VIDEO = 9;
export const MSG_DATA_AMF3 = 15;
export const MSG_SHARED_OBJECT_AMF3 = 16;
export const MSG_COMMAND_AMF3 = 17;
export const MSG_DATA_AMF0 = 18;
export const MSG_SHARED_OBJECT_AMF0 = 19;
export const MSG_COMMAND_AMF0 = 20;
export const MSG_AGGREGATE = 22;

/** The chunk size we send with: every reply fits one chunk. */
export const OUT_CHUNK_SIZE = 4096;
const CSID_CONTROL = 2;
const CSID_COMMAND = 3;

export class ChunkWriter {
  #chunkSize = 128;

  /** One message as chunks: a type 0 header, then type 3 headers. csid < 64. */
  message(csid: number, typeId: number, streamId: number, payload: Buffer): Buffer {
    const parts: Buffer[] = [];
    for (let off = 0; off === 0 || off < payload.length; off += this.#chunkSize) {
      if (off === 0) {
        const h = Buffer.alloc(12);
        h[0] = csid;
        h.writeUIntBE(0, 1, 3);
        h.writeUIntBE(payload.length, 4, 3);
        h[7] = typeId;
        h.writeUInt32LE(streamId, 8);
        parts.push(h);
      } else {
        parts.push(Buffer.from([0xc0 | csid]));
      }
      parts.push(payload.subarray(off, off + this.#chunkSize));
    }
    return Buffer.concat(parts);
  }

  #u32(typeId: number, v: number): Buffer {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(v >>> 0, 0);
    return this.message(CSID_CONTROL, typeId, 0, p);
  }

  /** Set Chunk Size; later messages are chunked at `n`. */
  setChunkSize(n: number): Buffer {
    const b = this.#u32(MSG_SET_CHUNK_SIZE, n);
    this.#chunkSize = n;
    return b;
  }

  windowAckSize(n: number): Buffer {
    return this.#u32(MSG_WINDOW_ACK_SIZE, n);
  }

  ack(sequence: number): Buffer {
    return this.#u32(MSG_ACK, sequence);
  }

  /** Set Peer Bandwidth, limit type 2 (dynamic). */
  setPeerBandwidth(n: number): Buffer {
    const p = Buffer.alloc(5);
    p.writeUInt32BE(n, 0);
    p[4] = 2;
    return this.message(CSID_CONTROL, MSG_SET_PEER_BANDWIDTH, 0, p);
  }

  /** User Control: Stream Begin. */
  streamBegin(streamId: number): Buffer {
    const p = Buffer.alloc(6);
    p.writeUInt16BE(0, 0);
    p.writeUInt32BE(streamId, 2);
    return this.message(CSID_CONTROL, MSG_USER_CONTROL, 0, p);
  }

  command(streamId: number, values: Amf0Value[]): Buffer {
    return this.message(CSID_COMMAND, MSG_COMMAND_AMF0, streamId, encodeAmf0(values));
  }

  /** onStatus on a stream: `level` status or error, `code` such as NetStream.Publish.Start. */
  onStatus(streamId: number, level: 'status' | 'error', code: string, description: string): Buffer {
    return this.command(streamId, ['onStatus', 0, null, { level, code, description }]);
  }
}
