// Picks where the media engine runs: a dedicated worker when the browser plays a worker's
// MediaSource (MediaSource.canConstructInDedicatedWorker, Chromium ≥ 108), else the page.
// ManagedMediaSource (config.mediaSource) always runs on the page: it does not open in a
// worker (w3c/media-source#329).
// The worker's script is bundled into the library as a string (scripts/build-player.mjs), so
// the player stays one file; a page whose CSP refuses blob: workers falls back to the page.
// A page may instead start the worker itself, from dist/player/mse-worker.js, before the
// player has loaded, and hand it over (EarlyMedia): the /watch page does, since a worker
// takes 50–80 ms to start in Chromium here, which then overlaps the bundle's download.
import { MediaEngine } from './engine.js';
import type { EngineCommand, EngineEvent, EngineOptions, PlaybackView } from './engine.js';
import { elementAttachment, isManaged, mediaSourceCtor, type EarlyMediaSource, type ManagedCounters, type MediaSourceCtor } from './mse.js';
import type { MediaSourceChoice } from './config.js';
import { closeEarlySocket, type EarlySocket } from './transport.js';

/** esbuild defines this as the worker bundle's source; undefined outside a bundle (tests). */
declare const __NOWCAST_WORKER__: string | undefined;

/**
 * Page -> worker. `connect` comes from the /watch page's inline script as it starts the worker,
 * before the player exists: the worker opens the stream's socket at once, and the engine that
 * `start` makes takes it over if it goes to the same URL.
 */
export type WorkerCommand = { type: 'connect'; url: string } | { type: 'start'; options: EngineOptions } | EngineCommand;
/** Worker -> page, posted in batches (one postMessage per worker task). */
export type WorkerEvent = EngineEvent | { type: 'attach'; handle: MediaSourceHandle };

export interface MediaPath {
  /** The engine runs in a worker (false: on this thread). */
  readonly inWorker: boolean;
  /** What the ManagedMediaSource did; undefined in a worker (never managed there). */
  readonly managed: ManagedCounters | undefined;
  command(c: EngineCommand): void;
  /** Idempotent: closes the socket and releases the MediaSource and the element's decoder. */
  destroy(): void;
}

function workerSource(): string | undefined {
  return typeof __NOWCAST_WORKER__ === 'string' ? __NOWCAST_WORKER__ : undefined;
}

/** The browser plays a dedicated worker's MediaSource. */
function workerMse(): boolean {
  const MS = (globalThis as { MediaSource?: { canConstructInDedicatedWorker?: boolean } }).MediaSource;
  return typeof Worker === 'function' && MS?.canConstructInDedicatedWorker === true;
}

/** The browser can run the MSE worker and this build carries it. */
export function canUseWorker(): boolean {
  return workerSource() !== undefined && workerMse();
}

/**
 * What a page started before the player loaded, for its first media path to take over
 * (`new Player(video, options, early)`; docs/browsers.md): at most one of the two, as the
 * player would choose. What that path does not use is ended (the worker terminated, the
 * object URL revoked).
 */
export interface EarlyMedia {
  /** A worker running the MSE worker's script (dist/player/mse-worker.js), told nothing yet. */
  worker?: Worker;
  /** A MediaSource attached to the player's <video>. */
  mediaSource?: EarlyMediaSource;
  /** The stream's socket, opened with that MediaSource: the page's engine takes it over (a worker cannot). */
  socket?: EarlySocket;
}

/** Ends what a page started early and nobody took. */
export function releaseEarly(early: EarlyMedia | undefined): void {
  early?.worker?.terminate();
  if (early?.mediaSource) URL.revokeObjectURL(early.mediaSource.url);
  closeEarlySocket(early?.socket);
}

class LocalPath implements MediaPath {
  readonly inWorker = false;
  readonly #engine: MediaEngine;

  constructor(video: HTMLVideoElement, options: EngineOptions, onEvent: (ev: EngineEvent) => void, view: PlaybackView, ctor: MediaSourceCtor | undefined, early?: EarlyMediaSource, socket?: EarlySocket) {
    this.#engine = new MediaEngine(options, onEvent, elementAttachment(video, ctor, early), view, socket);
  }

  get managed(): ManagedCounters {
    return this.#engine.managed;
  }

  command(c: EngineCommand): void {
    this.#engine.command(c);
  }

  destroy(): void {
    this.#engine.destroy();
  }
}

class WorkerPath implements MediaPath {
  readonly inWorker = true;
  readonly managed = undefined;
  readonly #video: HTMLVideoElement;
  readonly #onEvent: (ev: EngineEvent) => void;
  /** The blob: URL of the worker's script when this path started it. */
  readonly #url: string | undefined;
  readonly #worker: Worker;
  #heard = false;
  #destroyed = false;

  constructor(
    video: HTMLVideoElement,
    options: EngineOptions,
    onEvent: (ev: EngineEvent) => void,
    /** The worker failed before it said anything: run on the page instead. */
    failed: (why: string) => void,
    /** A worker the page started already (EarlyMedia); else one is started from the bundle's copy. */
    early?: Worker,
  ) {
    this.#video = video;
    this.#onEvent = onEvent;
    if (early) {
      this.#worker = early;
    } else {
      const url = URL.createObjectURL(new Blob([workerSource()!], { type: 'text/javascript' }));
      this.#url = url;
      try {
        this.#worker = new Worker(url, { name: 'nowcast-mse' });
      } catch (e) {
        URL.revokeObjectURL(url);
        throw e;
      }
    }
    this.#worker.onmessage = (e: MessageEvent<WorkerEvent[]>) => this.#receive(e.data);
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const why = `MSE worker error: ${e.message || 'failed to start'}`;
      if (!this.#heard) failed(why);
      else this.#onEvent({ type: 'mediaError', code: 'MEDIA_ERROR', message: why });
    };
    this.#post({ type: 'start', options });
  }

  command(c: EngineCommand): void {
    this.#post(c);
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    // Terminating closes the worker's socket and MediaSource with it.
    this.#worker.terminate();
    if (this.#url !== undefined) URL.revokeObjectURL(this.#url);
    this.#video.srcObject = null;
    this.#video.load(); // releases the decoder
  }

  #post(c: WorkerCommand): void {
    if (!this.#destroyed) this.#worker.postMessage(c);
  }

  #receive(batch: WorkerEvent[]): void {
    if (this.#destroyed) return;
    this.#heard = true;
    for (const ev of batch) {
      // TypeScript's DOM types lack MediaSourceHandle as a MediaProvider; browsers take it.
      if (ev.type === 'attach') this.#video.srcObject = ev.handle as unknown as MediaProvider;
      else this.#onEvent(ev);
    }
  }
}

/** The worker path if wanted and possible, else (or when it fails to start) the page. */
export function openMediaPath(
  video: HTMLVideoElement,
  options: EngineOptions,
  wantWorker: boolean,
  onEvent: (ev: EngineEvent) => void,
  view: PlaybackView,
  mediaSource: MediaSourceChoice = 'auto',
  early?: EarlyMedia,
): MediaPath {
  const ctor = mediaSourceCtor(mediaSource);
  const local = (ms?: EarlyMediaSource, socket?: EarlySocket): MediaPath => new LocalPath(video, options, onEvent, view, ctor, ms, socket);
  if (!wantWorker || isManaged(ctor) || !(early?.worker ? workerMse() : canUseWorker())) {
    releaseEarly({ worker: early?.worker });
    return local(early?.mediaSource, early?.socket);
  }
  releaseEarly({ mediaSource: early?.mediaSource, socket: early?.socket });
  let path: MediaPath;
  const fallBack = (why: string): void => {
    path.destroy();
    onEvent({ type: 'log', text: `${why}; running on the main thread` });
    path = local();
  };
  try {
    path = new WorkerPath(video, options, onEvent, fallBack, early?.worker);
  } catch (e) {
    onEvent({ type: 'log', text: `MSE worker refused (${String(e)}); running on the main thread` });
    return local();
  }
  return {
    get inWorker() {
      return path.inWorker;
    },
    get managed() {
      return path.managed;
    },
    command: (c) => path.command(c),
    destroy: () => path.destroy(),
  };
}
