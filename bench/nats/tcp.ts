// bench:nats floor: the same frames between the same processes over one plain TCP socket per
// edge (4-byte length prefix, Nagle off), no broker. The NATS hop is compared against it.
import { createServer, connect, type Socket } from 'node:net';
import { decode } from '../../cluster/wire.js';

/** Edge side: listens, splits length-prefixed frames, calls `onFrame` with each decoded one. */
export function listenFrames(onFrame: (f: ReturnType<typeof decode>) => void): Promise<number> {
  const server = createServer((s) => {
    s.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let p = 0;
      while (buf.length - p >= 4) {
        const n = buf.readUInt32BE(p);
        if (buf.length - p - 4 < n) break;
        onFrame(decode(buf.subarray(p + 4, p + 4 + n)));
        p += 4 + n;
      }
      buf = buf.subarray(p);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** Origin side: one socket per edge; `send` writes a frame to all of them. */
export async function frameSenders(ports: number[]): Promise<{ send(frame: Buffer): void; close(): void }> {
  const socks: Socket[] = await Promise.all(ports.map((port) => new Promise<Socket>((resolve) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.setNoDelay(true);
    // An edge that has reported and exited resets its socket: not an error for the origin.
    s.on('error', () => undefined);
  })));
  return {
    send(frame) {
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32BE(frame.length, 0);
      for (const s of socks) {
        if (s.destroyed) continue;
        s.cork();
        s.write(head);
        s.write(frame);
        s.uncork();
      }
    },
    close() { for (const s of socks) s.destroy(); },
  };
}
