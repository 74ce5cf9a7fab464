// Acknowledgements (docs/protocol.md#ack): the player tells the relay the newest chunk it
// received, so the relay can bound the media in flight to it whatever the kernel buffers.
// At most one ack per ACK_INTERVAL_MS, and a last one after a burst ends, so the relay always
// learns of the newest chunk within an interval; nothing while nothing new arrives.
import { ACK_INTERVAL_MS, type AckMessage } from '../protocol/messages.js';
import { children } from './boxes.js';

/** The moof's mfhd sequence number, or undefined if the chunk has none readable. */
export function readMoofSeq(b: Uint8Array): number | undefined {
  for (const top of children(b, 0, b.byteLength)) {
    if (top.type !== 'moof') continue;
    for (const box of children(b, top.payload, top.end)) {
      if (box.type !== 'mfhd') continue;
      if (box.payload + 8 > box.end) return undefined;
      return ((b[box.payload + 4]! << 24) >>> 0) + (b[box.payload + 5]! << 16) + (b[box.payload + 6]! << 8) + b[box.payload + 7]!;
    }
    return undefined;
  }
  return undefined;
}

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
