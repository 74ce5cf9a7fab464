// A loopback TCP proxy in front of the relay that can hold back everything the relay sends
// (an outage on the path) and then release it at once, as the network would after it.
import { createServer, connect, type Server, type Socket } from 'node:net';

/** Forwards TCP both ways; `hold()` queues relay → browser bytes until `release()`. */
export class HoldingProxy {
  readonly server: Server;
  port = 0;
  #held = false;
  #queues = new Map<Socket, Buffer[]>();
  #sockets = new Set<Socket>();

  constructor(private readonly target: number) {
    this.server = createServer((client) => {
      client.setNoDelay(true);
      const upstream = connect(this.target, '127.0.0.1');
      upstream.setNoDelay(true);
      this.#sockets.add(client).add(upstream);
      this.#queues.set(client, []);
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d) => {
        if (this.#held) this.#queues.get(client)!.push(d);
        else client.write(d);
      });
      const end = (): void => { client.destroy(); upstream.destroy(); this.#queues.delete(client); };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      const a = this.server.address();
      this.port = typeof a === 'object' && a ? a.port : 0;
      resolve(this.port);
    }));
  }

  hold(): void {
    this.#held = true;
  }

  /** Sends everything held, at once, and forwards live again. Returns the bytes released. */
  release(): number {
    this.#held = false;
    let bytes = 0;
    for (const [client, q] of this.#queues) {
      for (const b of q) bytes += b.length;
      if (q.length) client.write(Buffer.concat(q));
      q.length = 0;
    }
    return bytes;
  }

  close(): void {
    for (const s of this.#sockets) s.destroy();
    this.server.close();
  }
}
