// When the player pings the relay (each pong is a clock-offset and RTT sample, player/clock.ts):
// not at once on open, where the joiner's GOP burst would delay the pong, then a few quick ones
// so the offset is known early, then every pingIntervalMs.

/** First ping this long (ms) after open: the joiner's GOP burst would delay the pong. */
export const FIRST_PING_MS = 500;
/** Pings this far apart (ms) until this many were sent on the socket, then pingIntervalMs. */
export const QUICK_PING_MS = 250;
export const QUICK_PINGS = 6;

export class PingSchedule {
  #next = Infinity;
  #sent = 0;

  /** A socket opened at `now` (ms): start over with the first ping. */
  opened(now: number): void {
    this.#sent = 0;
    this.#next = now + FIRST_PING_MS;
  }

  /** True when a ping is due at `now` (ms); the ping is then counted and the next one scheduled. */
  due(now: number, intervalMs: number): boolean {
    if (now < this.#next) return false;
    this.#sent += 1;
    this.#next = now + (this.#sent < QUICK_PINGS ? QUICK_PING_MS : intervalMs);
    return true;
  }
}
