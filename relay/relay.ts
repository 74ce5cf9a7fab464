// The relay: a uWebSockets.js app that fans chunks out to viewers at /live/NAME. It owns the
// streams; ingest (or a cluster edge) feeds them through the MediaSink interface (media/sink.ts).
// Admission and operations hang off it through the narrow interfaces below; app/ wires them.
import uWS from 'uWebSockets.js';
import { LogLimiter, type Logger } from '../util/log.js';
import type { MediaSink, SinkProvider } from '../media/sink.js';
import { Stream, type SkipTotals, type Viewer, type ViewerData } from './stream.js';
import { ViewerFlow } from './flow.js';
import { AbrSwitch, type AbrPolicy, type SwitchCounts } from './abr-switch.js';
import { onViewerMessage, type ViewerMessageContext } from './viewer-messages.js';
import { STREAM_NAME_RE, type ServiceDescription } from '../protocol/messages.js';
import type { StreamSummary } from '../protocol/api.js';
import { newQoeTotals, type QoeCounted, type QoeReport, type QoeSummary, type QoeTotals } from './qoe.js';
import type { RelayConfig } from './config.js';
import type { MediaTap } from './tap.js';

export type { RelayConfig, MediaTap };

/** What the relay asks before and after a viewer's upgrade (admission/guard.ts implements it). */
export interface ViewerAdmission {
  /** Viewers holding a waiting slot now. */
  readonly waitingViewers: number;
  /** How long a viewer may wait for a name that does not go live. */
  readonly maxWaitMs: number;
  /** The address per-address limits count: the TCP peer, or the client a trusted proxy names. */
  clientIp(peer: string, forwardedFor: string, forwarded: string): string;
  admitViewer(v: { ip: string; stream: string; origin: string; token: string | undefined; live: boolean }, nowMs: number): { status: string; code: string; message: string } | null;
  releaseViewer(ip: string, stream: string): void;
  releaseWaiting(ip: string): void;
}

/** What the relay tells operations about viewers' QoE and asks of a cluster edge. */
export interface RelayObservers {
  /** Every accepted QoE report (relay/qoe.ts) and what it adds to the totals. */
  observeQoe?(stream: string, r: QoeReport, viewer: number, counted: QoeCounted): void;
  /** A viewer left: its QoE memory can go. */
  forgetViewer?(stream: string, viewer: number): void;
  /** Streams that exist elsewhere (an edge's view of the cluster), listed after the local ones. */
  directory?: () => StreamSummary[];
}

export interface RelayOptions {
  config: RelayConfig;
  log: Logger;
  /** The latency service announced to a stream's players (hello.service). */
  service: (stream: string) => ServiceDescription;
  /** Metrics and a cluster edge's directory: optional, so a bare relay serves without them. */
  observers?: RelayObservers;
  /** Admission (tokens, Origin, limits); none admits everyone. */
  admission?: ViewerAdmission;
  /** PEM files: serve HTTPS/WSS. */
  tls?: { cert: string; key: string };
  /** Sees each stream's generations and chunks as viewers get them (hls/ repackages them as LL-HLS). */
  tap?: MediaTap;
  /** ABR: the ladder's renditions and the switching rule (abr/, relay/abr-switch.ts); none: the source only. */
  abr?: AbrPolicy;
  /** Mounts the plain HTTP routes (pages, health) on the relay's app, after /live/NAME. */
  routes?: (app: uWS.TemplatedApp) => void;
}

/** A stream's viewer count changed (an edge subscribes on the first and leaves after the last). */
export type ViewersListener = (stream: string, viewers: number) => void;

export class Relay implements SinkProvider {
  readonly app: uWS.TemplatedApp;
  #cfg: RelayConfig;
  #service: (stream: string) => ServiceDescription;
  #log: Logger;
  #streams = new Map<string, Stream>();
  #listen: uWS.us_listen_socket | false = false;
  #sweepTimer: NodeJS.Timeout | null = null;
  #nextViewerId = 1;
  #draining = false;
  #closed = false;
  /** Port actually bound (useful with port 0). */
  port = 0;
  /** Viewer messages that were not valid control messages. */
  badMessages = 0;
  /** QoE reports by outcome, over every stream this relay held. */
  readonly qoeTotals: QoeTotals = newQoeTotals();
  /** Viewers closed because their send buffer reached relay.maxBackpressureBytes. */
  closedAtCap = 0;
  /** Viewers stopped and resumed at a keyframe, by the rule that acted (relay/drop-policy.ts). */
  readonly skipsByRule: SkipTotals = { ack: 0, bytes: 0 };
  /** Acks that named a generation or chunk the stream does not hold (late, or made up). */
  staleAcks = 0;
  #capped = new WeakSet<ViewerData>();
  #ops: RelayObservers;
  /** Admission (tokens, Origin, limits); null admits everyone. */
  #guard: ViewerAdmission | null;
  #viewerListeners = new Set<ViewersListener>();
  #tap: MediaTap | undefined;
  /** Switches viewers between a stream's renditions; null without ABR. */
  readonly #abr: AbrSwitch | null;
  readonly #messages: ViewerMessageContext;
  /** Lines any client can trigger at will (refusals, bad messages): a budget per address. */
  #viewerLogLimiter: LogLimiter | null = null;
  get #viewerLog(): LogLimiter {
    return (this.#viewerLogLimiter ??= new LogLimiter(this.#log));
  }

  constructor(o: RelayOptions) {
    this.#cfg = o.config;
    this.#service = o.service;
    this.#log = o.log;
    this.#guard = o.admission ?? null;
    this.#ops = o.observers ?? {};
    this.#tap = o.tap;
    this.#abr = o.abr ? new AbrSwitch(o.abr, (n) => this.#streams.get(n), this.#log.child({ component: 'abr' })) : null;
    this.#messages = { stream: (n) => this.#streams.get(n), abr: this.#abr, bad: (ws, why) => this.#badMessage(ws, why), staleAck: () => void this.staleAcks++ };
    this.app = o.tls?.cert
      ? uWS.SSLApp({ cert_file_name: o.tls.cert, key_file_name: o.tls.key })
      : uWS.App();
    this.#mountWebSocket();
    o.routes?.(this.app);
  }

  /** What the ABR switch did (metrics); null without a ladder. */
  get abrCounts(): SwitchCounts | null {
    return this.#abr?.counts ?? null;
  }

  /** Listening and not draining: what /readyz answers on both listeners. */
  get ready(): boolean {
    return !this.#draining && !this.#closed && this.#listen !== false;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (sock) => {
        if (!sock) return reject(new Error(`relay: cannot listen on ${host}:${port} (port in use?)`));
        this.#listen = sock;
        this.port = uWS.us_socket_local_port(sock);
        this.#sweepTimer = setInterval(() => this.#sweep(), this.#cfg.sweepIntervalMs);
        this.#log.info({ host, port: this.port }, 'relay listening');
        resolve(this.port);
      });
    });
  }

  /** Looks the stream up on every call: a stream forgotten while offline is made anew. */
  sink(name: string): MediaSink {
    return {
      init: (i, generation) => this.#stream(name).onInit(i, generation),
      chunk: (c) => this.#stream(name).onChunk(c),
      failure: (code, message) => this.#stream(name).setState('error', code, message),
      offline: (reason) => {
        const s = this.#stream(name);
        s.setState('offline', reason);
        this.#abr?.home(s);
        this.#maybeForget(s);
      },
    };
  }

  /** Calls `fn` whenever a stream gains or loses a viewer; returns an unsubscribe. */
  onViewers(fn: ViewersListener): () => void {
    this.#viewerListeners.add(fn);
    return () => this.#viewerListeners.delete(fn);
  }

  #viewersChanged(s: Stream): void {
    for (const fn of this.#viewerListeners) fn(s.name, s.viewerCount);
  }

  stream(name: string): Stream | undefined {
    return this.#streams.get(name);
  }

  /** Viewers waiting now for a name that is not live (the guard's count; 0 without a guard). */
  get waitingViewers(): number {
    return this.#guard?.waitingViewers ?? 0;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** Streams with a publisher or recent media: what limits.maxStreams counts (names viewers only wait on don't). */
  get liveStreamCount(): number {
    const now = Date.now();
    let n = 0;
    for (const s of this.#streams.values()) if (s.isLive(now)) n++;
    return n;
  }

  /** Every stream held now (read by /metrics at scrape time). */
  allStreams(): IterableIterator<Stream> {
    return this.#streams.values();
  }

  /** True once drain() or close() was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Every stream held here, or (withMedia) only those that ever had media. */
  summaries(withMedia = false): Array<StreamSummary & { qoe: QoeSummary }> {
    const now = Date.now();
    // Filtered before summarizing: a thousand names that viewers wait on cost a loop, not a
    // thousand summaries per request of a coalesced list.
    const held = withMedia ? [...this.#streams.values()].filter((s) => s.generation > 0) : [...this.#streams.values()];
    return held.map((s) => ({
      name: s.name,
      state: s.state,
      generation: s.generation,
      codecs: s.info?.codecs ?? null,
      tracks: s.info?.tracks ?? [],
      viewers: s.viewerCount,
      chunks: s.counters.chunks,
      bytes: s.counters.bytes,
      skips: s.counters.skips,
      qoe: s.qoe.summary(now),
    }));
  }

  /**
   * What /streams.json (filtered) and /api/streams list: streams held here that ever had media,
   * then those the ops directory knows elsewhere (an edge's KV view). Names only waited on are
   * left out: anyone can open any name, so they are a count (waitingViewers), not a list.
   */
  listing(): Array<StreamSummary & { qoe?: QoeSummary }> {
    const local = this.summaries(true).filter((s) => !s.name.includes('~')); // renditions (NAME~R): by switching only
    const remote = this.#ops.directory?.().filter((r) => !this.#streams.has(r.name)) ?? [];
    return remote.length ? [...local, ...remote] : local;
  }

  #stream(name: string): Stream {
    let s = this.#streams.get(name);
    if (!s) {
      const limits = { slowBytes: this.#cfg.slowViewerBytes, resumeBytes: this.#cfg.resumeBytes, maxInFlightMs: this.#cfg.maxInFlightMs, ackIntervalMs: this.#cfg.ackIntervalMs, maxGopCacheBytes: this.#cfg.maxGopCacheBytes };
      const m = this.#ops;
      s = new Stream(name, limits, this.#service(name), this.#log.child({ stream: name }),
        m.observeQoe ? (stream, r, viewer, counted) => m.observeQoe!(stream, r, viewer, counted) : undefined, this.qoeTotals, this.#tap, this.skipsByRule);
      this.#streams.set(name, s);
    }
    return s;
  }

  /** An offline stream with no viewers is dropped, so names can't pile up. */
  #maybeForget(s: Stream): void {
    if (s.state === 'offline' && s.viewerCount === 0 && this.#streams.get(s.name) === s) {
      s.close();
      this.#streams.delete(s.name);
    }
  }

  #sweep(): void {
    for (const s of this.#streams.values()) s.sweep();
    this.#abr?.sweep(this.#streams.values(), Date.now());
  }

  #mountWebSocket(): void {
    this.app.ws<ViewerData>('/live/:name', {
      compression: uWS.DISABLED,
      maxPayloadLength: this.#cfg.maxViewerMessageBytes,
      // Past this uWS would silently drop messages, corrupting the viewer's stream; the drop
      // policy skips to keyframes well before it, so reaching it means the viewer is stuck.
      maxBackpressure: this.#cfg.maxBackpressureBytes,
      closeOnBackpressureLimit: true,
      idleTimeout: this.#cfg.idleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        const name = req.getParameter(0) ?? '';
        if (this.#draining || !STREAM_NAME_RE.test(name)) {
          res.writeStatus(this.#draining ? '503 Service Unavailable' : '400 Bad Request')
            .end(this.#draining ? 'draining' : 'invalid stream name');
          return;
        }
        const now = Date.now();
        const peer = Buffer.from(res.getRemoteAddressAsText()).toString();
        const guard = this.#guard;
        // Behind a trusted reverse proxy the client is named in its headers (admission/limits.ts).
        const ip = guard ? guard.clientIp(peer, req.getHeader('x-forwarded-for'), req.getHeader('forwarded')) : peer;
        // Not live (no publisher, no recent media): the viewer waits, on its own budget.
        const live = this.#streams.get(name)?.isLive(now) ?? false;
        if (guard) {
          const token = new URLSearchParams(req.getQuery() ?? '').get('token') ?? undefined;
          const refusal = guard.admitViewer({ ip, stream: name, origin: req.getHeader('origin'), token, live }, now);
          if (refusal) {
            this.#viewerLog.info(`viewer refused ${ip}`, { stream: name, ip, code: refusal.code }, 'viewer refused');
            res.writeStatus(refusal.status).writeHeader('Content-Type', 'application/json')
              .end(JSON.stringify({ code: refusal.code, message: refusal.message }));
            return;
          }
        }
        const waits = guard !== null && !live;
        let released = false;
        const data: ViewerData = {
          id: this.#nextViewerId++,
          stream: name,
          ip,
          state: 'waiting',
          skipFromChunk: -1,
          skipFromBytes: 0,
          closed: false,
          flow: new ViewerFlow(),
          openedAt: now,
          // Called once: by the stream when the name goes live, or by close.
          releaseWait: waits ? () => { if (!released) { released = true; guard.releaseWaiting(ip); } } : null,
          waitUntil: waits ? now + guard.maxWaitMs : 0,
        };
        res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws) => {
        const s = this.#stream(ws.getUserData().stream);
        s.addViewer(ws);
        this.#viewersChanged(s);
      },
      // With closeOnBackpressureLimit uWS drops a message at the cap and then closes the socket.
      dropped: (ws) => this.#onDropped(ws),
      message: (ws, message, isBinary) => onViewerMessage(this.#messages, ws, message, isBinary),
      close: (ws) => {
        const d = ws.getUserData();
        d.closed = true;
        this.#guard?.releaseViewer(d.ip, d.stream);
        d.releaseWait?.();
        d.releaseWait = null;
        const f = d.feed && d.feed !== d.stream ? this.#streams.get(d.feed) : undefined;
        if (f) { f.removeViewer(ws); this.#maybeForget(f); }
        const s = this.#streams.get(d.stream);
        if (!s) return;
        s.removeViewer(ws);
        this.#viewersChanged(s);
        s.qoe.remove(d.id);
        this.#ops.forgetViewer?.(d.stream, d.id);
        this.#maybeForget(s);
      },
    });
  }

  /** Counts a message a viewer should not have sent; logs it within the per-address budget. */
  #badMessage(ws: Viewer, why: string): void {
    this.badMessages++;
    const d = ws.getUserData();
    this.#viewerLog.info(`bad message ${d.ip}`, { stream: d.stream, viewer: d.id, ip: d.ip, why }, 'bad viewer message');
  }

  #onDropped(ws: Viewer): void {
    const d = ws.getUserData();
    if (this.#capped.has(d)) return;
    this.#capped.add(d);
    this.closedAtCap++;
    this.#log.warn({ stream: d.stream, viewer: d.id, ip: d.ip }, 'viewer reached relay.maxBackpressureBytes; closing it');
  }

  /** Stops accepting viewers; readiness turns false. */
  drain(): void {
    this.#draining = true;
  }

  /** Tells every viewer, closes every socket, stops listening. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#draining = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    for (const s of this.#streams.values()) {
      s.setState('offline', 'SERVER_SHUTDOWN', 'the relay is shutting down');
      s.close();
    }
    this.#streams.clear();
    if (this.#listen) uWS.us_listen_socket_close(this.#listen);
    this.#listen = false;
    this.app.close();
    this.#log.info('relay closed');
  }
}

