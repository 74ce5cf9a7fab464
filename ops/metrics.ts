// Prometheus metrics for /metrics. Pull-based: a scrape (and a 1 s sampler, for rates and the
// bitrate) reads the relay's streams and the ingest's counters; nothing is added to
// the per-chunk path. Stream labels are bounded: the first `maxStreamLabels` streams that ever
// published get their own label, everything else is `_other` (never a valid stream name).
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StreamState } from '../protocol/messages.js';

export type { StreamLike, PublisherLike, MetricsSources, QoeSample, MetricsOptions } from './metrics-types.js';
import type { StreamLike, MetricsSources, QoeSample, MetricsOptions } from './metrics-types.js';

export const OTHER = '_other';
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const BITRATE_WINDOW_MS = 5_000;
/** Viewers whose stall totals and startup are remembered (for deltas); the oldest go first. */
const QOE_VIEWERS_MAX = 10_000;

interface Snap { chunks: number; bytes: number; skips: number; skippedChunks: number; sentChunks: number; sentBytes: number }
interface Totals { chunks: number; bytes: number; sentChunks: number; sentBytes: number; skippedChunks: number }
interface PerStream { snap: Snap; history: Array<[t: number, bytes: number]>; /** The sample that last saw it. */ seenAt: number }

export class Metrics {
  readonly registry = new Registry();
  #src: MetricsSources;
  #opts: MetricsOptions;
  #labels = new Set<string>();
  #seen = new Map<StreamLike, PerStream>();
  #samples = 0;
  #totals = new Map<string, Totals>();
  #skips = 0;
  #bitrate = new Map<string, number>();
  #qoeViewers = new Map<string, { stalls: number; stallMs: number; started: boolean; switches: number }>();
  #timer: NodeJS.Timeout | null = null;
  #qoeLatency: Histogram<'stream' | 'percentile'>;
  #qoeStartup: Histogram<'stream'>;
  #qoeStall: Histogram<'stream'>;
  #qoeStalls: Counter<'stream'>;
  #qoeSwitches: Counter<'stream'>;

  constructor(src: MetricsSources, opts: Partial<MetricsOptions> = {}) {
    this.#src = src;
    this.#opts = { maxStreamLabels: 100, defaultMetrics: true, sampleIntervalMs: 1_000, ...opts };
    const registers = [this.registry];
    if (this.#opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    const self = this;

    new Gauge({
      name: 'nowcast_build_info', help: 'Build facts; always 1.', labelNames: ['version', 'node'], registers,
      collect() { this.set({ version: VERSION, node: process.version }, 1); },
    });
    new Gauge({
      name: 'nowcast_streams', help: 'Streams the relay holds, by state (live: a publisher is sending).',
      labelNames: ['state'], registers,
      collect() {
        const n: Record<StreamState, number> = { live: 0, offline: 0, error: 0 };
        for (const s of src.streams()) n[s.state]++;
        for (const [state, v] of Object.entries(n)) this.set({ state }, v);
      },
    });
    new Gauge({
      name: 'nowcast_publishers', help: 'Publishers connected now, by protocol.', labelNames: ['protocol'], registers,
      collect() {
        const n = { rtmp: 0, srt: 0 };
        for (const p of src.publishers()) n[p.protocol]++;
        this.set({ protocol: 'rtmp' }, n.rtmp);
        this.set({ protocol: 'srt' }, n.srt);
      },
    });
    new Gauge({
      name: 'nowcast_viewers', help: 'WebSocket viewers connected now, per stream.', labelNames: ['stream'], registers,
      collect() {
        this.reset();
        const n = new Map<string, number>();
        for (const s of src.streams()) {
          const l = self.#label(s.name, s.generation > 0);
          n.set(l, (n.get(l) ?? 0) + s.viewerCount);
        }
        for (const [stream, v] of n) this.set({ stream }, v);
      },
    });
    const perStreamTotal = (name: string, help: string, key: keyof Totals): void => {
      new Counter({
        name, help, labelNames: ['stream'], registers,
        collect() {
          self.#sample();
          this.reset();
          for (const [stream, t] of self.#totals) this.inc({ stream }, t[key]);
        },
      });
    };
    perStreamTotal('nowcast_ingest_bytes_total', 'fMP4 bytes received from the remux (media in), per stream.', 'bytes');
    perStreamTotal('nowcast_chunks_total', 'Chunks received from the remux (each sent to every live viewer).', 'chunks');
    perStreamTotal('nowcast_egress_bytes_total',
      'Media bytes handed to viewers\' sockets: live chunks and joiners\' cached GOP.', 'sentBytes');
    perStreamTotal('nowcast_chunks_sent_total', 'Media chunks handed to viewers\' sockets: live chunks and joiners\' cached GOP.', 'sentChunks');
    new Counter({
      name: 'nowcast_chunks_skipped_total', help: 'Chunks viewers did not get, by reason (slow_viewer: dropped to the next keyframe).',
      labelNames: ['stream', 'reason'], registers,
      collect() {
        self.#sample();
        this.reset();
        for (const [stream, t] of self.#totals) this.inc({ stream, reason: 'slow_viewer' }, t.skippedChunks);
      },
    });
    new Counter({
      name: 'nowcast_backpressure_events_total',
      help: 'Backpressure actions on viewers: skip (send buffer past relay.slowViewerBytes), close (past relay.maxBackpressureBytes).',
      labelNames: ['action'], registers,
      collect() {
        self.#sample();
        this.reset();
        this.inc({ action: 'skip' }, self.#skips);
        this.inc({ action: 'close' }, src.relay().closedAtCap);
      },
    });
    new Counter({
      name: 'nowcast_viewer_skips_total',
      help: 'Viewers stopped until a keyframe, by the rule that acted: ack (media in flight past relay.maxInFlightMs), bytes (send buffer past relay.slowViewerBytes, or a dropped send).',
      labelNames: ['rule'], registers,
      collect() {
        this.reset();
        const r = src.relay().skipsByRule;
        this.inc({ rule: 'ack' }, r?.ack ?? 0);
        this.inc({ rule: 'bytes' }, r?.bytes ?? 0);
      },
    });
    new Counter({
      name: 'nowcast_abr_switches_total',
      help: 'Rendition switches the relay made (docs/abr.md): up, down, home (sent back to the source when its rendition stopped producing).',
      labelNames: ['direction'], registers,
      collect() {
        this.reset();
        const c = src.relay().abrCounts;
        if (c) for (const k of ['up', 'down', 'home'] as const) this.inc({ direction: k }, c[k]);
      },
    });
    new Counter({
      name: 'nowcast_abr_probes_total',
      help: 'Bandwidth probes (docs/abr.md#probes): sent, and answered in time.',
      labelNames: ['result'], registers,
      collect() {
        this.reset();
        const c = src.relay().abrCounts;
        if (c) { this.inc({ result: 'sent' }, c.probes); this.inc({ result: 'answered' }, c.probesAnswered); }
      },
    });
    new Counter({
      name: 'nowcast_viewer_bad_messages_total', help: 'Viewer messages that were not valid control messages.', registers,
      collect() { this.reset(); this.inc(src.relay().badMessages); },
    });
    new Counter({
      name: 'nowcast_protocol_errors_total',
      help: 'Connections closed or requests refused for a protocol error, by protocol and stable code (docs/security.md).',
      labelNames: ['protocol', 'code'], registers,
      collect() {
        this.reset();
        for (const e of src.protocolErrors?.() ?? []) this.inc({ protocol: e.protocol, code: e.code }, e.count);
        // The relay counts bad viewer messages itself (also nowcast_viewer_bad_messages_total).
        this.inc({ protocol: 'ws', code: 'BAD_MESSAGE' }, src.relay().badMessages);
      },
    });
    new Counter({
      name: 'nowcast_qoe_reports_total',
      help: 'Viewer QoE reports by result: accepted, rejected (malformed), implausible (cannot follow the viewer\'s previous report), rate_limited.',
      labelNames: ['result'], registers,
      collect() {
        const t = src.relay().qoeTotals;
        this.reset();
        if (!t) return;
        this.inc({ result: 'accepted' }, t.accepted);
        this.inc({ result: 'rejected' }, t.rejected);
        this.inc({ result: 'implausible' }, t.implausible);
        this.inc({ result: 'rate_limited' }, t.rateLimited);
      },
    });
    new Gauge({
      name: 'nowcast_waiting_viewers', help: 'Viewers waiting now for a stream that is not live (limits.maxWaitingViewers).', registers,
      collect() { this.set(src.relay().waitingViewers ?? 0); },
    });
    new Counter({
      name: 'nowcast_ffmpeg_restarts_total',
      help: 'FFmpeg remux processes restarted, by reason (failure: crashed or killed; recycle: an SRT listener re-arming after its caller left).',
      labelNames: ['reason'], registers,
      collect() {
        const c = src.ingest();
        this.reset();
        this.inc({ reason: 'failure' }, c.ffmpegRestarts);
        this.inc({ reason: 'recycle' }, c.ffmpegRecycles);
      },
    });
    new Counter({
      name: 'nowcast_rtmp_remux_restarts_total',
      help: 'In-process RTMP remux restarts after unusable media from the publisher (remux.muxer nowcast).',
      registers,
      collect() { this.reset(); this.inc(src.ingest().rtmpRemuxRestarts); },
    });
    new Counter({
      name: 'nowcast_publishes_total', help: 'Publish attempts, by result.', labelNames: ['result'], registers,
      collect() {
        const c = src.ingest();
        this.reset();
        this.inc({ result: 'accepted' }, c.publishes);
        this.inc({ result: 'refused' }, c.refused);
      },
    });
    new Gauge({
      name: 'nowcast_stream_ingest_bits_per_second', help: `Ingest bitrate per stream over the last ${BITRATE_WINDOW_MS / 1000} s.`,
      labelNames: ['stream'], registers,
      collect() {
        self.#sample();
        this.reset();
        const byLabel = new Map<string, number>();
        for (const [name, v] of self.#bitrate) {
          const l = self.#label(name, true);
          byLabel.set(l, (byLabel.get(l) ?? 0) + v);
        }
        for (const [stream, v] of byLabel) this.set({ stream }, v);
      },
    });
    new Gauge({
      name: 'nowcast_stream_keyframe_interval_seconds', help: 'Media time between the last two keyframes, per live publisher.',
      labelNames: ['stream'], registers,
      collect() {
        this.reset();
        for (const p of src.publishers()) {
          const l = self.#label(p.stream, true);
          if (l !== OTHER && p.keyframeIntervalS !== null) this.set({ stream: l }, p.keyframeIntervalS);
        }
      },
    });
    new Gauge({
      name: 'nowcast_stream_time_to_first_chunk_seconds',
      help: 'From publish accepted to the first chunk out of the remux, per live RTMP publisher (SRT listeners cannot tell).',
      labelNames: ['stream'], registers,
      collect() {
        this.reset();
        for (const p of src.publishers()) {
          const l = self.#label(p.stream, true);
          if (l !== OTHER && p.firstChunkMs !== null) this.set({ stream: l }, p.firstChunkMs / 1000);
        }
      },
    });
    this.#qoeLatency = new Histogram({
      name: 'nowcast_qoe_latency_seconds', help: 'Glass-to-glass latency viewers report: each report\'s p50 and p95.',
      labelNames: ['stream', 'percentile'], registers,
      buckets: [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    });
    this.#qoeStartup = new Histogram({
      name: 'nowcast_qoe_startup_seconds', help: 'Time to first frame viewers report.', labelNames: ['stream'], registers,
      buckets: [0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    });
    this.#qoeStall = new Histogram({
      name: 'nowcast_qoe_stall_seconds', help: 'Stalled time per viewer report window.', labelNames: ['stream'], registers,
      buckets: [0, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    });
    this.#qoeSwitches = new Counter({
      name: 'nowcast_qoe_switches_total', help: 'Rendition switches (ABR) viewers report.', labelNames: ['stream'], registers,
    });
    this.#qoeStalls = new Counter({
      name: 'nowcast_qoe_stalls_total', help: 'Stalls viewers report.', labelNames: ['stream'], registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Starts the sampler (rates). Scrapes also sample. */
  start(): this {
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#sample(), this.#opts.sampleIntervalMs);
      this.#timer.unref();
    }
    return this;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * One viewer's QoE report for `stream`; wire the QoE aggregator's listener here. With `viewer`
   * (its id), startup is observed once and stall totals become per-report deltas; without it only
   * latency is observed, since totals can't be told apart from one viewer to the next.
   */
  /**
   * `counted`: what the report adds to the totals, as the relay's aggregator judged it
   * (relay/qoe.ts QoeCounted); without it, the growth since this viewer's last report here.
   */
  observeQoe(stream: string, r: QoeSample, viewer?: number | string, counted?: { stalls: number; stallMs: number }): void {
    const label = this.#label(stream, this.#published(stream));
    const num = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
    if (num(r.latencyP50Ms)) this.#qoeLatency.observe({ stream: label, percentile: '50' }, r.latencyP50Ms / 1000);
    if (num(r.latencyP95Ms)) this.#qoeLatency.observe({ stream: label, percentile: '95' }, r.latencyP95Ms / 1000);
    if (viewer === undefined) return;
    const key = `${stream}\u0000${viewer}`;
    const prev = this.#qoeViewers.get(key) ?? { stalls: 0, stallMs: 0, started: false, switches: 0 };
    const sw = r.switches ?? 0;
    const dSwitches = sw >= prev.switches ? sw - prev.switches : sw;
    if (num(dSwitches) && dSwitches > 0) this.#qoeSwitches.inc({ stream: label }, dSwitches);
    // Totals that went down mean the player started over: count from zero again.
    const dStalls = counted ? counted.stalls : r.stalls >= prev.stalls ? r.stalls - prev.stalls : r.stalls;
    const dStallMs = counted ? counted.stallMs : r.stallMs >= prev.stallMs ? r.stallMs - prev.stallMs : r.stallMs;
    if (num(dStalls) && dStalls > 0) this.#qoeStalls.inc({ stream: label }, dStalls);
    if (num(dStallMs)) this.#qoeStall.observe({ stream: label }, dStallMs / 1000);
    const started = prev.started || num(r.startupMs);
    if (!prev.started && num(r.startupMs)) this.#qoeStartup.observe({ stream: label }, r.startupMs / 1000);
    this.#qoeViewers.delete(key);
    this.#qoeViewers.set(key, { stalls: r.stalls, stallMs: r.stallMs, started, switches: sw });
    if (this.#qoeViewers.size > QOE_VIEWERS_MAX) this.#qoeViewers.delete(this.#qoeViewers.keys().next().value as string);
  }

  /** A viewer left: forget what its deltas were computed from. */
  forgetViewer(stream: string, viewer: number | string): void {
    this.#qoeViewers.delete(`${stream}\u0000${viewer}`);
  }

  /** Ingest bitrate of a stream over the last 5 s, bits/s (0 when idle or unknown). */
  bitrate(stream: string): number {
    return this.#bitrate.get(stream) ?? 0;
  }

  /** The stream's label: its name for the first N streams that published, `_other` after. */
  #label(name: string, eligible: boolean): string {
    if (this.#labels.has(name)) return name;
    if (eligible && this.#labels.size < this.#opts.maxStreamLabels) {
      this.#labels.add(name);
      return name;
    }
    return OTHER;
  }

  #published(name: string): boolean {
    for (const s of this.#src.streams()) if (s.name === name) return s.generation > 0;
    return false;
  }

  /**
   * Folds each stream's counter deltas since the last sample into monotonic per-label totals.
   * Streams the relay forgot since then are read one last time (their counters outlive close()).
   */
  #sample(): void {
    const now = Date.now();
    const tick = ++this.#samples;
    // In place, and only streams that ever had media: anyone can open a viewer socket on any
    // name (a waiting viewer), and a thousand such names must cost nothing here.
    for (const s of this.#src.streams()) {
      if (s.counters.chunks === 0) continue;
      let st = this.#seen.get(s);
      if (!st) this.#seen.set(s, (st = { snap: { chunks: 0, bytes: 0, skips: 0, skippedChunks: 0, sentChunks: 0, sentBytes: 0 }, history: [], seenAt: tick }));
      st.seenAt = tick;
    }
    this.#bitrate.clear();
    for (const [s, st] of this.#seen) {
      this.#fold(s, st);
      if (st.seenAt !== tick) {
        this.#seen.delete(s); // gone: its last counts are folded in
        continue;
      }
      st.history.push([now, s.counters.bytes]);
      while (st.history.length > 2 && now - st.history[1]![0] >= BITRATE_WINDOW_MS) st.history.shift();
      const [t0, b0] = st.history[0]!;
      if (s.state === 'live' && now - t0 >= 250) {
        this.#bitrate.set(s.name, ((s.counters.bytes - b0) * 8 * 1000) / (now - t0));
      }
    }
  }

  #fold(s: StreamLike, st: PerStream): void {
    const c = s.counters;
    const p = st.snap;
    const label = this.#label(s.name, s.generation > 0);
    let t = this.#totals.get(label);
    if (!t) this.#totals.set(label, (t = { chunks: 0, bytes: 0, sentChunks: 0, sentBytes: 0, skippedChunks: 0 }));
    const dChunks = c.chunks - p.chunks;
    const dBytes = c.bytes - p.bytes;
    t.chunks += dChunks;
    t.bytes += dBytes;
    t.sentChunks += c.sentChunks - p.sentChunks;
    t.sentBytes += c.sentBytes - p.sentBytes;
    t.skippedChunks += c.skippedChunks - p.skippedChunks;
    this.#skips += c.skips - p.skips;
    st.snap = { chunks: c.chunks, bytes: c.bytes, skips: c.skips, skippedChunks: c.skippedChunks, sentChunks: c.sentChunks, sentBytes: c.sentBytes };
  }
}
