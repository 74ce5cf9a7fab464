// One supervised FFmpeg remux process: spawns FFmpeg with fixed arguments, splits its
// stdout into init segments and chunks, logs its stderr, restarts it with backoff when it
// dies unexpectedly, and stops it on request. One instance per published stream.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../util/log.js';
import { Fmp4Splitter } from './fmp4/splitter.js';
import { deliver, type MediaOut } from '../media/sink.js';
import type { Fmp4Unit } from '../media/types.js';
import { Fmp4Error } from './fmp4/errors.js';
import { restartDelay } from './backoff.js';
import { onStderrLines } from '../util/stderr-lines.js';

/** What a remux reports besides its media. */
export interface RemuxEvents {
  /** FFmpeg exited. `clean` when it ended its input normally (exit 0). */
  exit?(clean: boolean): void;
  /** A new FFmpeg is scheduled after an exit: `clean` when it ended normally (an SRT listener re-arming). */
  restart?(clean: boolean): void;
}


export interface RemuxOptions {
  ffmpegPath: string;
  args: string[];
  /** Restart when FFmpeg exits with an error (RTMP pull) or always (SRT listener). */
  restart: 'on-failure' | 'always';
  restartDelayMs: number;
  maxRestartDelayMs: number;
  maxBoxBytes: number;
  maxInitBytes: number;
  /**
   * Feeds FFmpeg's stdin (an RTMP publish as FLV, remux.muxer ffmpeg): subscribed at each
   * start, from the feed's cache after a restart. Returns the unsubscribe.
   */
  stdin?: (onData: (b: Buffer) => void, cached: boolean) => () => void;
  /** The stream FFmpeg works for, in its environment as NOWCAST_STREAM (for `ps e` and fault-injection tests). */
  stream?: string;
}

type Child = ChildProcessByStdio<Writable | null, Readable, Readable>;

/** FFmpeg's unread stdin, at most: past it FFmpeg is stuck and is restarted. */
const MAX_STDIN_BACKLOG = 8 * 1024 * 1024;

/** A run that lasted this long counts as healthy and resets the backoff. */
const HEALTHY_RUN_MS = 10_000;
const STDERR_LINE_MAX = 2_000;
/** How long FFmpeg may take to flush and exit after SIGTERM. */
const CLOSE_GRACE_MS = 300;

export class Remux {
  #opts: RemuxOptions;
  #sink: MediaOut;
  #events: RemuxEvents;
  #log: Logger;
  #child: Child | null = null;
  #timer: NodeJS.Timeout | null = null;
  #attempt = 0;
  #closed = false;
  /** Set by detach(): output is no longer forwarded. */
  #detached = false;
  #exited: Promise<void> = Promise.resolve();
  /** Count of FFmpeg processes started, including the first. */
  starts = 0;

  constructor(opts: RemuxOptions, sink: MediaOut, log: Logger, events: RemuxEvents = {}) {
    this.#events = events;
    this.#opts = opts;
    this.#sink = sink;
    this.#log = log;
    this.#spawn();
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  #spawn(): void {
    this.#timer = null;
    if (this.#closed) return;
    const splitter = new Fmp4Splitter({ maxBoxBytes: this.#opts.maxBoxBytes, maxInitBytes: this.#opts.maxInitBytes });
    const feed = this.#opts.stdin;
    const env = this.#opts.stream ? { ...process.env, NOWCAST_STREAM: this.#opts.stream } : process.env;
    const child = spawn(this.#opts.ffmpegPath, this.#opts.args, { stdio: [feed ? 'pipe' : 'ignore', 'pipe', 'pipe'], env }) as Child;
    this.#child = child;
    this.starts++;
    if (feed && child.stdin) {
      const stdin = child.stdin;
      stdin.on('error', () => {}); // EPIPE when FFmpeg dies; its exit handler restarts it
      try {
        const unsubscribe = feed((b) => {
          if (stdin.writableLength > MAX_STDIN_BACKLOG) { child.kill('SIGKILL'); return; }
          stdin.write(b);
        }, this.starts > 1);
        child.once('close', unsubscribe);
      } catch (err) {
        // The publish is gone: nothing to read.
        this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'ffmpeg input is gone');
        stdin.end();
      }
    }
    const started = Date.now();
    let failed = false;
    this.#log.info({ pid: child.pid, start: this.starts }, 'ffmpeg started');

    const emit = (u: Fmp4Unit): void => deliver(this.#sink, u);
    this.#exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.stdout.on('data', (data: Buffer) => {
      if (failed || this.#detached) return;
      try {
        splitter.push(data, emit);
      } catch (err) {
        failed = true;
        const code = err instanceof Fmp4Error ? err.code : 'REMUX_FAILED';
        const message = err instanceof Error ? err.message : String(err);
        this.#log.error({ code, err: message }, 'unusable output from ffmpeg; restarting it');
        this.#sink.failure(code, message);
        child.kill('SIGKILL');
      }
    });
    onStderrLines(child.stderr, STDERR_LINE_MAX, (line) => this.#log.warn({ ffmpeg: line }, 'ffmpeg'));
    child.on('error', (err) => {
      // spawn failure (ENOENT): 'exit' may not follow, so treat it as one.
      this.#log.error({ err: err.message }, 'ffmpeg could not start');
      this.#sink.failure('FFMPEG_SPAWN', `cannot run ${this.#opts.ffmpegPath}: ${err.message}`);
      this.#onExit(child, started, null, 'spawn');
    });
    child.on('exit', (code, signal) => this.#onExit(child, started, code, signal));
  }

  #onExit(child: Child, started: number, code: number | null, signal: string | null): void {
    if (this.#child !== child) return; // already handled (error + exit both fire)
    this.#child = null;
    const clean = code === 0;
    this.#log[clean || this.#closed ? 'info' : 'warn']({ code, signal }, 'ffmpeg exited');
    if (this.#closed) return;
    this.#events.exit?.(clean);
    if (clean && this.#opts.restart === 'on-failure') return;
    if (Date.now() - started >= HEALTHY_RUN_MS) this.#attempt = 0;
    const delay = clean ? 0 : restartDelay(this.#attempt++, this.#opts.restartDelayMs, this.#opts.maxRestartDelayMs);
    if (!clean) this.#log.warn({ delayMs: delay, attempt: this.#attempt }, 'restarting ffmpeg');
    this.#events.restart?.(clean);
    this.#timer = setTimeout(() => this.#spawn(), delay);
  }

  /**
   * Stops FFmpeg for good. What it flushes on the way out is still forwarded (nothing
   * published is lost); the promise resolves once it has exited. Safe to call twice.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#exited;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const child = this.#child;
    if (child) {
      child.kill('SIGTERM');
      // SIGTERM makes FFmpeg flush its last fragment, but closing an RTMP input whose publisher
      // is gone can then block for seconds (measured ~2 s): don't let viewers wait on that.
      setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); }, CLOSE_GRACE_MS).unref();
    }
    return child ? this.#exited : Promise.resolve();
  }

  /** Stops forwarding output at once (a new publisher owns the stream now) and closes. */
  detach(): void {
    this.#detached = true;
    void this.close();
  }
}
