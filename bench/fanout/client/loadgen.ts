// The load generator: thousands of WebSocket viewers on raw TCP sockets in one Node process.
// Each viewer does a minimal client handshake, then parses frame headers and only as many
// payload bytes as identify a chunk: the mfhd sequence number at a fixed offset of an fMP4
// chunk, or the timestamp of an FLV video tag. It stamps the chunk's arrival (the read that
// completes its frame) on the shared monotonic clock; everything else is skipped unread.
// Reads go into one static buffer (net's `onread`), so there is no allocation per read.
//
// Args: --port --path /live/bench --n N [--mode fmp4|flv] [--seq-offset 52] [--slow-every 0]
//       [--slow-rate-bps 500000] [--concurrency 256] [--max-s 120] [--progress MS] --out FILE
// Stdout events: {"event":"joined",...} once every viewer has its 101, {"event":"done"} after "stop".
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { openSync, writeSync, closeSync } from 'node:fs';
import { monoMs } from '../lib/clock.js';
import { emitEvent, num, onStop, parseArgs, str } from '../lib/control.js';

const args = parseArgs();
const PORT = num(args, 'port');
const PATH = str(args, 'path', '/live/bench');
const N = num(args, 'n');
const FLV = str(args, 'mode', 'fmp4') === 'flv';
const SEQ_OFF = num(args, 'seq-offset', 52);
const SLOW_EVERY = num(args, 'slow-every', 0);
const SLOW_BPS = num(args, 'slow-rate-bps', 500_000);
const CONCURRENCY = num(args, 'concurrency', 256);
const MAX_S = num(args, 'max-s', 120);
const CAP = Math.ceil(MAX_S * 32) + 256;
/** Payload bytes kept per message: enough for the key (fMP4 seq, FLV tag header) or a text type. */
const KEEP = Math.max(FLV ? 8 : SEQ_OFF + 4, 24);
const SKIP_KEY = -1;

// Header states.
const HANDSHAKE = 0;
const HEADER = 1;
const PAYLOAD = 2;
const CLOSED = 3;

class Conn {
  readonly idx: number;
  readonly slow: boolean;
  sock!: net.Socket;
  phase = HANDSHAKE;
  hs = '';
  hdr = new Uint8Array(14);
  hdrLen = 0;
  opcode = 0;
  left = 0;
  keep = new Uint8Array(KEEP);
  keepLen = 0;
  keepWant = 0;
  keys = new Float64Array(CAP);
  times = new Float64Array(CAP);
  count = 0;
  bad = 0;
  failed = false;
  // slow-reader throttle
  readBytes = 0;
  slowStart = 0;
  paused = false;
  constructor(idx: number, slow: boolean) { this.idx = idx; this.slow = slow; }
}

const conns: Conn[] = [];
for (let i = 0; i < N; i++) conns.push(new Conn(i, SLOW_EVERY > 0 && i % SLOW_EVERY === SLOW_EVERY - 1));

let recording = true;
let frames = 0;
let reads = 0;
let bytesIn = 0;
let joined = 0;
let failed = 0;
let next = 0;
let inFlight = 0;
let firstConnectAt = 0;
let lastJoinAt = 0;
let joinReported = false;

const FAST_BUF = Buffer.allocUnsafe(256 * 1024);
const SLOW_BUF = Buffer.allocUnsafe(8 * 1024);

function record(c: Conn, key: number, now: number): void {
  if (!recording || c.count >= CAP) return;
  c.keys[c.count] = key;
  c.times[c.count] = now;
  c.count++;
}

function onMessage(c: Conn, now: number): void {
  frames++;
  const k = c.keep;
  const op = c.opcode;
  if (op === 2) {
    if (FLV) {
      if (c.keepLen >= 8 && k[0] === 9) record(c, ((k[4]! << 16) | (k[5]! << 8) | k[6]!) + k[7]! * 0x1000000, now);
      else if (k[0] !== 8 && k[0] !== 18 && k[0] !== 0x46 /* 'F' of the FLV header */) c.bad++;
      return;
    }
    // mfhd: 'm' 'f' 'h' 'd' 8 bytes before the sequence number's 4 bytes (after version/flags).
    if (c.keepLen >= SEQ_OFF + 4 && k[SEQ_OFF - 8] === 0x6d && k[SEQ_OFF - 7] === 0x66 && k[SEQ_OFF - 6] === 0x68 && k[SEQ_OFF - 5] === 0x64) {
      record(c, ((k[SEQ_OFF]! << 24) >>> 0) + (k[SEQ_OFF + 1]! << 16) + (k[SEQ_OFF + 2]! << 8) + k[SEQ_OFF + 3]!, now);
    } else if (!(k[4] === 0x66 && k[5] === 0x74 && k[6] === 0x79 && k[7] === 0x70)) { // not 'ftyp' (init)
      c.bad++;
    }
  } else if (op === 1) {
    // {"type":"skip", ...}: the 10th..13th bytes spell skip.
    if (c.keepLen >= 14 && k[9] === 0x73 && k[10] === 0x6b && k[11] === 0x69 && k[12] === 0x70) record(c, SKIP_KEY, now);
  } else if (op === 9) {
    // ping: answer with a masked pong carrying the same payload (kept whole: ≤ 125 bytes, KEEP ≥ 24... copy what we kept).
    const len = c.keepLen;
    const f = Buffer.allocUnsafe(6 + len);
    f[0] = 0x8a; f[1] = 0x80 | len;
    f[2] = 0; f[3] = 0; f[4] = 0; f[5] = 0; // zero mask: payload unchanged
    for (let i = 0; i < len; i++) f[6 + i] = k[i]!;
    c.sock.write(f);
  } else if (op === 8) {
    c.phase = CLOSED;
  }
}

/** Parses `n` bytes of frames at buf[p..n). */
function parse(c: Conn, buf: Buffer, p: number, n: number, now: number): void {
  while (p < n) {
    if (c.phase === HEADER) {
      // Fast path: the whole header is here.
      let hl = 0;
      let b0 = 0;
      let len = 0;
      if (c.hdrLen === 0 && n - p >= 2) {
        b0 = buf[p]!;
        const l7 = buf[p + 1]! & 0x7f;
        hl = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
        if (n - p >= hl) {
          len = l7 === 126 ? (buf[p + 2]! << 8) | buf[p + 3]! : l7 === 127 ? buf.readUInt32BE(p + 6) + buf.readUInt32BE(p + 2) * 2 ** 32 : l7;
          p += hl;
        } else hl = 0;
      }
      if (hl === 0) {
        // Slow path: gather the header byte by byte.
        c.hdr[c.hdrLen++] = buf[p++]!;
        if (c.hdrLen < 2) continue;
        const l7 = c.hdr[1]! & 0x7f;
        const need = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
        if (c.hdrLen < need) continue;
        const h = c.hdr;
        b0 = h[0]!;
        len = l7 === 126 ? (h[2]! << 8) | h[3]! : l7 === 127 ? (h[6]! * 2 ** 24 + (h[7]! << 16) + (h[8]! << 8) + h[9]!) + (h[2]! * 2 ** 24 + (h[3]! << 16) + (h[4]! << 8) + h[5]!) * 2 ** 32 : l7;
        c.hdrLen = 0;
      }
      c.opcode = b0 & 0x0f;
      if ((b0 & 0x80) === 0) c.bad++; // fragmented messages are not expected from any sender here
      c.left = len;
      c.keepLen = 0;
      c.keepWant = len < KEEP ? len : KEEP;
      c.phase = PAYLOAD;
      if (len === 0) { c.phase = HEADER; onMessage(c, now); }
      continue;
    }
    if (c.phase === PAYLOAD) {
      let take = n - p;
      if (take > c.left) take = c.left;
      if (c.keepLen < c.keepWant) {
        let m = c.keepWant - c.keepLen;
        if (m > take) m = take;
        const k = c.keep;
        for (let i = 0; i < m; i++) k[c.keepLen + i] = buf[p + i]!;
        c.keepLen += m;
      }
      p += take;
      c.left -= take;
      if (c.left === 0) { c.phase = HEADER; onMessage(c, now); }
      continue;
    }
    if (c.phase === HANDSHAKE) {
      // Small, once per viewer: accumulate as text until the blank line.
      const s = buf.toString('latin1', p, n);
      c.hs += s;
      const end = c.hs.indexOf('\r\n\r\n');
      if (end < 0) { if (c.hs.length > 8192) fail(c); return; }
      if (!c.hs.startsWith('HTTP/1.1 101')) { fail(c); return; }
      const consumed = end + 4 - (c.hs.length - s.length);
      c.hs = '';
      c.phase = HEADER;
      onJoined(c);
      p += consumed;
      continue;
    }
    return; // CLOSED
  }
}

function onJoined(c: Conn): void {
  joined++;
  inFlight--;
  lastJoinAt = monoMs();
  if (c.slow) c.slowStart = lastJoinAt;
  pump();
  maybeReportJoin();
}

function fail(c: Conn): void {
  if (c.failed) return;
  c.failed = true;
  failed++;
  if (c.phase === HANDSHAKE) { inFlight--; pump(); }
  c.phase = CLOSED;
  c.sock.destroy();
  maybeReportJoin();
}

function maybeReportJoin(): void {
  if (joinReported || joined + failed < N) return;
  joinReported = true;
  const ms = lastJoinAt - firstConnectAt;
  emitEvent('joined', { joined, failed, ms, rate: joined / (ms / 1000) });
}

/** net's onread callback; returning false would pause the socket, which the throttle does explicitly. */
function onRead(c: Conn, nread: number, buf: Buffer): boolean {
  const now = monoMs();
  reads++;
  bytesIn += nread;
  parse(c, buf, 0, nread, now);
  if (c.slow && c.phase !== HANDSHAKE && c.slowStart > 0) {
    c.readBytes += nread;
    const allowed = (SLOW_BPS / 8) * (now - c.slowStart) / 1000;
    if (c.readBytes > allowed && !c.paused) {
      c.paused = true;
      c.sock.pause();
      setTimeout(() => { c.paused = false; if (c.phase !== CLOSED) c.sock.resume(); }, Math.min(2000, ((c.readBytes - allowed) * 8 / SLOW_BPS) * 1000));
    }
  }
  return true;
}

function open(c: Conn): void {
  inFlight++;
  const key = randomBytes(16).toString('base64');
  const sock = net.connect({
    host: '127.0.0.1',
    port: PORT,
    noDelay: true,
    onread: { buffer: c.slow ? SLOW_BUF : FAST_BUF, callback: (n: number, b: Uint8Array) => onRead(c, n, b as Buffer) },
  });
  c.sock = sock;
  sock.on('connect', () => {
    sock.write(`GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
  sock.on('error', () => fail(c));
  sock.on('close', () => { if (c.phase === HANDSHAKE) fail(c); else c.phase = CLOSED; });
}

function pump(): void {
  while (inFlight < CONCURRENCY && next < N) open(conns[next++]!);
}

/** Binary dump: "NCAR", u32 n, then per viewer u32 idx, u32 flags (1 slow, 2 closed, 4 failed), u32 count, u32 bad, f64 keys[count], f64 times[count]. */
function dump(file: string): void {
  const fd = openSync(file, 'w');
  const h = Buffer.alloc(8);
  h.write('NCAR', 0, 'latin1');
  h.writeUInt32LE(N, 4);
  writeSync(fd, h);
  for (const c of conns) {
    const ch = Buffer.alloc(16);
    ch.writeUInt32LE(c.idx, 0);
    ch.writeUInt32LE((c.slow ? 1 : 0) | (c.phase === CLOSED ? 2 : 0) | (c.failed ? 4 : 0), 4);
    ch.writeUInt32LE(c.count, 8);
    ch.writeUInt32LE(c.bad, 12);
    writeSync(fd, ch);
    writeSync(fd, Buffer.from(c.keys.buffer, 0, c.count * 8));
    writeSync(fd, Buffer.from(c.times.buffer, 0, c.count * 8));
  }
  closeSync(fd);
}

firstConnectAt = monoMs();
pump();
emitEvent('started', { pid: process.pid, n: N });

// --progress MS: how many slow viewers have seen a skip and then a chunk, for tests that wait on it.
const PROGRESS_MS = num(args, 'progress', 0);
if (PROGRESS_MS > 0) {
  setInterval(() => {
    let resumed = 0;
    let minChunks = Infinity;
    for (const c of conns) {
      if (!c.slow) { minChunks = Math.min(minChunks, c.count); continue; }
      let sawSkip = false;
      for (let i = 0; i < c.count; i++) {
        if (c.keys[i] === SKIP_KEY) sawSkip = true;
        else if (sawSkip) { resumed++; break; }
      }
    }
    emitEvent('progress', { joined, slowResumed: resumed, healthyMinChunks: minChunks });
  }, PROGRESS_MS).unref();
}

onStop(MAX_S, (why) => {
  recording = false;
  dump(str(args, 'out'));
  const closed = conns.filter((c) => c.phase === CLOSED && !c.failed).length;
  emitEvent('done', { why, joined, failed, closed, frames, reads, bytesIn });
  for (const c of conns) c.sock?.destroy();
  setTimeout(() => process.exit(0), 50);
});
