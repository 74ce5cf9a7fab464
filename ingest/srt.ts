// SRT ingest: one gateway process per configured UDP port (ingest/srt/gateway.c), each taking
// many callers told apart by streamid. A caller is admitted or refused in its handshake
// (ingest/srt/admit.ts: limits, the name, and the same credentials check as RTMP). Each
// admitted caller's MPEG-TS is remuxed on its own: in process (ingest/ts, H.264 and AAC, with
// remux.muxer 'nowcast') or by its own FFmpeg (stdin → fMP4: other codecs, or muxer 'ffmpeg'),
// so a bad caller fails its own stream only.
import type { Logger } from '../util/log.js';
import type { RemuxConfig, SrtConfig, SrtListener } from './config.js';
import type { MediaOut, SinkProvider } from '../media/sink.js';
import type { ProtocolErrors } from '../util/protocol-errors.js';
import type { IngestCounters } from './counters.js';
import { remuxArgs } from './ffmpeg-args.js';
import { Remux } from './remux.js';
import { PublishStats, observed } from './publish-stats.js';
import { SrtGateway } from './srt/gateway.js';
import { admitCaller, srtRejectCode, type CallerEntry } from './srt/admit.js';
import { sameSecret } from '../util/secret.js';
import { HoldRestamp, writePrft } from './srt/restamp.js';
import { RemuxTap } from './tap.js';
import { TsRemuxer } from './ts/remuxer.js';
import { publishRateCap, type PublishRateCap } from './rate-cap.js';

/** Ingest's shared rule for a publish (shutting down, name syntax, RTMP holder, credentials). */
export type SrtRefusal = (p: { stream: string; key: string | undefined; ip: string }) => { code: string; message: string } | null;

/** A caller silent this long may be replaced by one with the same credentials from another address (admit.ts). */
const STALE_MS = 1_000;
/** An admitted handshake whose connection never opened (e.g. a wrong passphrase) is forgotten after this. */
const OPEN_TIMEOUT_MS = 5_000;
const DECIDE_TIMEOUT_MS = 1_000;
/**
 * How long a frame waits for its audio in the in-process remux (remux.chunkWaitMs, at least; 0 stays 0):
 * longer than a frame interval, so a frame is written when its audio comes or the next frame
 * does. With FFmpeg's MPEG-TS defaults the audio comes in late bursts; then the last frame is
 * still held when a burst lands and takes it at once, instead of the burst waiting for the next
 * frame (+33 ms at p50 in bench:glass --ingest srt). A frame held so is not playable earlier
 * anyway: MSE plays up to the end of the audio.
 */
const SRT_CHUNK_WAIT_MS = 100;

interface Caller extends CallerEntry {
  gateway: SrtGateway;
  socket: number;
  log: Logger;
  admittedAt: number;
  remux: { close(): Promise<void>; detach(): void } | null;
  feed: Set<(b: Buffer) => void>;
  /** What the caller sent before the in-process remux read its program: FFmpeg's input if that remux refuses the codecs. */
  head: Buffer[] | null;
  headBytes: number;
  stats: PublishStats;
  /** limits.maxPublishBitrate, from admission. */
  rate: PublishRateCap | null;
}

export interface SrtIngestOptions {
  host: string;
  srt: SrtConfig;
  remux: RemuxConfig;
  limitLoopback: boolean;
  /** limits.maxPublishBitrate: bits/s one caller may send; 0: no cap. */
  maxPublishBitrate: number;
}

export class SrtIngest {
  readonly #o: SrtIngestOptions;
  readonly #sinks: SinkProvider;
  readonly #log: Logger;
  readonly #refusal: SrtRefusal;
  readonly #errors: ProtocolErrors;
  readonly #counters: IngestCounters;
  readonly #gateways: SrtGateway[] = [];
  /** Admitted callers by `port:socket`. */
  readonly #callers = new Map<string, Caller>();
  readonly #sweep: NodeJS.Timeout;
  #closed = false;

  constructor(o: SrtIngestOptions, sinks: SinkProvider, log: Logger, refusal: SrtRefusal, errors: ProtocolErrors, counters: IngestCounters) {
    this.#o = o;
    this.#sinks = sinks;
    this.#log = log;
    this.#refusal = refusal;
    this.#errors = errors;
    this.#counters = counters;
    for (const l of o.srt.listeners) this.#gateways.push(this.#listen(l));
    this.#sweep = setInterval(() => this.#expire(), 500);
    this.#sweep.unref();
  }

  /** Resolves once every port listens. */
  async listening(): Promise<void> {
    await Promise.all(this.#gateways.map((g) => g.listening()));
  }

  /** Streams with a caller now, for the RTMP side's "taken" rule. */
  has(name: string): boolean {
    for (const c of this.#callers.values()) if (c.name === name) return true;
    return false;
  }

  /** Connected callers' stats, for /metrics. */
  publishers(): PublishStats[] {
    return [...this.#callers.values()].filter((c) => c.remux).map((c) => c.stats);
  }

  #listen(l: SrtListener): SrtGateway {
    const log = this.#log.child({ port: l.port });
    const { srt, remux } = this.#o;
    const key = (socket: number): string => `${l.port}:${socket}`;
    const gateway: SrtGateway = new SrtGateway({
      host: this.#o.host, port: l.port, latencyMs: l.latencyMs ?? srt.latencyMs, idleTimeoutMs: srt.idleTimeoutMs,
      maxCallers: srt.maxCallers, decideTimeoutMs: DECIDE_TIMEOUT_MS,
      passphrase: l.passphrase || srt.passphrase,
      restartDelayMs: remux.restartDelayMs, maxRestartDelayMs: remux.maxRestartDelayMs,
    }, {
      decide: (socket, ip, streamId) => this.#decide(gateway, l, socket, ip, streamId, log),
      open: (socket) => this.#open(key(socket)),
      data: (socket, ts) => {
        const c = this.#callers.get(key(socket));
        if (!c) return;
        c.lastDataAt = Date.now();
        if (c.rate && !c.rate.take(ts.length, c.lastDataAt)) return this.#overRate(key(socket), c);
        if (c.head) {
          c.head.push(ts);
          if ((c.headBytes += ts.length) > this.#o.srt.probeSizeBytes) c.head = null;
        }
        for (const f of c.feed) f(ts);
      },
      gone: (socket) => this.#gone(key(socket), 'left'),
    }, log);
    return gateway;
  }

  #decide(gateway: SrtGateway, l: SrtListener, socket: number, ip: string, streamId: string, log: Logger): number {
    const now = Date.now();
    const r = this.#closed
      ? { ok: false as const, code: 'SHUTTING_DOWN', message: 'the server is shutting down' }
      : admitCaller({ streamId, ip, defaultStream: l.stream }, this.#callers,
        { maxCallers: this.#o.srt.maxCallers, maxCallersPerIp: this.#o.srt.maxCallersPerIp, limitLoopback: this.#o.limitLoopback, staleMs: STALE_MS },
        now, this.#refusal, (a, b) => (a === undefined ? b === undefined : b !== undefined && sameSecret(a, b)));
    if (!r.ok) {
      this.#counters.refused++;
      this.#errors.add('srt', r.code);
      // The streamid may carry a token: log its length, never its text.
      log.info({ ip, code: r.code, reason: r.message, streamIdChars: streamId.length }, 'srt caller refused');
      return srtRejectCode(r.code);
    }
    if (r.replaces !== undefined) {
      const old = this.#callers.get(r.replaces);
      if (old) {
        log.info({ stream: r.name }, 'srt caller replaces the one with its name and credentials');
        this.#drop(r.replaces, old, 'replaced');
      }
    }
    const id = `${l.port}:${socket}`;
    this.#callers.set(id, {
      name: r.name, ip, key: r.key, lastDataAt: now, admittedAt: now, gateway, socket,
      log: log.child({ stream: r.name }), remux: null, feed: new Set(), head: [], headBytes: 0, stats: new PublishStats(r.name, 'srt', now),
      rate: publishRateCap(this.#o.maxPublishBitrate, now),
    });
    return 0;
  }

  #open(id: string): void {
    const c = this.#callers.get(id);
    if (!c || c.remux) return;
    this.#counters.publishes++;
    c.log.info({ ip: c.ip }, 'srt publisher connected');
    const sink = this.#sinks.sink(c.name);
    const out = restamped(observed(c.stats, sink));
    if (this.#o.remux.muxer === 'ffmpeg') {
      c.head = null;
      c.remux = this.#ffmpeg(id, c, out, []);
      return;
    }
    const { srt, remux } = this.#o;
    const subscribe = (onData: (b: Buffer) => void): () => void => {
      c.feed.add(onData);
      return () => c.feed.delete(onData);
    };
    const opts = { ...remux, chunkWaitMs: remux.chunkWaitMs && Math.max(remux.chunkWaitMs, SRT_CHUNK_WAIT_MS) };
    // Once media flows, the caller's codecs are settled: its first bytes need not be kept.
    const media: MediaOut = { ...out, init: (i, g) => { c.head = null; out.init(i, g); } };
    c.remux = new RemuxTap(subscribe, opts, media, c.log, {
      failed: (code, message) => {
        if (this.#callers.get(id) !== c) return;
        if (code === 'TS_CODEC' && c.head) {
          // Codecs only FFmpeg carries: it takes the caller from its first byte.
          c.log.info({ reason: message }, 'srt caller remuxed by ffmpeg');
          const head = c.head;
          c.head = null;
          c.remux = this.#ffmpeg(id, c, out, head);
          return;
        }
        this.#badMedia(id, c, `the SRT caller's MPEG-TS could not be read (${message})`);
      },
    }, (warn) => new TsRemuxer({ maxPesBytes: remux.maxBoxBytes, maxProbeBytes: srt.probeSizeBytes, warn }));
  }

  /** One FFmpeg for this caller's MPEG-TS, fed `head` (what came before it) first. */
  #ffmpeg(id: string, c: Caller, out: MediaOut, head: Buffer[]): Remux {
    const args = remuxArgs({
      input: { kind: 'ts-pipe' }, fragmentUs: this.#o.remux.fragmentUs,
      analyzeDurationUs: this.#o.srt.analyzeDurationUs, probeSizeBytes: this.#o.srt.probeSizeBytes,
    });
    return new Remux({
      ...this.#o.remux, args, restart: 'on-failure', stream: c.name,
      stdin: (onData) => {
        for (const b of head) onData(b);
        c.feed.add(onData);
        return () => c.feed.delete(onData);
      },
    }, out, c.log, {
      exit: (clean) => {
        if (clean || this.#callers.get(id) !== c) return;
        this.#counters.ffmpegRestarts++;
        this.#badMedia(id, c, 'the SRT caller\'s MPEG-TS could not be read');
      },
    });
  }

  /** This caller's media cannot be read: its stream fails, and only it. */
  #badMedia(id: string, c: Caller, message: string): void {
    this.#errors.add('srt', 'SRT_MEDIA_INVALID');
    this.#sinks.sink(c.name).failure('SRT_MEDIA_INVALID', message);
    this.#drop(id, c, 'bad media');
  }

  /** The caller sends more than limits.maxPublishBitrate: it is dropped, and its stream ends as if it left. */
  #overRate(id: string, c: Caller): void {
    this.#errors.add('srt', 'SRT_RATE');
    c.log.warn({ ip: c.ip, maxPublishBitrate: this.#o.maxPublishBitrate }, 'srt caller over limits.maxPublishBitrate: dropped');
    this.#drop(id, c, 'over the publish bitrate cap');
  }

  /** Forgets a caller and closes its SRT connection (we end it: the caller is still there). */
  #drop(id: string, c: Caller, why: string): void {
    this.#gone(id, why);
    c.gateway.kick(c.socket);
  }

  /** Forgets a caller: its remux flushes, then viewers hear it left (unless a new caller took the name). */
  #gone(id: string, why: string): void {
    const c = this.#callers.get(id);
    if (!c) return;
    this.#callers.delete(id);
    c.feed.clear();
    if (!c.remux) return;
    c.log.info({ why }, 'srt publisher left');
    const remux = c.remux;
    void remux.close().then(() => {
      if (this.#closed || this.has(c.name)) return;
      this.#sinks.sink(c.name).offline('PUBLISHER_LEFT');
    });
  }

  /** Handshakes that never opened, and callers that stopped sending while SRT keeps them alive. */
  #expire(): void {
    const now = Date.now();
    for (const [id, c] of this.#callers) {
      if (!c.remux && now - c.admittedAt > OPEN_TIMEOUT_MS) this.#callers.delete(id);
      else if (c.remux && now - c.lastDataAt > this.#o.srt.idleTimeoutMs) this.#drop(id, c, 'idle');
    }
  }

  /** Stops every gateway and remux. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const c of this.#callers.values()) c.remux?.detach();
    this.#callers.clear();
    for (const g of this.#gateways) g.close();
  }
}

/**
 * `out`, with each chunk's prft restamped for the time its media was held for audio
 * (srt/restamp.ts), by the chunk's earliest track: late audio rides with the next frame.
 */
function restamped(out: MediaOut): MediaOut {
  const r = new HoldRestamp();
  return {
    init: (i, generation) => {
      r.reset();
      out.init(i, generation);
    },
    chunk: (c) => {
      if (c.prftMs !== undefined) {
        // Late audio in this chunk: the stamp, and the media it stamps, are the audio's.
        const late = c.earliest && c.earliest.seconds < c.dts ? c.earliest : undefined;
        const ms = r.stamp(c.prftMs, late ? late.seconds : c.dts);
        if (ms < c.prftMs && writePrft(c.bytes, ms, late)) c.prftMs = ms;
      }
      out.chunk(c);
    },
    failure: (code, message) => out.failure(code, message),
  };
}
