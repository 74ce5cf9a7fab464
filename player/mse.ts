// MediaSource + one SourceBuffer, fed through a serial queue. SourceBuffer operations
// are asynchronous and may not overlap, so every mutation (append, remove, changeType,
// timestampOffset) is an op that runs only while the buffer is idle.
//
// ManagedMediaSource (iPhone, iPad: the only MSE there) is the same API with three rules of
// its own: it opens only with remote playback disabled (or an AirPlay alternative); it says
// with startstreaming/endstreaming when it wants data; and it may evict buffered media at any
// time (bufferedchange). A live push keeps appending whatever `streaming` says, as mpegts.js
// does: WebKit ends streaming only once 30 s are buffered ahead, which a live edge never has,
// and gating appends on it stalled playback when an event went missing (WebKit bug 321919).
import { isManaged, mediaSourceCtor, type MediaAttachment, type MediaSourceCtor } from './attachment.js';

export { elementAttachment, isManaged, mediaSourceCtor, type EarlyMediaSource, type MediaAttachment, type MediaSourceCtor } from './attachment.js';

/** Runs with the SourceBuffer idle; returns true if it started an update (wait for updateend). */
export type SourceBufferOp = (sb: SourceBuffer) => boolean;

/**
 * Queued media appends, and the bookkeeping between them, are tagged so that a run of them
 * becomes one append: a joiner's GOP burst (30–50 chunks) took one updateend round trip per
 * chunk, 80–280 ms between the first append and loadedmetadata in Chromium.
 */
type TaggedOp = SourceBufferOp & { media?: Uint8Array<ArrayBuffer>; sync?: true };

export interface MseHandlers {
  /** The queue drained after doing work. */
  idle(): void;
  error(code: 'APPEND_FAILED' | 'MEDIA_ERROR', message: string): void;
}

/** What ManagedMediaSource did (all zero and `streaming` true for a classic MediaSource). */
export interface ManagedCounters {
  /** The MediaSource is a ManagedMediaSource. */
  managed: boolean;
  /** Its `streaming` now. */
  streaming: boolean;
  /** startstreaming and endstreaming events. */
  streamingChanges: number;
  /** bufferedchange evictions of media behind the playhead (the browser trimming for us). */
  evictedBehind: number;
  /** Evictions of media at or ahead of the playhead: the stream is started over from a keyframe. */
  evictedAhead: number;
}

/** Remove the back buffer in batches of at least this many seconds, not on every tick. */
const TRIM_SLACK_S = 1;
/** On QuotaExceededError keep only this much behind currentTime before retrying. */
const HARD_EVICT_KEEP_S = 1;

export function isTypeSupported(mime: string, ctor: MediaSourceCtor | undefined = mediaSourceCtor()): boolean {
  return ctor?.isTypeSupported(mime) ?? false;
}

function isQuotaError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';
}

export class MseSink {
  #ms: MediaSource | undefined;
  #undoAttach: (() => void) | undefined;
  #sb: SourceBuffer | undefined;
  #mime = '';
  #queue: TaggedOp[] = [];
  #worked = false;
  #destroyed = false;
  /** Chunks dropped because the buffer stayed full after eviction. */
  droppedChunks = 0;
  readonly managed: ManagedCounters = { managed: false, streaming: true, streamingChanges: 0, evictedBehind: 0, evictedAhead: 0 };

  readonly #element: MediaAttachment;
  readonly #on: MseHandlers;

  constructor(element: MediaAttachment, on: MseHandlers) {
    this.#element = element;
    this.#on = on;
    this.#attach();
  }

  get buffered(): TimeRanges | undefined {
    try {
      return this.#sb?.buffered;
    } catch {
      return undefined; // the SourceBuffer was removed from a closed MediaSource
    }
  }

  get timestampOffset(): number {
    return this.#sb?.timestampOffset ?? 0;
  }

  /** True when appends are idle and nothing is queued. */
  get idle(): boolean {
    return this.#queue.length === 0 && !this.#sb?.updating;
  }

  /**
   * Queues an init segment. A different mime switches the SourceBuffer with changeType,
   * or, where that is missing, recreates the MediaSource. Returns true in that last case:
   * the timeline restarted and the caller must start over at the live edge.
   */
  appendInit(mime: string, data: Uint8Array<ArrayBuffer>): boolean {
    let recreated = false;
    if (this.#mime && mime !== this.#mime) {
      // changeType keeps the tracks: an init segment with another number of them (a publisher
      // that adds or drops audio) needs a new SourceBuffer, so a new MediaSource.
      if (this.#sb && typeof this.#sb.changeType === 'function' && trackCount(mime) === trackCount(this.#mime)) {
        this.enqueue((sb) => {
          sb.changeType(mime);
          return false;
        });
      } else {
        this.recreate();
        recreated = true;
      }
    }
    this.#mime = mime;
    this.#ensureSourceBuffer();
    this.enqueue(this.#appendOp(data, 0));
    return recreated;
  }

  appendMedia(data: Uint8Array<ArrayBuffer>): void {
    this.enqueue(Object.assign(this.#appendOp(data, 1), { media: data }));
  }

  /**
   * Bookkeeping that must run in queue order (it reads timestampOffset as the next append
   * will use it) but touches no media: it may run ahead of the appends it sits among.
   */
  note(fn: (sb: SourceBuffer) => void): void {
    this.enqueue(Object.assign((sb: SourceBuffer) => { fn(sb); return false; }, { sync: true as const }));
  }

  enqueue(op: SourceBufferOp): void {
    this.#queue.push(op);
    this.#pump();
  }

  /** Removes media older than currentTime − seconds, in batches. */
  trimBackBuffer(seconds: number): void {
    const b = this.buffered;
    if (!b || b.length === 0) return;
    const cut = this.#element.currentTime() - seconds;
    if (cut - b.start(0) < TRIM_SLACK_S) return;
    this.enqueue((sb) => {
      const r = sb.buffered;
      if (r.length === 0 || cut <= r.start(0)) return false;
      sb.remove(0, cut);
      return true;
    });
  }

  /** Throws away MediaSource, SourceBuffer and queue, and attaches a fresh MediaSource. */
  recreate(): void {
    this.#detach();
    this.#attach();
  }

  /** Idempotent: detaches the MediaSource and releases the element's decoder. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#detach();
    this.#element.release();
  }

  #attach(): void {
    const Ctor = this.#element.mediaSource;
    if (!Ctor) throw new Error('MediaSource is not available');
    const early = this.#element.attached?.();
    const ms = early?.ms ?? new Ctor();
    this.#ms = ms;
    ms.addEventListener('sourceopen', this.#onSourceOpen);
    this.managed.managed = isManaged(ms);
    if (this.managed.managed) {
      this.managed.streaming = (ms as MediaSource & { streaming?: boolean }).streaming ?? true;
      ms.addEventListener('startstreaming', this.#onStreaming);
      ms.addEventListener('endstreaming', this.#onStreaming);
    }
    this.#undoAttach = early ? early.undo : this.#element.attach(ms);
    // An early MediaSource may have opened before anyone listened.
    if (early && ms.readyState === 'open') this.#onSourceOpen();
  }

  #detach(): void {
    const ms = this.#ms;
    if (ms) {
      ms.removeEventListener('sourceopen', this.#onSourceOpen);
      ms.removeEventListener('startstreaming', this.#onStreaming);
      ms.removeEventListener('endstreaming', this.#onStreaming);
    }
    if (this.#sb) {
      this.#sb.removeEventListener('updateend', this.#onUpdateEnd);
      this.#sb.removeEventListener('error', this.#onSbError);
      this.#sb.removeEventListener('bufferedchange', this.#onBufferedChange);
      if (ms?.readyState === 'open') {
        try {
          if (this.#sb.updating) this.#sb.abort();
          ms.removeSourceBuffer(this.#sb);
        } catch {
          // Already detached; nothing left to release.
        }
      }
    }
    this.#undoAttach?.();
    this.#undoAttach = undefined;
    this.#ms = undefined;
    this.#sb = undefined;
    this.#mime = '';
    this.#queue = [];
  }

  readonly #onSourceOpen = (): void => {
    const ms = this.#ms;
    if (!ms) return;
    // Live: an infinite duration keeps the element from treating the buffered end as the end.
    try {
      ms.duration = Infinity;
    } catch {
      // Some engines refuse before a SourceBuffer exists; appends set it anyway.
    }
    this.#ensureSourceBuffer();
  };

  #ensureSourceBuffer(): void {
    if (this.#sb || !this.#mime || this.#ms?.readyState !== 'open') return;
    try {
      this.#sb = this.#ms.addSourceBuffer(this.#mime);
    } catch (e) {
      this.#on.error('MEDIA_ERROR', `addSourceBuffer(${this.#mime}) failed: ${String(e)}`);
      return;
    }
    this.#sb.addEventListener('updateend', this.#onUpdateEnd);
    this.#sb.addEventListener('error', this.#onSbError);
    if (this.managed.managed) this.#sb.addEventListener('bufferedchange', this.#onBufferedChange);
    this.#pump();
  }

  /** Counted only: appends go on either way (see the top of this file). */
  readonly #onStreaming = (e: Event): void => {
    this.managed.streamingChanges++;
    this.managed.streaming = e.type === 'startstreaming';
  };

  /**
   * The browser removed buffered media. Behind the playhead it did our trim; at or ahead of
   * it, frames we appended are gone and the decoder would stall or skip to a later range
   * without its keyframe: start over (a new MediaSource, the relay's last keyframe onwards).
   */
  readonly #onBufferedChange = (e: Event): void => {
    if (evictedAhead((e as Event & { removedRanges?: TimeRanges }).removedRanges, this.#element.currentTime())) {
      this.managed.evictedAhead++;
      this.#on.error('MEDIA_ERROR', 'ManagedMediaSource evicted media at or ahead of the playhead');
    } else this.managed.evictedBehind++;
  };

  readonly #onUpdateEnd = (): void => this.#pump();

  readonly #onSbError = (): void => {
    this.#on.error('APPEND_FAILED', `SourceBuffer could not parse or decode an append (${this.#mime})`);
  };

  /** An append of `data`: `chunks` media chunks (0: an init segment). */
  #appendOp(data: Uint8Array<ArrayBuffer>, chunks: number): SourceBufferOp {
    let retried = false;
    const op: SourceBufferOp = (sb) => {
      try {
        sb.appendBuffer(data);
        return true;
      } catch (e) {
        if (!isQuotaError(e)) throw e;
        const r = sb.buffered;
        const cut = this.#element.currentTime() - HARD_EVICT_KEEP_S;
        if (!retried && r.length > 0 && cut > r.start(0)) {
          // Evict harder, then run this same append again right after the remove.
          retried = true;
          this.#queue.unshift((again) => op(again)); // untagged: the retry is not merged with more
          sb.remove(0, cut);
          return true;
        }
        if (chunks) this.droppedChunks += chunks;
        else this.#on.error('APPEND_FAILED', 'SourceBuffer full: init segment dropped');
        return false;
      }
    };
    return op;
  }

  /**
   * A media append with more media appends queued right after it (notes between them run now:
   * no append in the run changes timestampOffset) becomes one append of all of them.
   */
  #batch(sb: SourceBuffer, op: TaggedOp): SourceBufferOp {
    if (!op.media) return op;
    const q = this.#queue;
    let n = 0;
    while (n < q.length && (q[n]!.media || q[n]!.sync)) n++;
    if (!q.slice(0, n).some((o) => o.media)) return op;
    const parts = [op.media];
    for (const next of q.splice(0, n)) {
      if (next.media) parts.push(next.media);
      else next(sb);
    }
    const all = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.byteLength; }
    return this.#appendOp(all, parts.length);
  }

  #pump(): void {
    const sb = this.#sb;
    while (sb && sb === this.#sb && !sb.updating && this.#ms?.readyState === 'open' && this.#queue.length > 0) {
      const op = this.#batch(sb, this.#queue.shift()!);
      this.#worked = true;
      let started = false;
      try {
        started = op(sb);
      } catch (e) {
        // InvalidStateError and friends: the MediaSource broke under us; report, keep going.
        this.#on.error('APPEND_FAILED', `SourceBuffer operation failed: ${String(e)}`);
      }
      if (started) return;
    }
    if (this.#worked && this.idle && this.#sb) {
      this.#worked = false;
      this.#on.idle();
    }
  }
}

/** Whether removed ranges reach the playhead or beyond (a small slack for the frame on screen). */
export function evictedAhead(removed: Pick<TimeRanges, 'length' | 'end'> | undefined, currentTime: number): boolean {
  if (!removed) return false;
  for (let i = 0; i < removed.length; i++) if (removed.end(i) > currentTime + 0.05) return true;
  return false;
}

/** Number of codecs (tracks) in a `type/sub; codecs="a,b"` mime. */
function trackCount(mime: string): number {
  return (/codecs="([^"]*)"/.exec(mime)?.[1] ?? '').split(',').length;
}
