// A loopback TCP proxy in front of the relay that can cut every connection through it at once,
// as a network drop would: the browser sees its WebSocket close without a close frame.
import { connect, createServer, type Server, type Socket } from 'node:net';

export class DropProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(target: number) {
    this.#server = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      for (const s of [client, upstream]) {
        s.setNoDelay(true);
        this.#sockets.add(s);
        s.on('close', () => { this.#sockets.delete(s); client.destroy(); upstream.destroy(); });
        s.on('error', () => undefined); // 'close' follows
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.#server.listen(0, '127.0.0.1', () => {
      const a = this.#server.address();
      this.port = typeof a === 'object' && a ? a.port : 0;
      resolve(this.port);
    }));
  }

  /** Destroys every open connection; returns how many there were (both sides counted). */
  drop(): number {
    const n = this.#sockets.size;
    for (const s of this.#sockets) s.destroy();
    return n;
  }

  close(): void {
    this.drop();
    this.#server.close();
  }
}
