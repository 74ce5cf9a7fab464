// A real FFmpeg publisher (test pattern + tone, x264 zerolatency, AAC) for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { testSourceArgs, type TestSourceOptions } from '../../ingest/ffmpeg-args.js';

export class Publisher {
  readonly child: ChildProcess;
  stderr = '';
  readonly exited: Promise<number | null>;

  /** `prefix`: a command FFmpeg runs under, such as `['chrt', '--idle', '0']` for a benchmark's load. */
  constructor(opts: Partial<TestSourceOptions> & { url: string; prefix?: string[] }) {
    const { prefix = [], ...source } = opts;
    const args = testSourceArgs({ width: 320, height: 240, fps: 30, durationS: 60, ...source });
    const [cmd, ...pre] = [...prefix, 'ffmpeg'];
    this.child = spawn(cmd!, [...pre, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Stops publishing; resolves once FFmpeg has exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
