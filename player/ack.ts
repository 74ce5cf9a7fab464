// Acknowledgements (docs/protocol.md#ack): the player tells the relay the newest chunk it
// received, so the relay can bound the media in flight to it whatever the kernel buffers.
// At most one ack per ACK_INTERVAL_MS, and a last one after a burst ends, so the relay always
// learns of the newest chunk within an interval; nothing while nothing new arrives.
import { ACK_INTERVAL_MS, type AckMessage } from '../protocol/messages.js';

export class AckSchedule {
  readonly #intervalMs: number;
  #pending: AckMessage | null = null;
  #lastSentAt = -Infinity;

  constructor(intervalMs = ACK_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /** A chunk of generation `g` with sequence number `seq` arrived. */
  received(g: number, seq: number): void {
    this.#pending = { type: 'ack', g, seq };
  }

  /** The socket dropped: what was received on it is nobody's business now. */
  reset(): void {
    this.#pending = null;
    this.#lastSentAt = -Infinity;
  }

  /** The ack to send at `now` (ms), or null; a returned ack counts as sent. */
  take(now: number): AckMessage | null {
    if (!this.#pending || now - this.#lastSentAt < this.#intervalMs) return null;
    const m = this.#pending;
    this.#pending = null;
    this.#lastSentAt = now;
    return m;
  }

  /** Ms from `now` until a pending ack may go; -1 when none is pending. */
  waitMs(now: number): number {
    if (!this.#pending) return -1;
    return Math.max(0, this.#intervalMs - (now - this.#lastSentAt));
  }
}
