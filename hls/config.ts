// LL-HLS's slice of the configuration (app/schema.ts composes it; docs/configuration.md lists it).

export interface HlsConfig {
  /** Serve each stream as LL-HLS at /hls/NAME/index.m3u8 on the public port (hls/server.ts), built from the same chunks as the WebSocket. */
  enabled: boolean;
  /** Wanted duration of an LL-HLS part, in ms: parts are whole runs of chunks (frames), so the PART-TARGET a stream gets is the nearest whole number of frame intervals (fixed for the stream's life). */
  partTargetMs: number;
  /** Complete segments (one GOP each, or more GOPs when keyframes come faster than every 0.9 s) kept per stream, besides the one being built; 3 while nobody has fetched the stream's LL-HLS for a minute. */
  windowSegments: number;
  /** Bytes of media kept per stream: the oldest segments go first past it, and a segment without a keyframe grows to half of it before it is cut. */
  maxStreamBytes: number;
  /** Requests one stream may hold open at once (blocking playlist reloads and preload-hinted parts); past it, 503. */
  maxWaiters: number;
}
