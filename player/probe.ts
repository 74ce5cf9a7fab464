// Bandwidth probes (docs/protocol.md#probe): the relay sends part 0 of a probe and, at once,
// part 1 padded to some kilobytes; they queue back to back on the path, so the time between
// their arrivals is what part 1's bytes take on its narrowest link. The player answers with that
// time at once; the relay turns it into a rate and switches up only to a rendition it showed the
// path can carry, instead of trying one and stalling when it cannot.

import type { ProbedMessage, ProbeMessage } from '../protocol/messages.js';

export class ProbeTimer {
  #id = -1;
  #at = NaN;

  /** A probe's part arrived at `now` (ms): the answer to send, once part 1 follows its part 0. */
  received(m: ProbeMessage, now: number): ProbedMessage | null {
    if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id) || m.id < 0) return null;
    if (m.part === 0) {
      this.#id = m.id;
      this.#at = now;
      return null;
    }
    if (m.part !== 1 || m.id !== this.#id || Number.isNaN(this.#at)) return null;
    const ms = Math.max(0, now - this.#at);
    this.#id = -1;
    this.#at = NaN;
    // Two decimals: enough for a fast path's fraction of a millisecond, short on the wire.
    return { type: 'probed', id: m.id, ms: Math.round(ms * 100) / 100 };
  }

  /** The socket dropped: a part 0 on it has no part 1 to come. */
  reset(): void {
    this.#id = -1;
    this.#at = NaN;
  }
}
