// What an edge does with the frames of one stream, as a pure state machine (no NATS), so its
// rules are unit-tested frame by frame:
// - an init of a new origin generation re-inits the local stream; a repeat is ignored;
// - chunks of another generation, or already applied (snapshot then live), are ignored;
// - a hole in the chunk sequence re-inits the local stream from the same init, so viewers
//   wait for the next keyframe instead of decoding a chunk whose references are missing;
// - while a snapshot is being fetched, live frames are held, then applied after it.
import type { MediaSink } from '../media/sink.js';
import type { InitSegment } from '../media/types.js';
import type { Frame } from './wire.js';

/** Live frames held while a snapshot is fetched; ~30 s at 30 chunks/s, far past its timeout. */
export const MAX_HELD = 1000;

export interface SequencerCounters {
  gaps: number;
  /** Frames ignored: other generation, repeats, or chunks before any init. */
  ignored: number;
}

export class Sequencer {
  readonly counters: SequencerCounters;
  #sink: MediaSink;
  #generation = -1;
  /** Last chunk seq applied; -1 right after an init (the next chunk starts the count). */
  #lastSeq = -1;
  #init: InitSegment | null = null;
  #syncing = false;
  #held: Frame[] = [];

  /** `counters` may be shared (an edge's totals over all its streams). */
  constructor(sink: MediaSink, counters: SequencerCounters = { gaps: 0, ignored: 0 }) {
    this.#sink = sink;
    this.counters = counters;
  }

  get syncing(): boolean {
    return this.#syncing;
  }

  /** True while no init is applied: chunks are being ignored. */
  get needsInit(): boolean {
    return this.#init === null;
  }

  /** A snapshot is coming: hold live frames, and re-init from whatever init comes first. */
  beginSync(): void {
    this.#syncing = true;
    this.#held = [];
    this.#init = null;
  }

  /** A frame of the snapshot (init, state, GOP chunks), applied at once. */
  snapshot(f: Frame): void {
    this.#apply(f);
  }

  /**
   * The snapshot is complete. With its end marker, chunks up to its seq were in it (held live
   * copies are repeats); without one (a KV fallback), the next chunk starts the count.
   */
  endSync(end?: { generation: number; seq: number }): void {
    if (end && end.generation === this.#generation && this.#init) this.#lastSeq = end.seq;
    this.#syncing = false;
    const held = this.#held;
    this.#held = [];
    for (const f of held) this.#apply(f);
  }

  /** A frame from the stream's live subject. */
  live(f: Frame): void {
    if (!this.#syncing) {
      this.#apply(f);
      return;
    }
    if (this.#held.length >= MAX_HELD) this.#held.shift();
    this.#held.push(f);
  }

  /** The link to the origin is gone: forget the init, so the next sync re-inits viewers. */
  lost(code: string, message: string): void {
    this.#init = null;
    this.#sink.failure(code, message);
  }

  #apply(f: Frame): void {
    switch (f.kind) {
      case 'init':
        if (this.#init && f.generation === this.#generation) {
          this.counters.ignored++;
          return;
        }
        this.#generation = f.generation;
        this.#init = f.init;
        this.#lastSeq = -1;
        this.#sink.init(f.init, f.generation);
        return;
      case 'chunk':
        if (!this.#init || f.generation !== this.#generation || (this.#lastSeq >= 0 && f.seq <= this.#lastSeq)) {
          this.counters.ignored++;
          return;
        }
        if (this.#lastSeq >= 0 && f.seq !== this.#lastSeq + 1) {
          this.counters.gaps++;
          this.#sink.init(this.#init, this.#generation);
        }
        this.#lastSeq = f.seq;
        this.#sink.chunk(f.chunk);
        return;
      case 'state':
        if (f.state.state === 'offline') {
          this.#init = null;
          this.#sink.offline(f.state.code ?? 'publisher left');
        } else if (f.state.state === 'error') {
          this.#sink.failure(f.state.code ?? 'STREAM_ERROR', f.state.message ?? 'the stream failed at the origin');
        }
        // 'live' comes with its init, which already made the local stream live.
        return;
      case 'end':
        return;
    }
  }
}
