// Where the player's MediaSource plays, and of which kind: the page's <video> (an object URL as
// its src), or a worker's MediaSource whose handle the page attaches (player/worker.ts); classic
// MediaSource or ManagedMediaSource (player/mse.ts says what the latter's rules are).
import type { MediaSourceChoice } from './config.js';

export type MediaSourceCtor = typeof MediaSource;

/**
 * The MediaSource to use. auto: MediaSource, or ManagedMediaSource where only that exists (an
 * iPhone); managed: ManagedMediaSource wherever it exists (desktop Safari, WebKit: the iPhone
 * path, testable); classic: never ManagedMediaSource.
 */
export function mediaSourceCtor(choice: MediaSourceChoice = 'auto', g: object = globalThis): MediaSourceCtor | undefined {
  const { MediaSource: classic, ManagedMediaSource: managed } = g as { MediaSource?: MediaSourceCtor; ManagedMediaSource?: MediaSourceCtor };
  if (choice === 'managed') return managed ?? classic;
  if (choice === 'classic') return classic;
  return classic ?? managed;
}

/** Whether a MediaSource (or its constructor) is a ManagedMediaSource. */
export function isManaged(ms: MediaSource | MediaSourceCtor | undefined, g: object = globalThis): boolean {
  const M = (g as { ManagedMediaSource?: MediaSourceCtor }).ManagedMediaSource;
  if (!M || !ms) return false;
  return ms === M || ms instanceof M;
}

/**
 * Where the MediaSource plays: the page's <video> (same thread, an object URL), or a worker's
 * MediaSource whose handle the page attaches (player/worker.ts).
 */
export interface MediaAttachment {
  /** The MediaSource constructor to use here (mediaSourceCtor); undefined: none exists. */
  readonly mediaSource: MediaSourceCtor | undefined;
  /** Attaches a fresh MediaSource to the element; returns what undoes the attach. */
  attach(ms: MediaSource): () => void;
  /** A MediaSource of that kind the page attached to the element already (EarlyMedia), once; with what undoes it. */
  attached?(): { ms: MediaSource; undo: () => void } | undefined;
  /** The element's currentTime (s): live on the page, as last reported in a worker. */
  currentTime(): number;
  /** The last MediaSource is gone: release the element's decoder. */
  release(): void;
}

/**
 * A MediaSource the page attached to the player's <video> (its object URL `url` as the src)
 * before the player had loaded: the /watch page does, because attaching one costs WebKitGTK's
 * main thread 30–75 ms (its media pipeline is built), which then overlaps the bundle's download.
 */
export interface EarlyMediaSource {
  ms: MediaSource;
  url: string;
}

/**
 * The same-thread attachment: an object URL as the <video>'s src. Its first MediaSource is
 * `early` if that is of the kind chosen (config.mediaSource); else `early` is dropped and a
 * fresh one attached.
 */
export function elementAttachment(video: HTMLVideoElement, mediaSource: MediaSourceCtor | undefined = mediaSourceCtor(), early?: EarlyMediaSource): MediaAttachment {
  let offered = early;
  return {
    mediaSource,
    attached() {
      const o = offered;
      if (!o) return undefined;
      offered = undefined;
      // Exactly that kind: a ManagedMediaSource is also an instance of MediaSource.
      if (!mediaSource || o.ms.constructor !== mediaSource) {
        URL.revokeObjectURL(o.url); // the src is replaced by the player's own attach
        return undefined;
      }
      if (isManaged(o.ms)) video.disableRemotePlayback = true;
      return { ms: o.ms, undo: () => URL.revokeObjectURL(o.url) };
    },
    attach(ms) {
      // ManagedMediaSource only opens when remote playback (AirPlay) is disabled; AirPlay
      // could play the stream's LL-HLS instead, but an alternative <source> would change how
      // the element loads (and the blob URL must come first): not done.
      if (isManaged(ms)) video.disableRemotePlayback = true;
      const url = URL.createObjectURL(ms);
      video.src = url;
      return () => URL.revokeObjectURL(url);
    },
    currentTime: () => video.currentTime,
    release() {
      video.removeAttribute('src');
      video.load(); // releases the decoder and the old MediaSource
    },
  };
}
