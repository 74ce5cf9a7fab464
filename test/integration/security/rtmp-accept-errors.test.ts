// Out of file descriptors (EMFILE), the RTMP listener stays up and serves again once
// descriptors are free. (libuv absorbs most EMFILEs itself by accepting and closing the
// connection; any accept error that does reach the server is handled every time, with `on`:
// node-media-server registered its handler with `once`, so a second one killed the process.)
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { RawRtmp } from '../../helpers/rtmp-client.js';

let child: ChildProcess | null = null;
const sockets: Socket[] = [];

afterAll(() => {
  for (const s of sockets) s.destroy();
  child?.kill('SIGKILL');
});

describe('the RTMP listener out of file descriptors', () => {
  it('stays up while connections exceed its descriptors, and accepts again once they are free', async () => {
    child = spawn('bash', ['-c', 'ulimit -n 48; exec node --import tsx test/fixtures/rtmp-accept-server.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    const until = async (re: RegExp, ms: number): Promise<RegExpExecArray> => {
      const end = Date.now() + ms;
      for (;;) {
        const all = [...out.matchAll(new RegExp(re, 'g'))];
        if (all.length) return all.at(-1)! as RegExpExecArray;
        if (Date.now() > end) throw new Error(`timed out waiting for ${re}: ${out.slice(-300)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const port = Number((await until(/port (\d+)/, 10_000))[1]);
    for (let i = 0; i < 120; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
    }
    // The process holds what its descriptors allow, and no more.
    await until(/connections ([1-9]\d*)/, 5_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(Number((await until(/connections (\d+)/, 1_000))[1])).toBeLessThan(48);
    expect(child.exitCode).toBe(null);
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    // Serving again: a handshake is answered.
    const c = new RawRtmp(port);
    await c.handshake();
    c.destroy();
    expect(child.exitCode).toBe(null);
    child.kill('SIGTERM');
    await exited;
  });
});
