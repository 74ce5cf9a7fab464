// One viewer's socket data (uWS user data): its delivery state, what its acks say, and what
// admission lent it. The relay makes it at upgrade; the stream reads and moves it.
import type { WebSocket } from 'uWebSockets.js';
import type { DeliveryState, SkipRule } from './drop-policy.js';
import type { ViewerFlow } from './flow.js';
import type { PathProbe } from './probe.js';
import type { ServerMessage } from '../protocol/messages.js';

export interface ViewerData {
  id: number;
  stream: string;
  ip: string;
  state: DeliveryState;
  /** Stream chunk/byte counters when this viewer started skipping (-1: not skipping). */
  skipFromChunk: number;
  skipFromBytes: number;
  /** Set once the viewer has been removed, so late callbacks don't touch it. */
  closed: boolean;
  /** What its acks say about its path (relay/flow.ts). */
  flow: ViewerFlow;
  /** Its bandwidth probes (relay/probe.ts), from its first; they outlive rendition switches. */
  probe?: PathProbe;
  /** The stream whose media it gets after a rendition switch (NAME~RENDITION, relay/abr-switch.ts); absent: `stream`. */
  feed?: string;
  /** When the socket opened (ms since the epoch): bounds what its QoE totals may claim. */
  openedAt: number;
  /** Admitted while its name was not live: frees its waiting slot, once; null when it holds none. */
  releaseWait: (() => void) | null;
  /** A viewer still holding a waiting slot then (ms since the epoch) is closed: STREAM_NOT_LIVE. 0: never. */
  waitUntil: number;
}

/** Close code after the `error` STREAM_NOT_LIVE: a name that did not go live within limits.maxWaitMs. */
export const CLOSE_STREAM_NOT_LIVE = 4408;

export type Viewer = WebSocket<ViewerData>;

/** The viewer's name went live: its waiting slot is freed and its deadline lifted. */
export function endWait(d: ViewerData): void {
  const release = d.releaseWait;
  if (!release) return;
  d.releaseWait = null;
  d.waitUntil = 0;
  release();
}

/** Closes a viewer that waited too long for a name that never went live (docs/protocol.md). */
export function giveUp(v: Viewer, stream: string): void {
  const d = v.getUserData();
  if (d.closed) return;
  d.waitUntil = 0;
  const error: ServerMessage = { type: 'error', code: 'STREAM_NOT_LIVE', message: `stream ${stream} did not go live in time; reconnect to wait again` };
  v.send(JSON.stringify(error), false);
  v.end(CLOSE_STREAM_NOT_LIVE, 'STREAM_NOT_LIVE');
}

/** Skips by the rule that acted, over every stream of a relay (nowcast_viewer_skips_total). */
export type SkipTotals = Record<SkipRule, number>;
