// A raw RTMP client for hostile and fuzz sessions: it speaks exactly the bytes it is told to,
// and reads the server's replies with the server's own chunk reader (fresh instance, generous
// limits), so a test can send anything and still see what came back.
import { connect, type Socket } from 'node:net';
import { ChunkReader, type RtmpMessage } from '../../ingest/rtmp/chunk-reader.js';
import { decodeAmf0, encodeAmf0, type Amf0Value } from '../../ingest/rtmp/amf0.js';

export const C0C1 = (): Buffer => Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 7)]);

/** One message as chunks (type 0 then type 3 headers) at `chunkSize`, csid < 64. */
export function chunked(csid: number, typeId: number, streamId: number, timestamp: number, payload: Buffer, chunkSize = 128): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off === 0 || off < payload.length; off += chunkSize) {
    if (off === 0) {
      const h = Buffer.alloc(12);
      h[0] = csid;
      h.writeUIntBE(Math.min(timestamp, 0xffffff), 1, 3);
      h.writeUIntBE(payload.length, 4, 3);
      h[7] = typeId;
      h.writeUInt32LE(streamId, 8);
      parts.push(h);
      if (timestamp >= 0xffffff) { const e = Buffer.alloc(4); e.writeUInt32BE(timestamp >>> 0); parts.push(e); }
    } else {
      parts.push(Buffer.from([0xc0 | csid]));
      if (timestamp >= 0xffffff) { const e = Buffer.alloc(4); e.writeUInt32BE(timestamp >>> 0); parts.push(e); }
    }
    parts.push(payload.subarray(off, off + chunkSize));
  }
  return Buffer.concat(parts);
}

export const command = (values: Amf0Value[], streamId = 0, chunkSize = 128): Buffer => chunked(3, 20, streamId, 0, encodeAmf0(values), chunkSize);

export const setChunkSize = (n: number): Buffer => {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(n >>> 0);
  return chunked(2, 1, 0, 0, p);
};

/** The messages OBS and FFmpeg send to publish `key` on `app`, after the handshake. */
export function publishCommands(app: string, key: string, chunkSize = 128): Buffer {
  return Buffer.concat([
    command(['connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', tcUrl: `rtmp://127.0.0.1/${app}` }], 0, chunkSize),
    command(['releaseStream', 2, null, key], 0, chunkSize),
    command(['FCPublish', 3, null, key], 0, chunkSize),
    command(['createStream', 4, null], 0, chunkSize),
    command(['publish', 5, null, key, 'live'], 1, chunkSize),
  ]);
}

/** An H.264 sequence header (avcC) for a 64×64 baseline picture, as an FLV video body. */
export function avcSequenceHeader(variant = 0): Buffer {
  const sps = Buffer.from([0x67, 0x42, 0xc0, 0x0a, 0xd9, 0x07, 0x3c, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x83, 0xc4, 0x89, 0x65, 0x80 + (variant & 0x7f)]);
  const pps = Buffer.from([0x68, 0xcb, 0x83, 0xcb, 0x20]);
  const avcc = Buffer.concat([Buffer.from([1, 0x42, 0xc0, 0x0a, 0xff, 0xe1]), u16(sps.length), sps, Buffer.from([1]), u16(pps.length), pps]);
  return Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), avcc]);
}

/** The finding: 16 chunk streams each declaring a 16 MB command, and 128 bytes of each. */
export function hugeDeclarations(): Buffer[] {
  const out: Buffer[] = [];
  for (let csid = 3; csid < 19; csid++) {
    const h = Buffer.alloc(12);
    h[0] = csid;
    h.writeUIntBE(16 * 1024 * 1024 - 1, 4, 3);
    h[7] = 20;
    out.push(h, Buffer.alloc(128, 1));
  }
  return out;
}

const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };

export class RawRtmp {
  readonly socket: Socket;
  readonly messages: RtmpMessage[] = [];
  /** Bytes before the chunk stream (S0 S1 S2). */
  #handshake = 0;
  #reader = new ChunkReader({ maxChunkSize: 1 << 24, maxChunkStreams: 64, maxLength: () => 1 << 24, memoryBytes: () => 1 << 26 });
  closed = false;
  readonly done: Promise<void>;
  readonly connected: Promise<void>;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = connect(port, host);
    this.socket.on('error', () => {});
    this.connected = new Promise((r) => this.socket.once('connect', () => r()));
    this.done = new Promise((r) => this.socket.once('close', () => { this.closed = true; r(); }));
    this.socket.on('data', (b: Buffer) => {
      if (this.#handshake < 3073) {
        const take = Math.min(b.length, 3073 - this.#handshake);
        this.#handshake += take;
        b = b.subarray(take);
        if (!b.length) return;
      }
      try {
        this.#reader.push(b, (m) => {
          if (m.typeId === 1) this.#reader.setChunkSize(m.payload.readUInt32BE(0));
          this.messages.push(m);
          return true;
        });
      } catch { /* the server's replies are not under test here */ }
    });
  }

  write(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  /** Handshake: C0+C1 now, C2 once S0+S1+S2 arrived. */
  async handshake(): Promise<void> {
    await this.connected;
    this.write(C0C1());
    await this.until(() => this.#handshake >= 3073, 3_000, 'S0 S1 S2');
    this.write(Buffer.alloc(1536, 9));
  }

  /** Decoded AMF0 commands received. */
  commands(): Amf0Value[][] {
    return this.messages.filter((m) => m.typeId === 20).map((m) => decodeAmf0(m.payload));
  }

  /** The `code` of every onStatus or _error received. */
  statusCodes(): string[] {
    return this.commands().filter((c) => c[0] === 'onStatus' || c[0] === '_error')
      .map((c) => (c[3] as { code?: string } | undefined)?.code ?? '');
  }

  async until(cond: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Resolves true if the server closed the connection within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    return Promise.race([this.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
