// The WebSocket protocol between the relay and the player, shared by both sides.
// Text frames carry these JSON messages; binary frames carry ISO-BMFF only
// (an init segment, ftyp+moov, or a chunk, [prft] moof mdat). See docs/protocol.md.

/** Bumped on any incompatible change; sent in `hello`. */
export const PROTOCOL_VERSION = 1;

/** One track of the current init segment. */
export interface TrackInfo {
  id: number;
  kind: 'video' | 'audio';
  /** RFC 6381 codec string, e.g. `avc1.64001f` or `mp4a.40.2`. */
  codec: string;
  timescale: number;
  width?: number;
  height?: number;
  channels?: number;
  sampleRate?: number;
}

/**
 * Latency the server wants players of a stream to hold, like DASH's ServiceDescription.
 * A page or API option may override it. Times are wall-clock latency in ms.
 */
export interface ServiceDescription {
  /** Wall-clock latency to hold, from the server writing a chunk to its frame on screen. */
  targetMs: number;
  /** Floor of the player's target latency (a lower target is raised to it). */
  minMs: number;
  /** Past this latency the player jumps to live. */
  maxMs: number;
  /** Slowest playback rate the player may use to let latency grow. */
  minRate: number;
  /** Fastest playback rate the player may use to catch up. */
  maxRate: number;
  /** Every viewer holds exactly targetMs behind the server's wall clock (same moment everywhere). */
  pinned: boolean;
}

/** First message on every connection. */
export interface HelloMessage {
  type: 'hello';
  version: number;
  stream: string;
  /** Server wall clock (ms since the Unix epoch) when the message was sent. */
  serverTime: number;
  service: ServiceDescription;
  /**
   * How unevenly the stream's chunks reach the relay (ms: p98 of their delay above the least
   * over 10 s, bursts counted once), when the relay has measured it: a player may keep that
   * much buffer until it has measured its own arrivals.
   */
  jitterMs?: number;
  /** How often (ms) to send `ack` while media arrives (relay.ackIntervalMs); absent: ACK_INTERVAL_MS. */
  ackMs?: number;
}

/** The largest hello.jitterMs that means anything (ms): past it the relay sends none and a player ignores it. */
export const MAX_JITTER_MS = 5000;
/** hello.ackMs a relay may ask for and a player takes (ms); outside, a player keeps ACK_INTERVAL_MS. */
export const MIN_ACK_MS = 50;
export const MAX_ACK_MS = 2000;

/** Sent before every init segment: what the next binary `ftyp+moov` frame describes. */
export interface InfoMessage {
  type: 'info';
  stream: string;
  /** Increments each time the publisher (re)starts; a new generation restarts media time. */
  generation: number;
  /** Full MSE type, e.g. `video/mp4; codecs="avc1.64001f,mp4a.40.2"`. */
  mime: string;
  /** Comma-separated codec list, the part inside `codecs="…"`. */
  codecs: string;
  tracks: TrackInfo[];
}

export type StreamState = 'live' | 'offline' | 'error';

/** The stream's state changed. `offline`: no publisher now; viewers stay connected and wait. */
export interface StateMessage {
  type: 'state';
  stream: string;
  state: StreamState;
  /** Stable machine-readable code for `error` (see docs/protocol.md), or the reason for `offline`. */
  code?: string;
  message?: string;
}

/** This viewer fell behind; the relay skipped `chunks` chunks and resumes at the keyframe that follows. */
export interface SkipMessage {
  type: 'skip';
  chunks: number;
  bytes: number;
}

/** A fatal error for this connection; the relay closes the socket after sending it. */
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

/**
 * A bandwidth probe (docs/protocol.md#probe): part 0, then at once part 1 padded to `bytes`.
 * They cross the viewer's path back to back, so part 1 arrives after part 0 by about the time its
 * bytes take on the path's narrowest link; the player answers with that time (`probed`).
 */
export interface ProbeMessage {
  type: 'probe';
  id: number;
  part: 0 | 1;
  /** Padding (part 1 only): characters that make the frame about the probe's size. */
  pad?: string;
}

export type ServerMessage = HelloMessage | InfoMessage | StateMessage | SkipMessage | ErrorMessage | PongMessage | ProbeMessage;

/** Messages a viewer may send. Anything else is ignored and counted. */
export interface PingMessage {
  type: 'ping';
  /** Client clock (ms) when sent; echoed back in `pong`. */
  t0: number;
}

/**
 * What this viewer has received: the relay bounds the media in flight to it by this
 * (relay.maxInFlightMs, docs/protocol.md#acknowledgements). Sent every ~ACK_INTERVAL_MS
 * while media arrives; a viewer that never sends one is judged by its send buffer.
 */
export interface AckMessage {
  type: 'ack';
  /** Generation of the chunk acknowledged (from `info`); an ack of another one is ignored. */
  g: number;
  /** mfhd sequence number of the last chunk received. */
  seq: number;
}

/**
 * How often (ms) a player acknowledges while media arrives, unless hello.ackMs says otherwise
 * (relay.ackIntervalMs, the default; abr.ackIntervalMs with a ladder). Measured with bench:fanout's relay at
 * 2,000 viewers (bench/RESULTS.md, Network, 2026-12-07), with a load generator that no longer
 * charges the relay for its own wake-ups and TCP ACKs: +6–11 % relay CPU at 500 ms, +15 % at
 * 200 ms (target: within 10 %). Longer would stop a slow viewer later: the relay waits an
 * interval and a round trip (ACK_GRACE_MS) before it counts media as late.
 */
export const ACK_INTERVAL_MS = 500;

/** A probe's answer: part 1 of probe `id` arrived `ms` after its part 0 (the viewer's clock). */
export interface ProbedMessage {
  type: 'probed';
  id: number;
  ms: number;
}

/** A `probed` with `ms` over this is refused: no probe takes that long to arrive and be worth it. */
export const MAX_PROBE_MS = 10_000;

export interface PongMessage {
  type: 'pong';
  t0: number;
  /** Server wall clock (ms) when the ping was handled. */
  serverTime: number;
}

/** Policies the player can run (player/latency.ts): Nowcast's, and three baselines for comparison. */
export const POLICIES = ['nowcast', 'none', 'seek', 'mpegts'] as const;
export type PolicyName = (typeof POLICIES)[number];

/**
 * QoE back-channel: a player's report every few seconds (docs/protocol.md). Times in ms.
 * Interval figures cover the time since the previous report; the rest are totals since the
 * player started. The relay validates it (relay/qoe.ts), ignores unknown fields, and keeps
 * each viewer's latest report for the stream summary.
 */
export interface QoeMessage {
  type: 'qoe';
  /** Length of the interval this report covers (ms). */
  intervalMs: number;
  /** From player start to the first presented frame; null before it. */
  startupMs: number | null;
  /** Wall-clock latency percentiles over the interval; null when no sample was taken. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  /** Latency and target now; latency null when unknown. */
  latencyMs: number | null;
  targetMs: number;
  /** Totals since the player started. */
  stalls: number;
  stallMs: number;
  rateChanges: number;
  /** Seeks to live after the start (controller ceiling, hidden tab, reconnect). */
  jumps: number;
  droppedFrames: number;
  /** Current playback rate. */
  rate: number;
  policy: PolicyName;
  pinned: boolean;
  /** Server minus client clock (ms) from ping/pong; null when unknown. */
  clockOffsetMs: number | null;
  /** Rendition switches (ABR) since the player started; absent from players before ABR. */
  switches?: number;
}

/** Pin or cap this viewer's rendition of an ABR stream (docs/abr.md); the relay applies it at a keyframe. */
export interface RenditionMessage {
  type: 'rendition';
  /** 'source' or a ladder rendition's name; null: the relay chooses. */
  rendition: string | null;
  /** Never above this height (px); 0 or null: no cap. */
  maxHeight: number | null;
}

export type ClientMessage = PingMessage | QoeMessage | AckMessage | RenditionMessage | ProbedMessage;

/** Returns the four-character type of the first box in a binary frame, or '' if too short. */
export function firstBoxType(frame: Uint8Array): string {
  if (frame.byteLength < 8) return '';
  return String.fromCharCode(frame[4]!, frame[5]!, frame[6]!, frame[7]!);
}

/** Stream names: what RTMP keys and URLs may carry safely. */
export const STREAM_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * A client may open the stream's socket before its player has loaded (the /watch page does,
 * ops/pages.ts, and has its MSE worker do it) and queue what arrives for the player. Past either
 * bound (a player that never comes) it closes that socket.
 */
export const EARLY_SOCKET_MAX_MESSAGES = 1000;
export const EARLY_SOCKET_MAX_BYTES = 16 * 1024 * 1024;
