// What a stream is counted and bounded by (relay/stream.ts), declared apart so that file stays
// about fan-out.
import type { DropLimits } from './drop-policy.js';

/** A stream that lost its publisher still counts as live this long (ms): a reconnect keeps its place. */
export const RECENT_MEDIA_MS = 30_000;

export interface StreamLimits extends DropLimits {
  /** What viewers are asked to ack at (hello.ackMs, ms); media is late this + ACK_RTT_MS after sending. */
  ackIntervalMs: number;
  /** Stop caching the current GOP past this size; new viewers then wait for the next keyframe. */
  maxGopCacheBytes: number;
}

export interface StreamCounters {
  chunks: number;
  bytes: number;
  keyframes: number;
  skips: number;
  skippedChunks: number;
  /** Media chunks and bytes handed to viewers' sockets (live chunks and joiners' cached GOP). */
  sentChunks: number;
  sentBytes: number;
  /** Init segments dropped as byte-identical repeats, and replaced by a newer one before delivery. */
  initsIgnored: number;
  initsCoalesced: number;
}

/** uWS ws.send() result: the socket was over maxBackpressure and the message was dropped. */
export const SEND_DROPPED = 2;
