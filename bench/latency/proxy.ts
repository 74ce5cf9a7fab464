// A small user-space TCP proxy that plays the network between the viewers and the relay:
// one-way delay with jitter that keeps TCP's in-order delivery, head-of-line stalls where TCP
// would retransmit a lost segment, and a pause of all delivery (an outage) that releases its
// backlog at once. Bandwidth is not modelled here but by HTB on the veth (see netns.ts).
//
// Granularity is one read: the relay writes one WebSocket message per chunk (one video frame)
// over loopback, so a read is almost always one frame. Model details: README.md.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Impairment {
  /** Mean one-way delay (ms) added in each direction. */
  delayMs: number;
  /** Uniform jitter (ms): each read is delayed delayMs ± jitterMs, never reordered. */
  jitterMs: number;
  /** Loss probability per MSS-sized segment, server → viewer only (0–1). */
  loss: number;
  /** Linux's minimum retransmission timeout (ms); a lost segment waits rtoMinMs + RTT. */
  rtoMinMs: number;
}

export const NO_IMPAIRMENT: Impairment = { delayMs: 0, jitterMs: 0, loss: 0, rtoMinMs: 200 };

/** TCP payload per segment on a 1500-byte MTU (the veth's). */
const MSS = 1448;
/** Bytes a lane may hold before it stops reading its source (backpressure reaches the sender). */
const LANE_CAP = 8 * 1024 * 1024;
/** Downstream byte counter resolution (ms). */
const BUCKET_MS = 100;
const BUCKETS = 600;

interface Held {
  buf: Buffer;
  at: number;
}

export interface ProxyCounters {
  connections: number;
  /** Server → viewer reads seen. */
  reads: number;
  /** Reads that were "lost" and waited a retransmission timeout (with everything behind them). */
  lossEvents: number;
  /** Largest number of bytes held in one lane. */
  maxHeldBytes: number;
  /** Server → viewer: longest wait (ms) between two reads from the relay (stalls upstream of the proxy). */
  maxReadGapMs: number;
  /** Date.now() of each such wait over GAP_MS, at most MAX_GAPS of them. */
  readGaps: number[];
  /** Longest a read was released after its due time (ms): this process's own timer lag. */
  maxReleaseLateMs: number;
}

/** A wait between two relay reads longer than this (ms) is listed in ProxyCounters.readGaps... */
export const GAP_MS = 100;
const MAX_GAPS = 100;

/** One direction of one connection. */
class Lane {
  private q: Held[] = [];
  private held = 0;
  private lastRelease = 0;
  private lastRead = NaN;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private blocked = false;
  private closed = false;

  constructor(
    private readonly proxy: ImpairedProxy,
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly downstream: boolean,
  ) {
    src.on('data', (b: Buffer) => this.onData(b));
    dst.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.q = [];
  }

  private onData(buf: Buffer): void {
    if (this.closed) return;
    const imp = this.proxy.impairment;
    const now = performance.now();
    let at = now + imp.delayMs + (imp.jitterMs > 0 ? (Math.random() * 2 - 1) * imp.jitterMs : 0);
    if (this.downstream) {
      const c = this.proxy.counters;
      c.reads += 1;
      const gap = now - this.lastRead;
      if (gap > c.maxReadGapMs) c.maxReadGapMs = gap;
      if (gap > GAP_MS && c.readGaps.length < MAX_GAPS) c.readGaps.push(Date.now());
      this.lastRead = now;
    }
    if (this.downstream && imp.loss > 0) {
      const segments = Math.max(1, Math.ceil(buf.length / MSS));
      if (Math.random() < 1 - (1 - imp.loss) ** segments) {
        // The lost segment is resent after one RTO (Linux: srtt + max(4·rttvar, 200 ms));
        // what follows it is already here but TCP delivers nothing past the hole.
        at += imp.rtoMinMs + 2 * imp.delayMs;
        this.proxy.counters.lossEvents += 1;
      }
    }
    at = Math.max(at, this.lastRelease); // in order: nothing overtakes what was sent before it
    this.lastRelease = at;
    this.q.push({ buf, at });
    this.held += buf.length;
    if (this.held > this.proxy.counters.maxHeldBytes) this.proxy.counters.maxHeldBytes = this.held;
    if (this.held > LANE_CAP) this.src.pause();
    this.flush();
  }

  private flush(): void {
    if (this.closed) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    const now = performance.now();
    const holdUntil = this.proxy.holdUntil;
    if (now < holdUntil) {
      if (this.q.length) this.timer = setTimeout(() => this.flush(), holdUntil - now);
      return;
    }
    while (!this.blocked && this.q.length && this.q[0]!.at <= now + 0.5) {
      const h = this.q.shift()!;
      if (this.downstream && now - h.at > this.proxy.counters.maxReleaseLateMs) this.proxy.counters.maxReleaseLateMs = now - h.at;
      this.held -= h.buf.length;
      if (this.downstream) this.proxy.countDown(h.buf.length);
      if (!this.dst.write(h.buf)) this.blocked = true;
    }
    if (this.held < LANE_CAP / 2 && this.src.isPaused()) this.src.resume();
    if (!this.blocked && this.q.length) this.timer = setTimeout(() => this.flush(), Math.max(0, this.q[0]!.at - now));
  }
}

export class ImpairedProxy {
  impairment: Impairment = { ...NO_IMPAIRMENT };
  /** performance.now() until which nothing is delivered in either direction. */
  holdUntil = 0;
  readonly counters: ProxyCounters = { connections: 0, reads: 0, lossEvents: 0, maxHeldBytes: 0, maxReadGapMs: 0, readGaps: [], maxReleaseLateMs: 0 };
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  private lanes = new Set<Lane>();
  private buckets = new Float64Array(BUCKETS);
  private bucketAt = new Float64Array(BUCKETS);

  constructor(private readonly target: { host: string; port: number }) {}

  listen(host: string, port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((client) => this.accept(client));
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
      this.server = server;
    });
  }

  /** Holds every byte in both directions for `ms`, then releases the backlog at once. */
  pause(ms: number): void {
    this.holdUntil = performance.now() + ms;
  }

  countDown(bytes: number): void {
    const now = performance.now();
    const i = Math.floor(now / BUCKET_MS) % BUCKETS;
    const start = Math.floor(now / BUCKET_MS) * BUCKET_MS;
    if (this.bucketAt[i] !== start) { this.bucketAt[i] = start; this.buckets[i] = 0; }
    this.buckets[i] = (this.buckets[i] ?? 0) + bytes;
  }

  /** Server → viewer bytes per second over the last `windowMs` (≤ 60 s). */
  downRate(windowMs: number): number {
    const now = performance.now();
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.bucketAt[i]! > now - windowMs && this.bucketAt[i]! <= now) sum += this.buckets[i]!;
    }
    return (sum * 1000) / windowMs;
  }

  /** Drops every connection and resets the model (between runs). */
  reset(): void {
    for (const s of this.sockets) s.destroy();
    for (const l of this.lanes) l.close();
    this.sockets.clear();
    this.lanes.clear();
    this.impairment = { ...NO_IMPAIRMENT };
    this.holdUntil = 0;
    this.counters.connections = 0;
    this.counters.lossEvents = 0;
    this.counters.reads = 0;
    this.counters.maxHeldBytes = 0;
    this.counters.maxReadGapMs = 0;
    this.counters.readGaps = [];
    this.counters.maxReleaseLateMs = 0;
  }

  close(): Promise<void> {
    this.reset();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    this.counters.connections += 1;
    const upstream = connect(this.target.port, this.target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const down = new Lane(this, upstream, client, true);
    const up = new Lane(this, client, upstream, false);
    const lanes = [down, up];
    const sockets = [client, upstream];
    for (const l of lanes) this.lanes.add(l);
    for (const s of sockets) this.sockets.add(s);
    const end = (): void => {
      for (const l of lanes) { l.close(); this.lanes.delete(l); }
      for (const s of sockets) { s.destroy(); this.sockets.delete(s); }
    };
    for (const s of sockets) {
      s.on('error', end);
      s.on('close', end);
    }
  }
}
