// Which of a stream's viewers get its media, and when a stopped one gets it again: the state
// machine of relay/drop-policy.ts applied to sockets (relay/stream.ts owns the stream's media).
//
// A live viewer gets every chunk. A skipping one gets none until it drained. A waiting one
// resumes at the next keyframe, or at once from the cached GOP when that holds only media it
// missed and its acknowledged throughput covers the stream's rate: a viewer that was cut off
// (a frozen path whose backlog then landed at once, docs/protocol.md#drop-policy) is back at
// live as soon as it can take media again, not up to a GOP later. A viewer that drained
// slowly (a path below the stream's rate) still waits: a GOP's burst would only queue again.
import type { Logger } from '../util/log.js';
import type { ServerMessage } from '../protocol/messages.js';
import type { GopCache } from '../media/gop-cache.js';
import { afterSweep, onChunk, type SkipRule } from './drop-policy.js';
import type { ChunkLog } from './flow.js';
import { SEND_DROPPED, type StreamCounters, type StreamLimits } from './stream-types.js';
import type { SkipTotals, Viewer } from './viewer.js';

/** A drained viewer's path, as resumeFromGop reads it. */
export interface ResumeInput {
  /** Stream chunk number from which it stopped getting media; -1: not stopped (a new generation's viewers wait for its first keyframe). */
  skipFromChunk: number;
  /** Chunks the stream has published, and how many of the newest the cached GOP holds. */
  chunks: number;
  gopLength: number;
  /** Its acknowledged throughput and the stream's rate (bits/s; 0: unknown). */
  throughputBps: number;
  streamBps: number;
}

/**
 * Where in the cached GOP a drained viewer resumes at once, or -1: not at once (it waits for the
 * next keyframe). Its acks must say its path carries the stream's rate now. A GOP (its first
 * chunk the stream's chunk number `chunks − gopLength`) that began after the viewer stopped
 * holds only chunks it missed: from its keyframe, the chunks before it skipped. One that began
 * at or before the first chunk it missed holds every one of them after media it has: from that
 * chunk, nothing skipped, the media continuous (its decoder has the references).
 */
export function resumeFromGop(r: ResumeInput): number {
  if (r.skipFromChunk < 0 || r.gopLength <= 0 || !(r.streamBps > 0 && r.throughputBps >= r.streamBps)) return -1;
  return Math.max(0, Math.min(r.gopLength, r.skipFromChunk - (r.chunks - r.gopLength)));
}

export class Delivery {
  /** Viewers that get every chunk: state 'live' and their burst sent. */
  readonly live = new Set<Viewer>();
  /** Viewers that get media again at the next keyframe. */
  readonly waiting = new Set<Viewer>();
  readonly #c: StreamCounters;
  readonly #gop: GopCache<Buffer>;
  readonly #sent: ChunkLog;
  readonly #skipTotals: SkipTotals;
  readonly #limits: StreamLimits;
  readonly #log: Logger;

  constructor(counters: StreamCounters, gop: GopCache<Buffer>, sent: ChunkLog, skipTotals: SkipTotals, limits: StreamLimits, log: Logger) {
    this.#c = counters;
    this.#gop = gop;
    this.#sent = sent;
    this.#skipTotals = skipTotals;
    this.#limits = limits;
    this.#log = log;
  }

  /** The hot path: one chunk's Buffer to every live viewer, no allocation per viewer. */
  fanOut(b: Buffer): void {
    for (const v of this.live) {
      if (v.send(b, true) === SEND_DROPPED) this.startSkipping(v, 'bytes', b.length);
    }
    this.#c.sentChunks += this.live.size;
    this.#c.sentBytes += this.live.size * b.length;
  }

  /**
   * Sends the cached GOP (a joiner's, a switch's or a resume's burst) and makes the viewer live;
   * `lastDts` (s): the newest chunk's decode time, from which its acks are due. False when
   * the socket dropped part of it (the viewer then skips) or there is none.
   */
  sendGop(v: Viewer, lastDts: number, from = 0): boolean {
    const d = v.getUserData();
    const items = this.#gop.items;
    if (!items.length) return false;
    for (let i = from; i < items.length; i++) {
      const b = items[i]!;
      if (v.send(b, true) === SEND_DROPPED) {
        this.startSkipping(v, 'bytes');
        return false;
      }
      this.#c.sentChunks++;
      this.#c.sentBytes += b.length;
    }
    d.state = 'live';
    d.skipFromChunk = -1;
    d.flow.fedFrom(lastDts);
    this.waiting.delete(v);
    this.live.add(v);
    return true;
  }

  /**
   * Reads the viewer's send buffer and media in flight and applies the drop policy; a viewer
   * that drained resumes from the cached GOP if it holds only what it missed, else waits.
   */
  sweep(v: Viewer, generation: number, now: number, lastDts: number): void {
    const d = v.getUserData();
    if (d.state === 'waiting') return;
    const inFlightMs = d.flow.update(this.#sent, generation, now);
    const { state: next, rule } = afterSweep(d.state, v.getBufferedAmount(), inFlightMs, this.#limits);
    if (next === d.state) return;
    if (rule) return this.startSkipping(v, rule);
    if (next !== 'waiting') return void (d.state = next);
    const gopLength = this.#gop.items.length;
    // The last ack's sample too: a frozen path's backlog lands within one ack interval, which
    // the 1 s average (dragged down by the silence before) shows only later.
    const throughputBps = Math.max(d.flow.throughputBps, d.flow.lastSampleBps);
    const streamBps = this.#sent.rateBps();
    const at = resumeFromGop({ skipFromChunk: d.skipFromChunk, chunks: this.#c.chunks, gopLength, throughputBps, streamBps });
    // Once per resume, but the object is built only where debug is on.
    if (this.#log.isLevelEnabled('debug')) this.#log.debug({ viewer: d.id, at, missed: this.#c.chunks - d.skipFromChunk, gopLength, throughputBps: Math.round(throughputBps), streamBps: Math.round(streamBps) }, 'viewer drained');
    if (at >= 0) {
      // From the GOP's keyframe, what came between the stop and it is skipped; from a later chunk, nothing.
      if (at === 0) this.#tellSkipped(v, this.#c.chunks - gopLength - d.skipFromChunk, this.#c.bytes - this.#gop.bytes - d.skipFromBytes);
      this.sendGop(v, lastDts, at);
      return;
    }
    d.state = 'waiting';
    this.waiting.add(v);
  }

  /**
   * Stops sending media to a viewer until it drained. `rule`: which limit it passed.
   * `droppedBytes`: the chunk being sent was dropped, so it counts as skipped too.
   */
  startSkipping(v: Viewer, rule: SkipRule, droppedBytes = -1): void {
    const d = v.getUserData();
    if (d.state === 'skipping') return;
    d.flow.stopped(this.#sent.lastDtsMs);
    this.#skipTotals[rule]++;
    this.live.delete(v);
    this.waiting.delete(v);
    d.state = 'skipping';
    const dropped = droppedBytes >= 0;
    d.skipFromChunk = this.#c.chunks - (dropped ? 1 : 0);
    d.skipFromBytes = this.#c.bytes - (dropped ? droppedBytes : 0);
    this.#c.skips++;
    this.#log.debug({ viewer: d.id, rule, lagMs: d.flow.lagMs }, 'viewer too slow; skipping until it drained');
  }

  /** A new generation: a restart, not a skip, so nothing is reported as missed. */
  toWaiting(v: Viewer): void {
    const d = v.getUserData();
    this.live.delete(v);
    d.skipFromChunk = -1;
    d.state = 'waiting';
    this.waiting.add(v);
  }

  /** At a keyframe with decode time `dts` (s), before it is sent: every waiting viewer is told what it missed and goes live. */
  resumeAtKeyframe(dts: number): void {
    for (const v of this.waiting) {
      const d = v.getUserData();
      d.state = onChunk(d.state, true);
      d.flow.fedFrom(dts);
      if (d.skipFromChunk >= 0) this.#tellSkipped(v, this.#c.chunks - d.skipFromChunk, this.#c.bytes - d.skipFromBytes);
      this.live.add(v);
      d.skipFromChunk = -1;
    }
    this.waiting.clear();
  }

  #tellSkipped(v: Viewer, chunks: number, bytes: number): void {
    if (chunks <= 0) return;
    this.#c.skippedChunks += chunks;
    const m: ServerMessage = { type: 'skip', chunks, bytes };
    v.cork(() => v.send(JSON.stringify(m), false));
  }

  remove(v: Viewer): void {
    this.live.delete(v);
    this.waiting.delete(v);
  }

  clear(): void {
    this.live.clear();
    this.waiting.clear();
  }
}
