// The page's copy of what the media engine reports (player/engine.ts): the prft anchors as a
// MediaClock, the arrivals as ArrivalJitter, the latest keyframes, and what is appended now.
// The engine may run in a worker, so the playback side reads only this copy.
import { MAX_JITTER_MS, type InfoMessage } from '../protocol/messages.js';
import { MediaClock } from './clock.js';
import type { EngineEvent } from './engine.js';
import { ArrivalJitter } from '../protocol/arrival-jitter.js';

/** Keyframes kept: enough to find the latest one at or before the buffered end. */
const MAX_KEYFRAMES = 8;

export class MediaMirror {
  readonly clock = new MediaClock();
  readonly jitter = new ArrivalJitter();
  /** The relay's measure of the stream's arrival jitter (s, hello.jitterMs); NaN when not given. */
  #jitterHint = NaN;
  /** The info of what is appended now. */
  info: InfoMessage | undefined;
  /** The announced codecs cannot be decoded (media is dropped until a new info). */
  unsupported = false;
  droppedChunks = 0;
  /** Rendition switches (ABR): a new init within the same generation with other codecs or another video size. */
  switches = 0;
  /** Media times (s, on the SourceBuffer timeline) of the latest keyframes, oldest first. */
  #keyframes: number[] = [];

  /** Applies an event; returns false for events the mirror does not keep. */
  apply(ev: EngineEvent): boolean {
    switch (ev.type) {
      case 'anchor':
        this.clock.add(ev.media, ev.wall);
        return true;
      case 'arrival':
        this.jitter.add(ev.at, ev.wall);
        return true;
      case 'keyframe':
        this.#keyframes.push(ev.at);
        if (this.#keyframes.length > MAX_KEYFRAMES) this.#keyframes.shift();
        return true;
      case 'current':
        if (isSwitch(this.info, ev.info)) this.switches++;
        this.info = ev.info;
        return true;
      case 'dropped':
        this.droppedChunks = ev.chunks;
        return true;
      case 'disconnected':
        this.jitter.reset();
        this.#jitterHint = NaN;
        return false;
      case 'restarted':
        this.#keyframes = [];
        this.clock.reset();
        this.jitter.reset();
        return false;
      case 'message':
        if (ev.msg.type === 'info') this.unsupported = ev.unsupported !== undefined;
        if (ev.msg.type === 'hello') this.#jitterHint = hintSeconds(ev.msg.jitterMs);
        return false;
      default:
        return false;
    }
  }

  /**
   * The arrival jitter (s) the buffer floor allows for: the page's own measure, or until it has
   * one (the first seconds after a join) the relay's. On a stream whose chunks come in bursts
   * (an SRT caller with FFmpeg's MPEG-TS defaults) the page would otherwise stall once before
   * its own measure sees them.
   */
  jitterAt(now: number): number {
    const own = this.jitter.value(now);
    return Number.isNaN(own) ? this.#jitterHint : own;
  }

  /** The relay's measure (s, hello.jitterMs): the jitter the stream brings from its source; NaN when not given. */
  get sourceJitter(): number {
    return this.#jitterHint;
  }

  /** The latest keyframe (s) at or before `end`; NaN when none is known. */
  latestKeyframe(end: number): number {
    for (let i = this.#keyframes.length - 1; i >= 0; i--) if (this.#keyframes[i]! <= end) return this.#keyframes[i]!;
    return NaN;
  }
}

/** Another rendition of the same generation: what a relay's ABR switch looks like (an encoder change of the publisher is a new generation). */
export function isSwitch(prev: InfoMessage | undefined, next: InfoMessage | undefined): boolean {
  if (!prev || !next || prev.generation !== next.generation) return false;
  const size = (i: InfoMessage): string => i.tracks.filter((t) => t.kind === 'video').map((t) => `${t.width}x${t.height}`).join();
  return prev.codecs !== next.codecs || size(prev) !== size(next);
}

/** hello.jitterMs in seconds; NaN unless a plausible number (0–MAX_JITTER_MS): the relay's word is a hint. */
function hintSeconds(ms: unknown): number {
  return typeof ms === 'number' && ms >= 0 && ms <= MAX_JITTER_MS ? ms / 1000 : NaN;
}
