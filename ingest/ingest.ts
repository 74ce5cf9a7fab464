// Ingest: RTMP publishers (node-media-server) and SRT listeners, each published stream remuxed
// into the relay's MediaSink for that name: RTMP in process (ingest/flv, or a supervised FFmpeg
// pull with remux.muxer ffmpeg), SRT by a supervised FFmpeg listener.
import type { Logger } from '../app/log.js';
import type { Config } from '../app/config.js';
import type { SinkProvider } from './sink.js';
import { RtmpIngest, type RtmpPublisher } from './rtmp.js';
import { SrtIngest } from './srt.js';
import { remuxArgs } from './ffmpeg-args.js';
import { Remux, PublishStats, type RemuxSink } from './remux.js';
import { FlvTap } from './flv/tap.js';
import { STREAM_NAME_RE } from '../relay/protocol.js';
import { ProtocolErrors } from './protocol-errors.js';

/** What turns one RTMP publish into fMP4: node-media-server's FLV in process, or an FFmpeg pull. */
type PublishRemux = Pick<Remux, 'close' | 'detach'>;

/** What ingest asks before accepting a publisher: a refusal reason, or null. */
export type PublishAuthorizer = (p: { stream: string; key: string | undefined }) => string | null;

/** Monotonic counters /metrics reads at scrape time. */
export interface IngestCounters {
  /** FFmpeg restarted after failing (crash, kill, unusable output). */
  ffmpegRestarts: number;
  /** FFmpeg restarted after a clean exit (an SRT listener re-arming for the next caller). */
  ffmpegRecycles: number;
  /** The in-process RTMP remux started over after unusable media (FLV_*, FMP4_* errors). */
  rtmpRemuxRestarts: number;
  /** Publishers accepted (RTMP sessions and SRT callers). */
  publishes: number;
  /** RTMP publishers refused (bad name, name taken, reserved, shutting down). */
  refused: number;
}

export class Ingest {
  readonly counters: IngestCounters = { ffmpegRestarts: 0, ffmpegRecycles: 0, rtmpRemuxRestarts: 0, publishes: 0, refused: 0 };
  /** Protocol errors and refusals by protocol and code (nowcast_protocol_errors_total); shared with the relay. */
  readonly errors: ProtocolErrors;
  #cfg: Config;
  #sinks: SinkProvider;
  #log: Logger;
  /** The parent logger: rtmp, srt and remux are components of their own, not children of ingest. */
  #root: Logger;
  #rtmp: RtmpIngest | null = null;
  #srt: SrtIngest[] = [];
  /** Live RTMP publishers by stream name, with their remux. */
  #publishers = new Map<string, { p: RtmpPublisher; remux: PublishRemux; stats: PublishStats }>();
  /** Remuxes of publishers that left, still flushing their last chunks. */
  #flushing = new Map<string, PublishRemux>();
  #rtmpPort = 0;
  #closed = false;

  /** Decides on a publisher's key or token; returns why it is refused, or null. */
  #authorize: PublishAuthorizer;

  constructor(cfg: Config, sinks: SinkProvider, log: Logger, authorize: PublishAuthorizer = () => null, errors = new ProtocolErrors()) {
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
    if (rtmp.port) {
      const { tls } = this.#cfg;
      const rtmps = rtmp.tlsPort && tls.cert ? { port: rtmp.tlsPort, cert: tls.cert, key: tls.key } : undefined;
      this.#rtmp = new RtmpIngest({ host: this.#cfg.host, port: rtmp.port, app: rtmp.app, tls: rtmps }, {
        publish: (p) => this.#onPublish(p),
        unpublish: (p) => this.#onUnpublish(p),
      }, this.#root.child({ component: 'rtmp' }));
      this.#rtmpPort = await this.#rtmp.listen();
    }
    for (const l of this.#cfg.srt.listeners) {
      const log = this.#root.child({ component: 'srt', stream: l.stream, port: l.port });
      this.#srt.push(new SrtIngest(l, this.#cfg.host, this.#cfg, this.#sinks.sink(l.stream), log, this.counters));
      log.info('srt listening');
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
    for (const s of this.#srt) if (s.live) out.push(s.stats);
    return out;
  }

  /** Whether the ingest is still accepting publishers. */
  get closed(): boolean {
    return this.#closed;
  }

  #onPublish(p: RtmpPublisher): string | null {
    const refusal = this.#refusal(p);
    if (refusal) {
      this.counters.refused++;
      return refusal;
    }
    this.counters.publishes++;
    this.#flushing.get(p.name)?.detach();
    this.#flushing.delete(p.name);
    const log = this.#root.child({ component: 'remux', stream: p.name });
    const sink = this.#sinks.sink(p.name);
    const stats = new PublishStats(p.name, 'rtmp', Date.now());
    const remuxSink: RemuxSink = {
      unit: (u) => {
        stats.unit(u);
        if (u.kind === 'init') sink.init(u);
        else sink.chunk(u);
      },
      failure: (code, message) => sink.failure(code, message),
      exit: () => {},
      restart: (clean) => { if (clean) this.counters.ffmpegRecycles++; else this.counters.ffmpegRestarts++; },
    };
    let remux: PublishRemux;
    if (this.#cfg.remux.muxer === 'nowcast') {
      remux = new FlvTap(p.subscribe, this.#cfg.remux, { ...remuxSink, restart: () => { this.counters.rtmpRemuxRestarts++; } }, log);
    } else {
      const args = remuxArgs({
        input: { kind: 'rtmp', url: `rtmp://127.0.0.1:${this.#rtmpPort}/${this.#cfg.rtmp.app}/${p.name}` },
        fragmentUs: this.#cfg.remux.fragmentUs,
        analyzeDurationUs: this.#cfg.remux.analyzeDurationUs,
        probeSizeBytes: this.#cfg.remux.probeSizeBytes,
      });
      remux = new Remux({ ...this.#cfg.remux, args, restart: 'on-failure' }, remuxSink, log);
    }
    this.#publishers.set(p.name, { p, remux, stats });
    this.#log.info({ stream: p.name, ip: p.ip }, 'rtmp publisher connected');
    return null;
  }

  #refusal(p: RtmpPublisher): string | null {
    if (this.#closed) return 'shutting down';
    if (!STREAM_NAME_RE.test(p.name)) return `invalid stream name ${JSON.stringify(p.name)}: use letters, digits, _ and -`;
    if (this.#srt.some((s) => s.listener.stream === p.name)) return `stream ${p.name} is reserved for SRT`;
    if (this.#publishers.has(p.name)) return `stream ${p.name} already has a publisher`;
    return this.#authorize({ stream: p.name, key: p.key });
  }

  #onUnpublish(p: RtmpPublisher): void {
    const entry = this.#publishers.get(p.name);
    if (!entry || entry.p !== p) return;
    this.#publishers.delete(p.name);
    this.#log.info({ stream: p.name }, 'rtmp publisher left');
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
    for (const s of this.#srt) s.close();
    this.#srt = [];
    this.#rtmp?.close();
  }
}
