// How many media errors the player recovers from (a new MediaSource and a new connection)
// before it gives up: a stream that breaks the decoder again and again is fatal.
//
// One broken append fires both a SourceBuffer and a <video> error, so the reports that come
// after a recovery began and before the new MediaSource got any media are that same failure.
// Not a time window: on WebKitGTK the new MediaSource's first append failed again ("Failed to
// push buffer") 0.3–0.8 s after the recovery, which a one-second window took for the old
// failure, and the player then sat stuck on a dead MediaSource.

/** More media errors than this within a minute is fatal. */
export const MAX_RECOVERIES_PER_MIN = 3;
const MINUTE_MS = 60_000;

/** 'duplicate': the same failure reported again, ignore it. */
export type RecoveryVerdict = 'recover' | 'give-up' | 'duplicate';

export class RecoveryBudget {
  #times: number[] = [];
  /** A recovery began and its new MediaSource has had no media yet. */
  #awaitingMedia = false;

  /** A media error at `now` (ms): recover from it, give up, or ignore it as a duplicate. */
  note(now: number): RecoveryVerdict {
    if (this.#awaitingMedia) return 'duplicate';
    this.#times = this.#times.filter((t) => now - t < MINUTE_MS);
    this.#times.push(now);
    if (this.#times.length > MAX_RECOVERIES_PER_MIN) return 'give-up';
    this.#awaitingMedia = true;
    return 'recover';
  }

  /** An init segment or chunk reached the (new) MediaSource: later errors are new failures. */
  mediaArrived(): void {
    this.#awaitingMedia = false;
  }
}
