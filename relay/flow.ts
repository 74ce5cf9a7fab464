// Flow by acknowledgement: what the relay knows of each viewer's path from its acks
// (docs/protocol.md#acknowledgements). The kernel's send buffer is invisible to
// getBufferedAmount() and holds 15–30 s of media with Linux's default tcp_wmem, so the
// relay measures what is in flight in media time instead: the newest chunk sent to the
// viewer at least ACK_GRACE_MS ago (a healthy viewer has acked it by then) against the
// newest it acknowledged.
//
// ChunkLog is per stream (one entry per chunk, shared by every viewer); ViewerFlow is per
// viewer and is only touched by acks and the sweep, never on the fan-out hot path.

import { ACK_INTERVAL_MS } from '../protocol/messages.js';

/** What the ABR rule (and metrics) may read about one viewer's path. */
export interface FlowEstimate {
  /** The viewer has acknowledged in this generation; false: judged by bytes only. */
  readonly acking: boolean;
  /** Media sent to it and not yet acknowledged, in ms (0 when not acking or not fed). */
  readonly lagMs: number;
  /** Acknowledged throughput, bits/s (EWMA over ~THROUGHPUT_TAU_MS); 0 until measured. */
  readonly throughputBps: number;
  /** Relay clock (ms) of the newest ack; 0: none. */
  readonly lastAckAt: number;
  /**
   * How much longer than its least in the last ~QUEUE_BASELINE_MS the newest ack took after its
   * chunk was sent (ms): the queue building on the path, known at every ack, without lagMs's
   * grace of an ack interval and a round trip. 0 until measured.
   */
  readonly queueMs: number;
}

/** queueMs's baseline: the least delay over the last this-to-twice-this ms. */
export const QUEUE_BASELINE_MS = 5000;

/** Past the oldest chunk the log holds, an ack counts as this far behind (ms): over any bound. */
export const UNKNOWN_LAG_MS = 60_000;
/** Chunks remembered per stream: ~17 s at 30 chunks/s, far past any in-flight bound. */
export const CHUNK_LOG_SIZE = 512;
/** ChunkLog.rateBps() measures the stream over about this much media (ms). */
export const RATE_SPAN_MS = 2000;
/** Time constant of the throughput average (ms). */
export const THROUGHPUT_TAU_MS = 1000;
/** A round trip's allowance (ms) in the ack grace. */
export const ACK_RTT_MS = 150;
/**
 * Media sent within this (ms) is not yet due to be acknowledged: the ack interval and a round
 * trip. A burst the viewer takes in at once (a join, the backlog after the relay itself
 * stalled) is acked within it and is not a slow path. A stream whose viewers are asked for
 * another interval (hello.ackMs) uses that plus ACK_RTT_MS.
 */
export const ACK_GRACE_MS = ACK_INTERVAL_MS + ACK_RTT_MS;

/**
 * Decode time and cumulative stream bytes of the last CHUNK_LOG_SIZE chunks, by mfhd sequence
 * number. Its 16 KiB are taken at the first chunk: a name that viewers only wait on (a thousand
 * of them, in bench:abuse) costs nothing here.
 */
export class ChunkLog {
  /** [seq | dtsMs | bytes | sentAt] × CHUNK_LOG_SIZE; null until the first record. */
  #log: Float64Array | null = null;
  readonly #graceMs: number;
  #edgeFor = NaN;
  #edgeMs = -Infinity;
  /** Newest chunk recorded; -1: none since the last reset. */
  lastSeq = -1;
  lastDtsMs = 0;

  /** `graceMs`: media sent this long ago (ms) is due to be acknowledged (ACK_GRACE_MS at the default interval). */
  constructor(graceMs: number = ACK_GRACE_MS) {
    this.#graceMs = graceMs;
  }

  /** A chunk went out to the live viewers at `now` (ms): `dts` in seconds, `cumBytes` the stream's byte count after it. */
  record(seq: number, dts: number, cumBytes: number, now: number): void {
    const log = (this.#log ??= new Float64Array(4 * CHUNK_LOG_SIZE).fill(-1, 0, CHUNK_LOG_SIZE));
    const i = seq % CHUNK_LOG_SIZE;
    log[i] = seq;
    log[DTS + i] = dts * 1000;
    log[BYTES + i] = cumBytes;
    log[SENT + i] = now;
    this.#edgeFor = NaN;
    this.lastSeq = seq;
    this.lastDtsMs = dts * 1000;
  }

  /** A new generation: its numbering starts over. */
  reset(): void {
    this.#edgeFor = NaN;
    this.#log?.fill(-1, 0, CHUNK_LOG_SIZE);
    this.lastSeq = -1;
    this.lastDtsMs = 0;
  }

  /** Slot of `seq`, or -1 if it is not (or no longer) in the log. */
  find(seq: number): number {
    if (!this.#log || !Number.isSafeInteger(seq) || seq < 0) return -1;
    const i = seq % CHUNK_LOG_SIZE;
    return this.#log[i] === seq ? i : -1;
  }

  /**
   * Decode time (ms) of the newest chunk sent at least the grace before `now`: what every
   * viewer fed since should have acknowledged. -Infinity: none. Cached per `now` (one sweep).
   */
  dueMs(now: number): number {
    if (now === this.#edgeFor) return this.#edgeMs;
    let edge = -Infinity;
    const log = this.#log;
    for (let seq = this.lastSeq, k = 0; log && seq >= 0 && k < CHUNK_LOG_SIZE; seq--, k++) {
      const i = seq % CHUNK_LOG_SIZE;
      if (log[i] !== seq) break;
      if (log[SENT + i]! <= now - this.#graceMs) { edge = log[DTS + i]!; break; }
    }
    this.#edgeFor = now;
    this.#edgeMs = edge;
    return edge;
  }

  /**
   * The stream's rate (bits/s) over its last ~RATE_SPAN_MS of media, from the log; 0 when it
   * holds less than two chunks.
   */
  rateBps(): number {
    const log = this.#log;
    if (!log || this.lastSeq < 1) return 0;
    const last = this.lastSeq % CHUNK_LOG_SIZE;
    let old = -1;
    for (let seq = this.lastSeq - 1, k = 1; seq >= 0 && k < CHUNK_LOG_SIZE; seq--, k++) {
      const i = seq % CHUNK_LOG_SIZE;
      if (log[i] !== seq) break;
      old = i;
      if (log[DTS + last]! - log[DTS + i]! >= RATE_SPAN_MS) break;
    }
    if (old < 0) return 0;
    const ms = log[DTS + last]! - log[DTS + old]!;
    return ms > 0 ? ((log[BYTES + last]! - log[BYTES + old]!) * 8 * 1000) / ms : 0;
  }

  /** For a slot find() returned: when that chunk went out (ms). */
  sentAtMs(slot: number): number {
    return this.#log![SENT + slot]!;
  }

  /** For a slot find() returned. */
  dtsMsAt(slot: number): number {
    return this.#log![DTS + slot]!;
  }

  /** For a slot find() returned. */
  bytesAt(slot: number): number {
    return this.#log![BYTES + slot]!;
  }
}

const DTS = CHUNK_LOG_SIZE;
const BYTES = 2 * CHUNK_LOG_SIZE;
const SENT = 3 * CHUNK_LOG_SIZE;

export class ViewerFlow implements FlowEstimate {
  acking = false;
  throughputBps = 0;
  /** Throughput between its last two acks (bits/s): a burst that just landed, which the average smooths away; 0: none. */
  lastSampleBps = 0;
  lastAckAt = 0;
  queueMs = 0;
  /** Least send-to-ack delay (ms) in this baseline window and the one before, and when this one began. */
  #minNow = Infinity;
  #minBefore = Infinity;
  #minSince = -Infinity;
  /** When it was last fed again (relay clock, ms): chunks sent before went out to others first (a join's or resume's GOP). */
  #fedAt = -Infinity;
  /** Generation the ack state belongs to; -1: none. */
  #generation = -1;
  #ackSeq = -1;
  #ackDtsMs = -Infinity;
  /** Stream bytes up to the acked chunk, for throughput; NaN: no baseline (just resumed). */
  #ackBytes = NaN;
  #bytesAt = 0;
  /** Media time from which this viewer is fed again (join, resume): acks before it count as this. */
  #fedFromMs = -Infinity;
  /** Newest media time sent before it stopped being fed (skipping); NaN while fed. */
  #stoppedAtMs = NaN;
  #lag = 0;

  get lagMs(): number {
    return this.#lag;
  }

  /**
   * An ack from the viewer. Ignored (false) when it names another generation or a chunk the
   * log does not hold or that was not sent yet; an older seq than the last ack is ignored too.
   */
  onAck(generation: number, seq: number, streamGeneration: number, log: ChunkLog, now: number): boolean {
    if (generation !== streamGeneration) return false;
    if (generation !== this.#generation) this.#newGeneration(generation);
    const slot = log.find(seq);
    if (slot < 0 || seq > log.lastSeq) return false;
    this.acking = true;
    if (seq <= this.#ackSeq) return true;
    this.#ackSeq = seq;
    this.#ackDtsMs = log.dtsMsAt(slot);
    // A chunk of a burst (a GOP sent at a join or resume) went out to the live viewers earlier: its delay says nothing of the path.
    const sentAt = log.sentAtMs(slot);
    if (sentAt >= this.#fedAt) this.#delay(now - sentAt, now);
    const bytes = log.bytesAt(slot);
    if (!Number.isNaN(this.#ackBytes) && this.lastAckAt > 0 && now > this.#bytesAt) {
      const dt = now - this.#bytesAt;
      const sample = ((bytes - this.#ackBytes) * 8 * 1000) / dt;
      this.lastSampleBps = sample;
      const a = 1 - Math.exp(-dt / THROUGHPUT_TAU_MS);
      this.throughputBps = this.throughputBps === 0 ? sample : this.throughputBps + a * (sample - this.throughputBps);
    }
    this.#ackBytes = bytes;
    this.#bytesAt = now;
    this.lastAckAt = now;
    return true;
  }

  /** A new chunk acked `delayMs` after it was sent: the queue is that over the least recent delay. */
  #delay(delayMs: number, now: number): void {
    if (!(delayMs >= 0)) return;
    if (now - this.#minSince >= QUEUE_BASELINE_MS) {
      this.#minBefore = this.#minNow;
      this.#minNow = Infinity;
      this.#minSince = now;
    }
    this.#minNow = Math.min(this.#minNow, delayMs);
    this.queueMs = Math.max(0, delayMs - Math.min(this.#minNow, this.#minBefore));
  }

  /** Fed again from the chunk at `dtsSeconds` (a join or a resume at a keyframe). */
  fedFrom(dtsSeconds: number, now: number = Date.now()): void {
    this.#fedFromMs = dtsSeconds * 1000;
    this.#fedAt = now;
    this.#stoppedAtMs = NaN;
    this.#ackBytes = NaN;
  }

  /** No longer fed; the newest media it was sent started at `lastDtsMs`. */
  stopped(lastDtsMs: number): void {
    this.#stoppedAtMs = lastDtsMs;
  }

  /** A new generation at the relay: everything acked so far is of the old numbering. */
  #newGeneration(generation: number): void {
    this.#generation = generation;
    this.#ackSeq = -1;
    this.#ackDtsMs = -Infinity;
    this.#ackBytes = NaN;
    this.acking = false;
  }

  /**
   * Media in flight past its due (ms) now: from the newest chunk sent at least ACK_GRACE_MS ago
   * (or, not fed, the last one before the stop, if older) back to the newest acknowledged, or to
   * where feeding started if that is later (lagMs). -1 when the viewer does not ack (the byte
   * rule applies).
   */
  update(log: ChunkLog, streamGeneration: number, now: number = Date.now()): number {
    if (!this.acking || this.#generation !== streamGeneration || log.lastSeq < 0) {
      this.#lag = 0;
      return -1;
    }
    const due = log.dueMs(now);
    const sent = Number.isNaN(this.#stoppedAtMs) ? due : Math.min(due, this.#stoppedAtMs);
    const acked = Math.max(this.#ackDtsMs, this.#fedFromMs);
    this.#lag = sent === -Infinity ? 0 : acked === -Infinity ? UNKNOWN_LAG_MS : Math.min(UNKNOWN_LAG_MS, Math.max(0, sent - acked));
    return this.#lag;
  }
}
