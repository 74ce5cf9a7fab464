// The join's stages for stats.startup: where the time to first frame goes, in every engine
// (no init script needed, as WebKit's WebDriver has none). Times are ms after navigation start
// (performance.timeOrigin), as the page heard them: a worker's events arrive a task later.
import type { EngineEvent } from './engine.js';
import type { StartupTimes } from './events.js';

export class StartupTimeline {
  readonly #origin: number;
  readonly #t: Omit<StartupTimes, 'frame'>;

  /** `startedAt`: local ms the player started; `origin`: performance.timeOrigin. */
  constructor(startedAt: number, origin: number) {
    this.#origin = origin;
    this.#t = { player: startedAt - origin, open: NaN, media: NaN, appended: NaN };
  }

  /** Notes the first of each stage, from an engine event heard at local ms `now`. */
  note(ev: EngineEvent, now: number): void {
    const at = now - this.#origin;
    const t = this.#t;
    if (ev.type === 'open' && Number.isNaN(t.open)) t.open = at;
    else if (ev.type === 'frame' && ev.kind === 'media' && Number.isNaN(t.media)) t.media = at;
    // The queue also drains after the init segment alone: only a drain after media counts.
    else if (ev.type === 'idle' && !Number.isNaN(t.media) && Number.isNaN(t.appended)) t.appended = at;
  }

  /** The stages so far; `firstFrameAt` is the local ms of the first presented frame (NaN before). */
  times(firstFrameAt: number): StartupTimes {
    return { ...this.#t, frame: firstFrameAt - this.#origin };
  }
}
