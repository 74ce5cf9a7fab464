// Ingest: RTMP publishers (our publish-only server, ingest/rtmp, in a thread of its own) and SRT listeners, each
// published stream remuxed into the relay's MediaSink for that name: RTMP in process
// (ingest/flv, or a supervised FFmpeg reading the publish as FLV on stdin with remux.muxer
// ffmpeg), SRT through a gateway per port (ingest/srt.ts) and a remux per caller.
import type { Logger } from '../util/log.js';
import type { IngestConfig } from './config.js';
import type { IngestCounters } from './counters.js';

export type { IngestCounters };
import type { SinkProvider } from '../media/sink.js';
import { RtmpThread } from './rtmp/thread.js';
import type { PublishRefusal } from './rtmp/session.js';
import type { RtmpPublisher } from './rtmp/publishers.js';
import { sameSecret } from '../util/secret.js';
import { SrtIngest } from './srt.js';
import { remuxArgs } from './ffmpeg-args.js';
import { Remux } from './remux.js';
import { PublishStats, observed } from './publish-stats.js';
import { RemuxTap } from './tap.js';
import { STREAM_NAME_RE } from '../protocol/messages.js';
import { ProtocolErrors } from '../util/protocol-errors.js';

/** What turns one RTMP publish into fMP4: its FLV in process, or an FFmpeg reading it on stdin. */
type PublishRemux = Pick<Remux, 'close' | 'detach'>;

/**
 * What ingest asks before admitting a publisher, past its own rules (name, taken, reconnect
 * grace): credentials and limits (app/ wires admission/publish.ts and the guard). `ip` has no port.
 */
export type PublishAuthorizer = (p: { stream: string; key: string | undefined; ip: string }) => Omit<PublishRefusal, 'status'> & { status?: PublishRefusal['status'] } | null;


export class Ingest {
  readonly counters: IngestCounters = { ffmpegRestarts: 0, ffmpegRecycles: 0, rtmpRemuxRestarts: 0, publishes: 0, refused: 0 };
  /** Protocol errors and refusals by protocol and code (nowcast_protocol_errors_total); shared with the relay. */
  readonly errors: ProtocolErrors;
  #cfg: IngestConfig;
  #sinks: SinkProvider;
  #log: Logger;
  /** The parent logger: rtmp, srt and remux are components of their own, not children of ingest. */
  #root: Logger;
  #rtmp: RtmpThread | null = null;
  /** Names whose publisher left within rtmp.reconnectGraceMs: held for the same credentials. */
  #grace = new Map<string, { key: string | undefined; until: number }>();
  #srt: SrtIngest | null = null;
  /** Live RTMP publishers by stream name, with their remux. */
  #publishers = new Map<string, { p: RtmpPublisher; remux: PublishRemux; stats: PublishStats }>();
  /** Remuxes of publishers that left, still flushing their last chunks. */
  #flushing = new Map<string, PublishRemux>();
  #rtmpPort = 0;
  #closed = false;

  /** Decides on a publisher's key or token; returns why it is refused, or null. */
  #authorize: PublishAuthorizer;

  constructor(cfg: IngestConfig, sinks: SinkProvider, log: Logger, authorize: PublishAuthorizer = () => null, errors = new ProtocolErrors()) {
    this.#cfg = cfg;
    this.errors = errors;
    this.#authorize = authorize;
    this.#sinks = sinks;
    this.#root = log;
    this.#log = log.child({ component: 'ingest' });
  }

  /** Opens the RTMP port and the SRT listeners. Resolves with the RTMP port bound. */
  async start(): Promise<number> {
    const { rtmp } = this.#cfg;
    if (this.#cfg.open) this.#log.warn('security.open is set: anyone who can reach the RTMP and SRT ports may publish any name without a key');
    if (rtmp.port) {
      const { tls } = this.#cfg;
      const rtmps = rtmp.tlsPort && tls.cert ? { port: rtmp.tlsPort, cert: tls.cert, key: tls.key } : undefined;
      this.#rtmp = new RtmpThread({ ...rtmp, host: this.#cfg.host, tls: rtmps, limitLoopback: this.#cfg.limitLoopback, maxPublishBitrate: this.#cfg.maxPublishBitrate }, {
        publish: (p) => this.#onPublish(p),
        unpublish: (p) => this.#onUnpublish(p),
      }, this.errors, this.#root.child({ component: 'rtmp' }));
      this.#rtmpPort = await this.#rtmp.listen();
    }
    if (this.#cfg.srt.listeners.length) {
      const log = this.#root.child({ component: 'srt' });
      this.#srt = new SrtIngest({ host: this.#cfg.host, srt: this.#cfg.srt, remux: this.#cfg.remux, limitLoopback: this.#cfg.limitLoopback, maxPublishBitrate: this.#cfg.maxPublishBitrate },
        this.#sinks, log, (p) => this.#srtRefusal(p), this.errors, this.counters);
      await this.#srt.listening();
      log.info({ host: this.#cfg.host, ports: this.#cfg.srt.listeners.map((l) => l.port) }, 'srt listening');
    }
    return this.#rtmpPort;
  }

  get rtmpPort(): number {
    return this.#rtmpPort;
  }

  /** The publishers live now (RTMP sessions and connected SRT callers), for /metrics. */
  publishers(): PublishStats[] {
    const out: PublishStats[] = [];
    for (const { stats } of this.#publishers.values()) out.push(stats);
    if (this.#srt) out.push(...this.#srt.publishers());
    return out;
  }

  /** Whether the ingest is still accepting publishers. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The RTMP thread. */
  get rtmp(): RtmpThread | null {
    return this.#rtmp;
  }

  #onPublish(p: RtmpPublisher): PublishRefusal | null {
    const refusal = this.#refusal(p);
    if (refusal) {
      this.counters.refused++;
      return refusal;
    }
    this.counters.publishes++;
    this.#grace.delete(p.name);
    this.#flushing.get(p.name)?.detach();
    this.#flushing.delete(p.name);
    const log = this.#root.child({ component: 'remux', stream: p.name });
    const sink = this.#sinks.sink(p.name);
    const stats = new PublishStats(p.name, 'rtmp', Date.now());
    const out = observed(stats, sink);
    let remux: PublishRemux;
    if (this.#cfg.remux.muxer === 'nowcast') {
      remux = new RemuxTap(p.subscribe, this.#cfg.remux, out, log, { restart: () => { this.counters.rtmpRemuxRestarts++; } });
    } else {
      const args = remuxArgs({
        input: { kind: 'flv-pipe' },
        fragmentUs: this.#cfg.remux.fragmentUs,
        analyzeDurationUs: this.#cfg.remux.analyzeDurationUs,
        probeSizeBytes: this.#cfg.remux.probeSizeBytes,
      });
      remux = new Remux({ ...this.#cfg.remux, args, restart: 'on-failure', stdin: p.subscribe, stream: p.name }, out, log, {
        restart: (clean) => { if (clean) this.counters.ffmpegRecycles++; else this.counters.ffmpegRestarts++; },
      });
    }
    this.#publishers.set(p.name, { p, remux, stats });
    this.#log.info({ stream: p.name, ip: p.ip }, 'rtmp publisher connected');
    return null;
  }

  #refusal(p: RtmpPublisher): PublishRefusal | null {
    if (this.#closed) return { status: 'Rejected', code: 'SHUTTING_DOWN', message: 'the server is shutting down' };
    if (!STREAM_NAME_RE.test(p.name)) return { status: 'BadName', code: 'STREAM_NAME_INVALID', message: 'use 1-64 letters, digits, _ and -, starting with a letter or digit' };
    if (this.#cfg.srt.listeners.some((l) => l.stream === p.name)) return { status: 'BadName', code: 'STREAM_RESERVED', message: `stream ${p.name} is reserved for SRT` };
    if (this.#publishers.has(p.name) || this.#srt?.has(p.name)) return { status: 'BadName', code: 'STREAM_TAKEN', message: `stream ${p.name} already has a publisher` };
    const g = this.#grace.get(p.name);
    const now = Date.now();
    if (g && g.until > now && !(g.key === undefined ? p.key === undefined : p.key !== undefined && sameSecret(p.key, g.key))) {
      return { status: 'BadName', code: 'STREAM_RECONNECTING', message: `stream ${p.name} is held for its publisher's reconnect` };
    }
    const r = this.#authorize({ stream: p.name, key: p.key, ip: p.ip.replace(/:\d+$/, '') });
    return r && { status: r.status ?? 'Rejected', code: r.code, message: r.message };
  }

  /** SRT's share of the publish rules: the same as RTMP's past SRT's own (streamid, limits, SRT holder). */
  #srtRefusal(p: { stream: string; key: string | undefined; ip: string }): { code: string; message: string } | null {
    if (this.#closed) return { code: 'SHUTTING_DOWN', message: 'the server is shutting down' };
    if (!STREAM_NAME_RE.test(p.stream)) return { code: 'STREAM_NAME_INVALID', message: 'use 1-64 letters, digits, _ and -, starting with a letter or digit' };
    if (this.#publishers.has(p.stream) || this.#flushing.has(p.stream)) return { code: 'STREAM_TAKEN', message: `stream ${p.stream} already has an RTMP publisher` };
    const g = this.#grace.get(p.stream);
    if (g && g.until > Date.now()) return { code: 'STREAM_RECONNECTING', message: `stream ${p.stream} is held for its RTMP publisher's reconnect` };
    const r = this.#authorize(p);
    return r && { code: r.code, message: r.message };
  }

  #onUnpublish(p: RtmpPublisher): void {
    const entry = this.#publishers.get(p.name);
    if (!entry || entry.p !== p) return;
    this.#publishers.delete(p.name);
    this.#log.info({ stream: p.name }, 'rtmp publisher left');
    const graceMs = this.#cfg.rtmp.reconnectGraceMs;
    if (graceMs > 0) {
      const now = Date.now();
      for (const [name, g] of this.#grace) if (g.until <= now) this.#grace.delete(name);
      this.#grace.set(p.name, { key: p.key, until: now + graceMs });
    }
    // Let FFmpeg flush the frames in flight, then tell viewers; unless a new publisher has
    // taken the name meanwhile (it detaches this remux).
    this.#flushing.set(p.name, entry.remux);
    void entry.remux.close().then(() => {
      if (this.#flushing.get(p.name) !== entry.remux) return;
      this.#flushing.delete(p.name);
      if (!this.#closed) this.#sinks.sink(p.name).offline('PUBLISHER_LEFT');
    });
  }

  /** Stops every remux and listener. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { remux } of this.#publishers.values()) remux.detach();
    for (const remux of this.#flushing.values()) remux.detach();
    this.#publishers.clear();
    this.#flushing.clear();
    this.#srt?.close();
    this.#srt = null;
    this.#rtmp?.close();
  }
}
