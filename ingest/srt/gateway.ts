// One supervised SRT gateway process (gateway.c) for one UDP port: it holds each caller's
// handshake until `decide` answers, then streams each accepted caller's MPEG-TS here. A crash
// ends only its own callers: it is restarted with backoff, and nothing else shares its process.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../util/log.js';
import { restartDelay } from '../backoff.js';
import { FrameReader } from './frames.js';
import { onStderrLines } from '../../util/stderr-lines.js';

/** Where scripts/build-srt-gateway.mjs puts the binary. */
export const GATEWAY_BINARY = fileURLToPath(new URL('../../dist/srt-gateway', import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-srt-gateway.mjs', import.meta.url));

/**
 * Builds the gateway if it is missing or older than its source (a fresh clone run without
 * `npm start`/`npm test`, or the `nowcast` command); once per process. Throws with the exact
 * missing piece (the compiler or libsrt's headers).
 */
let built = false;
export function ensureGatewayBuilt(): void {
  if (built) return;
  try {
    execFileSync(process.execPath, [BUILD_SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(stderr || `cannot build the SRT gateway: ${err instanceof Error ? err.message : String(err)}`);
  }
  built = true;
}

export interface GatewayOptions {
  host: string;
  port: number;
  latencyMs: number;
  /** A caller silent this long is dropped (libsrt SRTO_PEERIDLETIMEO). */
  idleTimeoutMs: number;
  /** Hard cap on callers held by this process (Node's own limits come first). */
  maxCallers: number;
  /** How long a handshake waits for Node's answer before it is refused (1402). */
  decideTimeoutMs: number;
  /** Sent over stdin, never argv; '' for none. */
  passphrase: string;
  restartDelayMs: number;
  maxRestartDelayMs: number;
  binary?: string;
}

/** What the gateway asks and tells. */
export interface GatewayEvents {
  /** A caller's handshake: return 0 to accept, or an SRT rejection code (1401, 1403, …). */
  decide(id: number, ip: string, streamId: string): number;
  open(id: number): void;
  data(id: number, ts: Buffer): void;
  /** The caller is gone (left, timed out, kicked, or the gateway died). */
  gone(id: number): void;
}

const HEALTHY_RUN_MS = 10_000;

export class SrtGateway {
  readonly #o: GatewayOptions;
  readonly #events: GatewayEvents;
  readonly #log: Logger;
  #child: ChildProcessWithoutNullStreams | null = null;
  #open = new Set<number>();
  #timer: NodeJS.Timeout | null = null;
  #attempt = 0;
  #closed = false;
  #listened = false;
  #listening: Promise<void>;
  #resolveListening: (() => void) | null = null;
  #rejectListening: ((err: Error) => void) | null = null;
  /** Processes started, the first included. */
  starts = 0;

  constructor(o: GatewayOptions, events: GatewayEvents, log: Logger) {
    this.#o = o;
    this.#events = events;
    this.#log = log;
    this.#listening = new Promise((resolve, reject) => { this.#resolveListening = resolve; this.#rejectListening = reject; });
    this.#listening.catch(() => {});
    this.#spawn();
  }

  /** Resolves once the first process listens; rejects if it could not (port taken, bad address). */
  listening(): Promise<void> {
    return this.#listening;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  #spawn(): void {
    this.#timer = null;
    if (this.#closed) return;
    const binary = this.#o.binary ?? GATEWAY_BINARY;
    try {
      if (!this.#o.binary) ensureGatewayBuilt();
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (!existsSync(binary)) {
      this.#fail(new Error(`the SRT gateway is not built (${binary}): run node scripts/ensure.mjs run`));
      return;
    }
    const o = this.#o;
    const child = spawn(binary, [o.host, String(o.port), String(o.latencyMs), String(o.idleTimeoutMs), String(o.maxCallers), String(o.decideTimeoutMs)],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    this.starts++;
    const started = Date.now();
    child.stdin.on('error', () => {}); // EPIPE when it dies; 'exit' handles that
    child.stdin.write(`P ${Buffer.from(o.passphrase, 'utf8').toString('hex')}\n`);
    const reader = new FrameReader();
    child.stdout.on('data', (data: Buffer) => {
      try {
        reader.push(data, (type, id, payload) => this.#frame(child, type, id, payload));
      } catch (err) {
        this.#log.error({ err: err instanceof Error ? err.message : String(err) }, 'srt gateway wrote garbage; restarting it');
        child.kill('SIGKILL');
      }
    });
    // libsrt's own warnings (a caller's bad handshake, …): never carry the passphrase.
    onStderrLines(child.stderr, 2000, (line) => this.#log.warn({ libsrt: line }, 'srt gateway'));
    child.on('error', (err) => this.#log.error({ err: err.message }, 'srt gateway could not start'));
    child.on('exit', (code, signal) => this.#onExit(child, started, code, signal));
  }

  #frame(child: ChildProcessWithoutNullStreams, type: string, id: number, payload: Buffer): void {
    if (this.#child !== child) return;
    switch (type) {
      case 'D': if (this.#open.has(id)) this.#events.data(id, payload); return;
      case 'R': {
        const text = payload.toString('latin1');
        const nl = text.indexOf('\n');
        let code: number;
        try {
          code = this.#events.decide(id, text.slice(0, nl), text.slice(nl + 1));
        } catch (err) {
          this.#log.error({ err: err instanceof Error ? err.message : String(err) }, 'srt admission threw; refusing the caller');
          code = 1500;
        }
        child.stdin.write(`A ${id} ${code}\n`);
        return;
      }
      case 'O': this.#open.add(id); this.#events.open(id); return;
      case 'X': if (this.#open.delete(id)) this.#events.gone(id); return;
      case 'L':
        this.#log.info({ pid: child.pid }, 'srt gateway listening');
        this.#listened = true;
        this.#resolveListening?.();
        return;
      case 'F': this.#log.error({ err: payload.toString('utf8').slice(0, 300) }, 'srt gateway failed'); return;
    }
  }

  #onExit(child: ChildProcessWithoutNullStreams, started: number, code: number | null, signal: string | null): void {
    if (this.#child !== child) return;
    this.#child = null;
    for (const id of this.#open) this.#events.gone(id);
    this.#open.clear();
    if (this.#closed) return;
    this.#log.warn({ code, signal }, 'srt gateway exited');
    // Never listened: the port is taken or the address is wrong; start() fails (retries go on in the background).
    if (!this.#listened) {
      this.#fail(new Error(`the SRT gateway could not listen on ${this.#o.host}:${this.#o.port} (exit ${code ?? signal})`));
    }
    if (Date.now() - started >= HEALTHY_RUN_MS) this.#attempt = 0;
    const delay = restartDelay(this.#attempt++, this.#o.restartDelayMs, this.#o.maxRestartDelayMs);
    this.#timer = setTimeout(() => this.#spawn(), delay);
  }

  #fail(err: Error): void {
    this.#rejectListening?.(err);
    this.#rejectListening = null;
    this.#resolveListening = null;
  }

  /** Closes one caller (it is reported `gone`). */
  kick(id: number): void {
    if (this.#open.has(id)) this.#child?.stdin.write(`K ${id}\n`);
  }

  /** Stops the process for good; its callers are reported gone. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const child = this.#child;
    if (child) {
      child.stdin.end(); // EOF: it exits at once
      setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); }, 500).unref();
      this.#onExit(child, 0, null, 'close');
    }
    this.#fail(new Error('closed'));
  }
}
