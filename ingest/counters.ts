// Ingest's counters, read by /metrics at scrape time.

/** Monotonic counters /metrics reads at scrape time. */
export interface IngestCounters {
  /** FFmpeg restarted after failing (crash, kill, unusable output). */
  ffmpegRestarts: number;
  /** FFmpeg restarted after a clean exit (an SRT listener re-arming for the next caller). */
  ffmpegRecycles: number;
  /** The in-process RTMP remux started over after unusable media (FLV_*, FMP4_* errors). */
  rtmpRemuxRestarts: number;
  /** Publishers accepted (RTMP sessions and SRT callers). */
  publishes: number;
  /** RTMP publishers refused (bad name, name taken, reserved, shutting down). */
  refused: number;
}
