// The relay's slice of the configuration (app/config.ts composes it; docs/configuration.md lists it).

export interface RelayConfig {
  /** uWS hard cap per socket; past it uWS would drop silently, so we close instead. */
  maxBackpressureBytes: number;
  /** A viewer whose send buffer exceeds this skips to the next keyframe. */
  slowViewerBytes: number;
  /** A skipping viewer resumes (at a keyframe) once its buffer drains below this. */
  resumeBytes: number;
  /**
   * Media (ms) sent to an acknowledging viewer and not yet acknowledged, past which it skips
   * to a keyframe whatever the kernel buffers; it resumes once a quarter of this is left in
   * flight. Viewers that never ack are judged by slowViewerBytes alone.
   */
  maxInFlightMs: number;
  /**
   * How often (ms) players are asked to acknowledge (hello.ackMs): the relay counts media as
   * late this plus 150 ms after sending it. Each ack costs relay CPU on every viewer (500 ms:
   * +6–11 % at 2,000 viewers, 200 ms: +15–20 %, bench/RESULTS.md); a shorter one stops a slow
   * viewer, or switches it down a rendition, sooner. With abr.enabled, abr.ackIntervalMs applies instead.
   */
  ackIntervalMs: number;
  /** Cap on the cached chunks since the last keyframe (what a new viewer starts from). */
  maxGopCacheBytes: number;
  /** How often the slow-viewer sweep runs, in ms. */
  sweepIntervalMs: number;
  /** Largest message a viewer may send. */
  maxViewerMessageBytes: number;
  /** Close viewers idle this long (uWS idleTimeout, seconds; pings keep players alive). */
  idleTimeoutS: number;
  /**
   * Nice value (0–19) for the process's threads other than the event loop (V8's GC and
   * compiler workers, libuv's pool): 19 keeps them from preempting fan-out on a relay
   * confined to one CPU (util/threads.ts). 0 leaves them alone.
   */
  helperThreadsNice: number;
}
