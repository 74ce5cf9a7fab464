// A TCP proxy whose server → client direction is a slow link: it reads from the server only as
// fast as it delivers (a token bucket at `bytesPerSecond`, with at most `queueBytes` held), so
// the server's kernel buffers fill as on a real path. Client → server is passed straight
// through. Sockets keep Linux's default buffer sizes (tcp_wmem / tcp_rmem autotuning).
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface SlowLinkOptions {
  /** Where the server listens. */
  target: { host: string; port: number };
  /** Server → client rate. */
  bytesPerSecond: number;
  /** Bytes held between the two sockets before the proxy stops reading from the server. */
  queueBytes?: number;
}

const TICK_MS = 10;

export class SlowLink {
  readonly #server: Server;
  readonly #o: Required<SlowLinkOptions>;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<ReturnType<typeof setInterval>>();
  /** Held: stop delivering (an outage); data queues, then the server's buffers fill. */
  held = false;
  port = 0;

  constructor(o: SlowLinkOptions) {
    this.#o = { queueBytes: 64 * 1024, ...o };
    this.#server = createServer((client) => this.#pipe(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this.port;
  }

  /** Changes the rate of every connection from now on. */
  setRate(bytesPerSecond: number): void {
    this.#o.bytesPerSecond = bytesPerSecond;
  }

  #pipe(client: Socket): void {
    const upstream = connect(this.#o.target.port, this.#o.target.host);
    this.#sockets.add(client).add(upstream);
    client.pipe(upstream);
    const queue: Buffer[] = [];
    let held = 0;
    let credit = 0;
    upstream.on('data', (b: Buffer) => {
      queue.push(b);
      held += b.length;
      if (held >= this.#o.queueBytes) upstream.pause();
    });
    const timer = setInterval(() => {
      if (this.held) return;
      credit = Math.min(credit + (this.#o.bytesPerSecond * TICK_MS) / 1000, Math.max(this.#o.bytesPerSecond * 0.05, 1500));
      while (queue.length && credit >= 1) {
        const head = queue[0]!;
        const n = Math.min(head.length, Math.floor(credit));
        client.write(head.subarray(0, n));
        credit -= n;
        held -= n;
        if (n === head.length) queue.shift();
        else queue[0] = head.subarray(n);
      }
      if (held < this.#o.queueBytes / 2 && upstream.isPaused()) upstream.resume();
    }, TICK_MS);
    this.#timers.add(timer);
    const end = (): void => {
      clearInterval(timer);
      this.#timers.delete(timer);
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }

  /** Closes every connection and the listener. Safe to call twice. */
  close(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    this.#server.close();
  }
}
