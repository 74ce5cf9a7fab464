// The prft wall clock of an SRT caller's chunks, as if FFmpeg had not held them for audio.
// With FFmpeg's MPEG-TS defaults a caller sends AAC in PES packets of ~0.2 s, and the remux
// writes each video frame only once the audio covering it is in: frames leave in bursts, all
// stamped with the moment of the burst. The player's arrival jitter (player/jitter.ts), read
// from those stamps, then sees a steady stream and keeps no buffer for the bursts: it stalls
// between them (3–4 stalls in 30 s, bench:glass --ingest srt).
// Restamped on a media clock anchored at the least-held chunk of the last 10 s (the freshest
// frames of a burst), each chunk says when its media could have been written: a held frame gets
// an earlier stamp, the player measures the hold as jitter and keeps a buffer that covers it.
// A stamp is never later than FFmpeg's own; steady streams keep theirs within a few ms.
import type { TrackTime } from '../../media/types.js';

/** What an anchor may lag before it is taken as a timestamp discontinuity (a hold is ≤ ~0.5 s). */
const MAX_HOLD_MS = 1_000;

export class HoldRestamp {
  /** (write time, wall − media) points, `off` increasing: the front is the window's least. */
  #q: Array<{ at: number; off: number }> = [];
  readonly #windowMs: number;

  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs;
  }

  /** A new timeline (init segment): what came before says nothing. */
  reset(): void {
    this.#q = [];
  }

  /** The stamp (ms) for a chunk of media time `dtsS` (s) that FFmpeg wrote at `prftMs`. */
  stamp(prftMs: number, dtsS: number): number {
    if (!Number.isFinite(prftMs) || !Number.isFinite(dtsS)) return prftMs;
    const off = prftMs - dtsS * 1000;
    while (this.#q.length && this.#q[0]!.at < prftMs - this.#windowMs) this.#q.shift();
    if (this.#q.length && off - this.#q[0]!.off > MAX_HOLD_MS) this.#q = [];
    while (this.#q.length && this.#q.at(-1)!.off >= off) this.#q.pop();
    this.#q.push({ at: prftMs, off });
    return Math.min(prftMs, dtsS * 1000 + this.#q[0]!.off);
  }
}

const NTP_UNIX_OFFSET = 2208988800;

/**
 * Rewrites the ntp_timestamp of the prft box `chunk` starts with, and with `ref` what media it
 * stamps (reference_track_ID and media_time, so the pair stays true); false when it has none.
 */
export function writePrft(chunk: Buffer, wallMs: number, ref?: TrackTime): boolean {
  if (chunk.length < 24 || chunk.toString('latin1', 4, 8) !== 'prft') return false;
  if (ref) {
    const v1 = chunk[8] === 1;
    if (chunk.length < (v1 ? 32 : 28)) return false;
    chunk.writeUInt32BE(ref.trackId, 12);
    if (v1) {
      chunk.writeUInt32BE(Math.floor(ref.ticks / 2 ** 32), 24);
      chunk.writeUInt32BE(ref.ticks % 2 ** 32, 28);
    } else chunk.writeUInt32BE(ref.ticks % 2 ** 32, 24);
  }
  const s = Math.floor(wallMs / 1000);
  chunk.writeUInt32BE(s + NTP_UNIX_OFFSET, 16);
  chunk.writeUInt32BE(Math.min(2 ** 32 - 1, Math.round(((wallMs - s * 1000) / 1000) * 2 ** 32)), 20);
  return true;
}
