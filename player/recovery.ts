// How many media errors the player recovers from (a new MediaSource and a new connection)
// before it gives up: a stream that breaks the decoder again and again is fatal.

/** More media errors than this within a minute is fatal. */
export const MAX_RECOVERIES_PER_MIN = 3;
/** One broken append fires both a SourceBuffer and a <video> error within this (ms): one failure. */
export const SAME_FAILURE_MS = 1000;
const MINUTE_MS = 60_000;

/** 'duplicate': the same failure reported again, ignore it. */
export type RecoveryVerdict = 'recover' | 'give-up' | 'duplicate';

export class RecoveryBudget {
  #times: number[] = [];

  /** A media error at `now` (ms): recover from it, give up, or ignore it as a duplicate. */
  note(now: number): RecoveryVerdict {
    const last = this.#times[this.#times.length - 1];
    if (last !== undefined && now - last < SAME_FAILURE_MS) return 'duplicate';
    this.#times = this.#times.filter((t) => now - t < MINUTE_MS);
    this.#times.push(now);
    return this.#times.length > MAX_RECOVERIES_PER_MIN ? 'give-up' : 'recover';
  }
}
