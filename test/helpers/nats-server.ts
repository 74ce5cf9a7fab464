// A real nats-server (the OS package) with JetStream, on a free loopback port, for a test file.
// stop() kills it; start() brings it back on the same port and store, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.js';

export class NatsServer {
  readonly store = mkdtempSync(join(tmpdir(), 'nowcast-nats-'));
  port = 0;
  #child: ChildProcess | null = null;
  log = '';

  /** The running server's pid (0 when stopped). */
  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freeTcpPort();
    const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.store], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => { this.log = (this.log + d.toString()).slice(-4000); });
    this.#child = child;
    const end = Date.now() + 10_000;
    while (!(await reachable(this.port))) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`nats-server did not start on ${this.port}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this;
  }

  /** Kills the server at once (SIGKILL), like a crash. */
  async kill(): Promise<void> {
    const c = this.#child;
    this.#child = null;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.store, { recursive: true, force: true });
  }
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
