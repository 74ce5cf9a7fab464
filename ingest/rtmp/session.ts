// One RTMP connection, publish-only: handshake, connect, createStream, publish, then the
// publish's media as FLV tag bodies to its hooks. Every step is checked in order, and nothing
// but the admitted publish's own audio, video and metadata ever leaves the session. Admission
// may be asynchronous (the session runs in the RTMP thread, the decision is the relay's):
// nothing after the publish command is parsed until it is made. Any fault closes this
// connection alone, with a stable code (errors.ts).
import { randomBytes } from 'node:crypto';
import { decodeAmf0, Amf0Error, type Amf0Value, type Amf0Object } from './amf0.js';
import { ChunkReader, type RtmpMessage } from './chunk-reader.js';
import { RtmpError, type RtmpErrorCode } from './errors.js';
import * as M from './writer.js';
import { publishRateCap, type PublishRateCap } from '../rate-cap.js';
import type { SessionLimits, PublishRequest, Admission, SessionHooks, SessionSocket } from './session-types.js';

const HANDSHAKE_BYTES = 1536;
/** Our acknowledgement window and the bandwidth we announce (what OBS and FFmpeg expect). */
const WINDOW = 2_500_000;
/** Replies we hold for a peer that does not read them, at most. */
const MAX_WRITE_BACKLOG = 64 * 1024;
/** Longest stream name with its query (the token) and app we read. */
const MAX_NAME_CHARS = 1024;
const PUBLISH_STREAM_ID = 1;
/** S0 (version 3) and S1 (time 0, zero version, random bytes), shared by every handshake. */
const S0S1 = Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(HANDSHAKE_BYTES - 8)]);
const MAX_CHUNK_STREAMS = 16;

export type { SessionLimits, PublishRefusal, PublishRequest, Admission, SessionHooks, SessionSocket } from './session-types.js';

type State = 'c0c1' | 'c2' | 'connect' | 'connected' | 'admitting' | 'publishing' | 'closed';

export class RtmpSession {
  readonly ip: string;
  readonly startedAt: number;
  /** Last time bytes arrived (the idle sweep reads it). */
  lastDataAt: number;
  #state: State = 'c0c1';
  #hs: Buffer[] = [];
  #hsBytes = 0;
  readonly #socket: SessionSocket;
  readonly #limits: SessionLimits;
  readonly #hooks: SessionHooks;
  readonly #reader: ChunkReader;
  readonly #writer = new M.ChunkWriter();
  /** Bytes that arrived while admission was being decided (bounded by preAdmitBytes). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #peerWindow = 0;
  #ackedAt = 0;
  #streamCreated = false;
  readonly #rate: PublishRateCap | null;

  constructor(socket: SessionSocket, ip: string, limits: SessionLimits, hooks: SessionHooks, now = Date.now()) {
    this.#socket = socket;
    this.ip = ip;
    this.#limits = limits;
    this.#hooks = hooks;
    this.startedAt = now;
    this.lastDataAt = now;
    this.#rate = publishRateCap(limits.maxPublishBitrate, now);
    this.#reader = new ChunkReader({
      maxChunkSize: limits.maxChunkSize,
      maxChunkStreams: MAX_CHUNK_STREAMS,
      maxLength: (t) => (this.#state === 'publishing' && (t === M.MSG_AUDIO || t === M.MSG_VIDEO) ? limits.maxMessageBytes : limits.maxCommandBytes),
      // Before admission the whole connection lives in preAdmitBytes; after it, one video and
      // one audio message can be in flight at once.
      memoryBytes: () => (this.#state === 'publishing' ? 2 * limits.maxMessageBytes : limits.preAdmitBytes - this.#hsBytes - this.#pendingBytes),
    });
  }

  /** Admitted and publishing. */
  get publishing(): boolean {
    return this.#state === 'publishing';
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Bytes this connection holds: handshake, partial messages, bytes waiting for admission. */
  get heldBytes(): number {
    return this.#hsBytes + this.#reader.bufferedBytes + this.#pendingBytes;
  }

  /** Bytes from the socket. Never throws: a fault closes this connection. */
  data(buf: Buffer, now = Date.now()): void {
    if (this.#state === 'closed') return;
    this.lastDataAt = now;
    if (this.#rate && !this.#rate.take(buf.length, now)) {
      return this.fail('RTMP_RATE', `more than ${this.#limits.maxPublishBitrate} bits/s (limits.maxPublishBitrate)`);
    }
    try {
      if (this.#state === 'admitting') return this.#hold(buf);
      if (this.#state === 'c0c1' || this.#state === 'c2') buf = this.#handshake(buf);
      const rest = buf.length && !this.closed ? this.#reader.push(buf, (m) => this.#message(m)) : null;
      if (rest && (this.#state as State) === 'admitting') this.#hold(rest);
      this.#maybeAck();
    } catch (err) {
      if (err instanceof RtmpError) this.fail(err.code, err.message);
      else if (err instanceof Amf0Error) this.fail('RTMP_BAD_COMMAND', err.message);
      else this.fail('RTMP_BAD_MESSAGE', err instanceof Error ? err.message : String(err));
    }
  }

  /** Keeps bytes until admission is decided, within the connection's pre-admission budget. */
  #hold(buf: Buffer): void {
    this.#pendingBytes += buf.length;
    if (this.#hsBytes + this.#reader.bufferedBytes + this.#pendingBytes > this.#limits.preAdmitBytes) {
      throw new RtmpError('RTMP_MEMORY', `more than ${this.#limits.preAdmitBytes} bytes before the publish was admitted`);
    }
    this.#pending.push(Buffer.from(buf));
  }

  /** Closes the connection for a protocol fault, counted under `code`. */
  fail(code: RtmpErrorCode, _message: string): void {
    if (this.#state === 'closed') return;
    this.#hooks.error(code);
    this.#close(true);
  }

  /** Ends the connection politely (the publisher is told by the socket closing). Safe to call twice. */
  close(): void {
    this.#close(false);
  }

  /** The socket closed from the other side, or was destroyed. */
  socketClosed(): void {
    this.#close(true);
  }

  #close(hard: boolean): void {
    if (this.#state === 'closed') return;
    const wasPublishing = this.#state === 'publishing';
    this.#state = 'closed';
    this.#hs = [];
    this.#hsBytes = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (hard) this.#socket.destroy();
    else this.#socket.end();
    if (wasPublishing) this.#hooks.unpublish();
    this.#hooks.closed();
  }

  #write(b: Buffer): void {
    if (this.#state === 'closed') return;
    this.#socket.write(b);
    if (this.#socket.writableLength > MAX_WRITE_BACKLOG) this.fail('RTMP_SLOW_READER', 'the peer does not read our replies');
  }

  /** C0+C1 then C2; returns the bytes after the handshake (the first chunks). */
  #handshake(buf: Buffer): Buffer {
    const need = this.#state === 'c0c1' ? 1 + HANDSHAKE_BYTES : HANDSHAKE_BYTES;
    const want = need - this.#hsBytes;
    if (buf.length < want) {
      this.#hs.push(Buffer.from(buf));
      this.#hsBytes += buf.length;
      return Buffer.alloc(0);
    }
    const whole = this.#hs.length ? Buffer.concat([...this.#hs, buf.subarray(0, want)]) : buf.subarray(0, want);
    this.#hs = [];
    this.#hsBytes = 0;
    const rest = buf.subarray(want);
    if (this.#state === 'c0c1') {
      if (whole[0] !== 3) throw new RtmpError('RTMP_BAD_HANDSHAKE', `C0 version ${whole[0]} (only 3, plain RTMP)`);
      // The simple handshake: S1 with a zero version (no digest, which OBS and FFmpeg accept
      // from a server when publishing), S2 echoing C1. S0+S1 is one buffer for the process: a
      // flood of handshakes allocates only what it sent.
      this.#write(S0S1);
      this.#write(whole.subarray(1));
      if (this.closed) return Buffer.alloc(0);
      this.#state = 'c2';
      return rest.length ? this.#handshake(rest) : rest;
    }
    this.#state = 'connect';
    return rest;
  }

  #maybeAck(): void {
    if (!this.#peerWindow || this.#state === 'closed') return;
    const r = this.#reader.received;
    if (r - this.#ackedAt >= this.#peerWindow) {
      this.#ackedAt = r;
      this.#write(this.#writer.ack(r));
    }
  }

  /** One whole message. Returns false to stop parsing (the connection is closing). */
  #message(m: RtmpMessage): boolean {
    switch (m.typeId) {
      case M.MSG_SET_CHUNK_SIZE:
        this.#reader.setChunkSize(u32(m) & 0x7fffffff);
        break;
      case M.MSG_ABORT:
        this.#reader.abort(u32(m));
        break;
      case M.MSG_ACK:
        u32(m);
        break;
      case M.MSG_WINDOW_ACK_SIZE:
        this.#peerWindow = u32(m);
        break;
      case M.MSG_USER_CONTROL:
      case M.MSG_SET_PEER_BANDWIDTH:
        if (m.payload.length < 4) throw new RtmpError('RTMP_BAD_MESSAGE', `control message type ${m.typeId} of ${m.payload.length} bytes`);
        break;
      case M.MSG_COMMAND_AMF0:
        this.#command(decodeAmf0(m.payload));
        break;
      case M.MSG_COMMAND_AMF3:
        // AMF3 command messages start with a format byte 0 and carry AMF0.
        if (m.payload[0] !== 0) throw new RtmpError('RTMP_BAD_COMMAND', 'AMF3-encoded command');
        this.#command(decodeAmf0(m.payload.subarray(1)));
        break;
      case M.MSG_AUDIO:
      case M.MSG_VIDEO:
        this.#media(m);
        break;
      case M.MSG_DATA_AMF0:
        this.#data(m);
        break;
      case M.MSG_AGGREGATE:
        throw new RtmpError('RTMP_BAD_MESSAGE', 'aggregate messages are not accepted from publishers');
      default:
        // Shared objects, AMF3 data and unknown types: nothing a publisher needs; ignored.
        break;
    }
    return this.#state !== 'closed' && this.#state !== 'admitting';
  }

  #media(m: RtmpMessage): void {
    if (this.#state !== 'publishing' || m.streamId !== PUBLISH_STREAM_ID) {
      throw new RtmpError('RTMP_UNEXPECTED', `media (type ${m.typeId}) before an admitted publish`);
    }
    if (m.payload.length === 0) throw new RtmpError('RTMP_BAD_MESSAGE', `empty ${m.typeId === M.MSG_VIDEO ? 'video' : 'audio'} message`);
    this.#hooks.media(m.typeId, m.timestamp, m.payload);
  }

  /** @setDataFrame onMetaData …: kept as the FLV script tag (onMetaData …); ignored before publish. */
  #data(m: RtmpMessage): void {
    if (this.#state !== 'publishing' || m.streamId !== PUBLISH_STREAM_ID) return;
    const values = decodeAmf0(m.payload);
    let body = m.payload;
    // Strip the first value, a string (marker 2, 16-bit length) or a long string (12, 32-bit).
    if (values[0] === '@setDataFrame') body = m.payload.subarray(m.payload[0] === 0x0c ? 5 + m.payload.readUInt32BE(1) : 3 + m.payload.readUInt16BE(1));
    this.#hooks.media(18, 0, body);
  }

  #command(v: Amf0Value[]): void {
    const name = v[0];
    const txn = typeof v[1] === 'number' ? v[1] : 0;
    if (typeof name !== 'string') throw new RtmpError('RTMP_BAD_COMMAND', 'a command without a name');
    switch (name) {
      case 'connect':
        return this.#connect(txn, v[2]);
      case 'createStream':
        if (this.#state !== 'connected') throw new RtmpError('RTMP_UNEXPECTED', `createStream in state ${this.#state}`);
        this.#streamCreated = true;
        return this.#write(this.#writer.command(0, ['_result', txn, null, PUBLISH_STREAM_ID]));
      case 'publish':
        return this.#publish(v[3]);
      case 'play':
      case 'play2':
        this.#write(this.#writer.onStatus(PUBLISH_STREAM_ID, 'error', 'NetStream.Play.Failed', 'RTMP_PLAY_REFUSED: this server takes publishers only; watch over WebSocket'));
        if (this.closed) return; // the reply overflowed the backlog: counted as RTMP_SLOW_READER
        this.#hooks.error('RTMP_PLAY_REFUSED');
        return this.#close(false);
      case 'deleteStream':
      case 'closeStream':
      case 'FCUnpublish':
        if (this.#state === 'publishing') this.#close(false);
        return;
      default:
        // releaseStream, FCPublish, _checkbw, getStreamLength…: nothing to do for a publish.
        if (this.#state === 'c0c1' || this.#state === 'c2' || this.#state === 'connect') {
          throw new RtmpError('RTMP_UNEXPECTED', 'a command before connect');
        }
    }
  }

  #connect(txn: number, obj: Amf0Value): void {
    if (this.#state !== 'connect') throw new RtmpError('RTMP_UNEXPECTED', 'a second connect');
    if (!isObject(obj) || typeof obj.app !== 'string') throw new RtmpError('RTMP_BAD_COMMAND', 'connect without an app');
    // OBS and FFmpeg send "live"; some tools add a query or a trailing slash.
    // Trailing slashes trimmed by hand: /\/+$/ is quadratic on a long run of slashes not at the end.
    let app = obj.app.split('?')[0]!;
    let end = app.length;
    while (end > 0 && app.charCodeAt(end - 1) === 0x2f) end--;
    app = app.slice(0, end);
    if (app !== this.#limits.app) {
      this.#write(this.#writer.command(0, ['_error', txn, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: `RTMP_APP_UNKNOWN: publish to rtmp://HOST/${this.#limits.app}` }]));
      if (this.closed) return; // counted as RTMP_SLOW_READER
      this.#hooks.error('RTMP_APP_UNKNOWN');
      return this.#close(false);
    }
    this.#state = 'connected';
    this.#write(Buffer.concat([
      this.#writer.windowAckSize(WINDOW),
      this.#writer.setPeerBandwidth(WINDOW),
      this.#writer.setChunkSize(M.OUT_CHUNK_SIZE),
      this.#writer.command(0, ['_result', txn,
        { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
        { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 }]),
    ]));
  }

  #publish(rawName: Amf0Value): void {
    if (this.#state !== 'connected' || !this.#streamCreated) throw new RtmpError('RTMP_UNEXPECTED', `publish in state ${this.#state}`);
    if (typeof rawName !== 'string' || rawName.length > MAX_NAME_CHARS) {
      throw new RtmpError('RTMP_BAD_COMMAND', 'publish needs a stream name (a string of at most 1024 characters)');
    }
    const q = rawName.indexOf('?');
    const name = q < 0 ? rawName : rawName.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : rawName.slice(q + 1));
    const p: PublishRequest = { name, ip: this.ip, key: params.get('token') ?? params.get('key') ?? undefined };
    // No byte after the publish command is parsed before the decision: a promised one stops
    // the reader (#message returns false) and later bytes are held (#hold).
    const decision = this.#hooks.publish(p);
    if (!isPromiseLike(decision)) return this.#decided(p, decision);
    this.#state = 'admitting';
    decision.then((d) => this.#resume(p, d), () => this.fail('RTMP_BAD_MESSAGE', 'admission failed'));
  }

  /** A promised decision arrived: apply it, then parse what came meanwhile. */
  #resume(p: PublishRequest, d: Admission): void {
    if (this.#state !== 'admitting') {
      // Gone while waiting: an admission must still be undone, or the name stays taken.
      if (!d) this.#hooks.unpublish();
      return;
    }
    this.#state = 'connected';
    this.#decided(p, d);
    const held = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (held.length && (this.#state as State) === 'publishing') this.data(held.length === 1 ? held[0]! : Buffer.concat(held), this.lastDataAt);
  }

  #decided(p: PublishRequest, refusal: Admission): void {
    const { name } = p;
    if (refusal) {
      this.#write(this.#writer.onStatus(PUBLISH_STREAM_ID, 'error', `NetStream.Publish.${refusal.status}`, `${refusal.code}: ${refusal.message}`));
      if (this.closed) return; // counted as RTMP_SLOW_READER
      this.#hooks.error(refusal.code);
      return this.#close(false);
    }
    this.#state = 'publishing';
    this.#write(Buffer.concat([
      this.#writer.streamBegin(PUBLISH_STREAM_ID),
      this.#writer.onStatus(PUBLISH_STREAM_ID, 'status', 'NetStream.Publish.Start', `${name} is now published.`),
    ]));
  }
}

function u32(m: RtmpMessage): number {
  if (m.payload.length < 4) throw new RtmpError('RTMP_BAD_MESSAGE', `control message type ${m.typeId} of ${m.payload.length} bytes`);
  return m.payload.readUInt32BE(0);
}

function isPromiseLike(d: Admission | PromiseLike<Admission>): d is PromiseLike<Admission> {
  return d !== null && typeof (d as PromiseLike<Admission>).then === 'function';
}

function isObject(v: Amf0Value): v is Amf0Object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
