// A loopback TCP proxy that stands in for a phone's path to the relay, for timing a page's first
// frame as a phone would see it (the kernel here has no netem, and tbf alone adds no delay): a
// one-way delay each way (half the round trip, and a new connection's handshake costs one more
// round trip before its first bytes go), and one downlink of `mbps` shared by every connection
// in arrival order, as one bottleneck queue is. Bounded: past QUEUE_BYTES queued it stops
// reading from the relay.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface PhonePathOptions {
  target: { host: string; port: number };
  /** Round trip added to every exchange (ms). */
  rttMs: number;
  /** Downlink rate, shared (Mbit/s). */
  mbps: number;
}

const TICK_MS = 2;
const QUEUE_BYTES = 4 * 1024 * 1024;

/** "rtt=80,mbps=8" → options; throws naming the bad part. */
export function parsePhonePath(spec: string, target: PhonePathOptions['target']): PhonePathOptions {
  const o: PhonePathOptions = { target, rttMs: 0, mbps: 0 };
  for (const part of spec.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (k === 'rtt' && n >= 0 && n <= 2000) o.rttMs = n;
    else if (k === 'mbps' && n > 0 && n <= 10_000) o.mbps = n;
    else throw new Error(`--path: bad part ${JSON.stringify(part)} (want rtt=MS,mbps=N)`);
  }
  if (!(o.mbps > 0)) throw new Error('--path: mbps=N is required');
  return o;
}

export class PhonePath {
  readonly #server: Server;
  readonly #o: PhonePathOptions;
  readonly #sockets = new Set<Socket>();
  /** Relay → browser bytes waiting for the downlink, every connection in one queue. */
  readonly #queue: Array<{ to: Socket; data: Buffer; end?: true }> = [];
  #queued = 0;
  #credit = 0;
  readonly #timer: ReturnType<typeof setInterval>;
  port = 0;

  constructor(o: PhonePathOptions) {
    this.#o = o;
    this.#server = createServer((client) => this.#pipe(client));
    this.#timer = setInterval(() => this.#drain(), TICK_MS);
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this.port;
  }

  #later(fn: () => void, ms: number): void {
    if (ms <= 0) fn();
    else setTimeout(fn, ms);
  }

  #pipe(client: Socket): void {
    client.setNoDelay(true);
    const upstream = connect(this.#o.target.port, this.#o.target.host);
    upstream.setNoDelay(true);
    this.#sockets.add(client).add(upstream);
    const oneWay = this.#o.rttMs / 2;
    // The handshake's round trip: the first bytes leave one RTT after the connection opened.
    const openAt = Date.now() + this.#o.rttMs;
    const upDelay = (): number => Math.max(0, openAt - Date.now()) + oneWay;
    client.on('data', (b: Buffer) => this.#later(() => upstream.write(b), upDelay()));
    upstream.on('data', (b: Buffer) => {
      this.#queue.push({ to: client, data: b });
      this.#queued += b.length;
      if (this.#queued >= QUEUE_BYTES) upstream.pause();
    });
    // An end travels the path behind the bytes before it; an error or a reset ends both at once.
    client.on('end', () => this.#later(() => upstream.end(), upDelay()));
    upstream.on('end', () => this.#queue.push({ to: client, data: Buffer.alloc(0), end: true }));
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => { this.#sockets.delete(client); upstream.destroy(); this.#sockets.delete(upstream); });
  }

  #drain(): void {
    const perTick = (this.#o.mbps * 1e6 / 8) * TICK_MS / 1000;
    this.#credit = Math.min(this.#credit + perTick, perTick * 4 + 1500);
    const oneWay = this.#o.rttMs / 2;
    while (this.#queue.length && this.#credit >= 1) {
      const head = this.#queue[0]!;
      if (head.end) {
        this.#queue.shift();
        const to = head.to;
        this.#later(() => to.end(), oneWay);
        continue;
      }
      const n = Math.min(head.data.length, Math.floor(this.#credit));
      const piece = head.data.subarray(0, n);
      const to = head.to;
      this.#later(() => { if (!to.destroyed) to.write(piece); }, oneWay);
      this.#credit -= n;
      this.#queued -= n;
      if (n === head.data.length) this.#queue.shift();
      else head.data = head.data.subarray(n);
    }
    if (this.#queued < QUEUE_BYTES / 2) for (const s of this.#sockets) if (s.isPaused()) s.resume();
  }

  /** Closes every connection and the listener. Safe to call twice. */
  close(): void {
    clearInterval(this.#timer);
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    this.#queue.length = 0;
    this.#server.close();
  }
}
