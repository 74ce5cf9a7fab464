// The demo's synthetic publisher: an FFmpeg test pattern with a running clock, pushed over
// RTMP like any other publisher, restarted if it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../util/log.js';
import { testSourceArgs, type TestSourceOptions } from './ffmpeg-args.js';

export class TestSource {
  #child: ChildProcess | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(readonly ffmpegPath: string, readonly opts: TestSourceOptions, readonly log: Logger) {
    this.#start();
  }

  #start(): void {
    if (this.#closed) return;
    const child = spawn(this.ffmpegPath, testSourceArgs(this.opts), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (t: string) => this.log.warn({ ffmpeg: t.trim().slice(0, 2000) }, 'test source'));
    child.on('error', (err) => this.log.error({ err: err.message }, 'test source could not start'));
    child.on('exit', (code) => {
      this.#child = null;
      if (this.#closed) return;
      this.log.warn({ code }, 'test source exited; restarting in 1 s');
      this.#timer = setTimeout(() => this.#start(), 1_000);
    });
    this.log.info({ url: this.opts.url }, 'test source publishing');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#child?.kill('SIGKILL');
  }
}
