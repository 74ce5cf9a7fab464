// Maps media time (the SourceBuffer timeline, seconds) to the wall clock at which the
// encoder wrote that media, from the prft boxes chunks carry. Latency is then simply
// "now − wall clock of the frame on screen".
//
// Anchors are kept per chunk (not just the latest) because the frame on screen is
// ~buffer-ahead older than the newest chunk, and across a generation change or a jump
// the newest anchor describes a different stretch of the timeline.

interface Anchor {
  media: number;
  wall: number;
}

/** Enough anchors to cover the back buffer plus a backlog at 30 chunks/s. */
const MAX_ANCHORS = 600;

export class MediaClock {
  private anchors: Anchor[] = [];
  /**
   * Server clock minus local clock (ms). Hook for a later ping/pong-based estimate: the
   * prft wall clock is the server's, Date.now() is ours. 0 assumes synced clocks (NTP).
   */
  offsetMs = 0;

  /** Records that media time `media` (s) was written at Unix time `wallMs`. */
  add(media: number, wallMs: number): void {
    if (!Number.isFinite(media) || !Number.isFinite(wallMs)) return;
    // Overlapping appends (reconnect) or a realigned generation: newer data wins.
    while (this.anchors.length > 0 && this.anchors[this.anchors.length - 1]!.media >= media) this.anchors.pop();
    this.anchors.push({ media, wall: wallMs });
    if (this.anchors.length > MAX_ANCHORS) this.anchors.splice(0, this.anchors.length - MAX_ANCHORS);
  }

  /** Unix ms at which media time `t` was written; NaN before any prft was seen. */
  wallAt(t: number): number {
    const a = this.anchorFor(t);
    return a ? a.wall + (t - a.media) * 1000 : NaN;
  }

  /** Latency (s) of media time `t` at local time `nowMs`; NaN when unknown. */
  latencyAt(t: number, nowMs = Date.now()): number {
    const wall = this.wallAt(t);
    return Number.isFinite(wall) ? (nowMs + this.offsetMs - wall) / 1000 : NaN;
  }

  reset(): void {
    this.anchors = [];
  }

  /** The last anchor at or before `t` (binary search), else the first one. */
  private anchorFor(t: number): Anchor | undefined {
    const list = this.anchors;
    if (list.length === 0) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    if (list[0]!.media > t) return list[0];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid]!.media <= t) lo = mid;
      else hi = mid - 1;
    }
    return list[lo];
  }
}
