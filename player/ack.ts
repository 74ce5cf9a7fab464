// Acknowledgements (docs/protocol.md#ack): the player tells the relay the newest chunk it
// received, so the relay can bound the media in flight to it whatever the kernel buffers.
// At most one ack per ACK_INTERVAL_MS, and a last one after a burst ends, so the relay always
// learns of the newest chunk within an interval; nothing while nothing new arrives.
//
// Media after a silence of SILENCE_MS or more (an outage's backlog landing; the relay stops
// feeding a viewer ~1 s behind) is acked at once and then QUICK_ACKS more times QUICK_ACK_MS
// apart: the relay resumes a stopped viewer only when its acks say the backlog arrived, and
// waiting a whole interval for that is the viewer's time at a frozen picture. A bounded few
// per silence, so a source gap that silences every viewer at once adds little to the relay.
import { ACK_INTERVAL_MS, MAX_ACK_MS, MIN_ACK_MS, type AckMessage } from '../protocol/messages.js';

/** Nothing received for this long (ms) is a silence. */
export const SILENCE_MS = 2 * ACK_INTERVAL_MS;
/** After a silence: acks this far apart (ms) ... */
export const QUICK_ACK_MS = 100;
/** ... this many times after the first. */
export const QUICK_ACKS = 2;

export class AckSchedule {
  #intervalMs: number;
  #pending: AckMessage | null = null;
  #lastSentAt = -Infinity;
  #lastReceivedAt = -Infinity;
  /** Acks left to send at QUICK_ACK_MS (the first after a silence included). */
  #quick = 0;

  constructor(intervalMs = ACK_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /** What a relay's hello asked for (hello.ackMs): that within bounds, else ACK_INTERVAL_MS, whatever an earlier relay asked. */
  askedFor(ms: unknown): void {
    this.#intervalMs = typeof ms === 'number' && Number.isInteger(ms) && ms >= MIN_ACK_MS && ms <= MAX_ACK_MS ? ms : ACK_INTERVAL_MS;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** A chunk of generation `g` with sequence number `seq` arrived at `now` (ms). */
  received(g: number, seq: number, now: number): void {
    if (now - this.#lastReceivedAt >= Math.max(SILENCE_MS, this.#intervalMs)) this.#quick = QUICK_ACKS + 1;
    this.#lastReceivedAt = now;
    this.#pending = { type: 'ack', g, seq };
  }

  /** The socket dropped: what was received on it is nobody's business now. */
  reset(): void {
    this.#pending = null;
    this.#lastSentAt = -Infinity;
    this.#lastReceivedAt = -Infinity;
    this.#quick = 0;
  }

  /** The ack to send at `now` (ms), or null; a returned ack counts as sent. */
  take(now: number): AckMessage | null {
    if (!this.#pending || now - this.#lastSentAt < this.#gapMs()) return null;
    const m = this.#pending;
    this.#pending = null;
    this.#lastSentAt = now;
    if (this.#quick > 0) this.#quick--;
    return m;
  }

  /** Ms from `now` until a pending ack may go; -1 when none is pending. */
  waitMs(now: number): number {
    if (!this.#pending) return -1;
    return Math.max(0, this.#gapMs() - (now - this.#lastSentAt));
  }

  #gapMs(): number {
    return this.#quick > 0 ? Math.min(QUICK_ACK_MS, this.#intervalMs) : this.#intervalMs;
  }
}
