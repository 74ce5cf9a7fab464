// What the metrics read, and their options: the interfaces the relay, ingest and QoE satisfy.
import type { StreamState } from '../protocol/messages.js';

/** What metrics read from one relay stream (relay/stream.ts satisfies it). */
export interface StreamLike {
  readonly name: string;
  readonly state: StreamState;
  readonly generation: number;
  readonly viewerCount: number;
  readonly counters: { chunks: number; bytes: number; keyframes: number; skips: number; skippedChunks: number; sentChunks: number; sentBytes: number };
}

/** One publisher session (ingest/remux.ts PublishStats satisfies it). */
export interface PublisherLike {
  readonly stream: string;
  readonly protocol: 'rtmp' | 'srt';
  readonly firstChunkMs: number | null;
  readonly keyframeIntervalS: number | null;
}

export interface MetricsSources {
  streams(): Iterable<StreamLike>;
  publishers(): Iterable<PublisherLike>;
  ingest(): { ffmpegRestarts: number; ffmpegRecycles: number; rtmpRemuxRestarts: number; publishes: number; refused: number };
  relay(): { closedAtCap: number; badMessages: number; skipsByRule?: { ack: number; bytes: number }; waitingViewers?: number; abrCounts?: { up: number; down: number; home: number; probes: number; probesAnswered: number } | null; qoeTotals?: { accepted: number; rejected: number; implausible: number; rateLimited: number } };
  /** Protocol errors and refusals by protocol and code (util/protocol-errors.ts entries()). */
  protocolErrors?(): Iterable<{ protocol: string; code: string; count: number }>;
}

/**
 * What observeQoe reads from a viewer's QoE report. Structural and field-compatible with
 * relay/qoe.ts `QoeReport`, so a report is passed as is. Times in ms, as the player sends them.
 */
export interface QoeSample {
  /** Wall-clock (glass-to-glass) latency percentiles over the report's interval; null: no sample. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** Player start to first presented frame; null before it. Observed once per viewer. */
  startupMs: number | null;
  /** Totals since the player started; observed as deltas per viewer. */
  stalls: number;
  stallMs: number;
  /** Rendition switches (ABR) since the player started; absent from older players. */
  switches?: number;
}

export interface MetricsOptions {
  /** Streams with a label of their own; the rest share `_other`. */
  maxStreamLabels: number;
  /** process_* and nodejs_* metrics from prom-client. */
  defaultMetrics: boolean;
  /** Sampler period for rates, in ms. */
  sampleIntervalMs: number;
}
