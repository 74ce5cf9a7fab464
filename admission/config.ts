// Admission's slices of the configuration (app/config.ts composes them; docs/configuration.md lists them).

export interface SecurityConfig {
  /** HMAC secret for signed publish/view tokens (admission/auth.ts); '' disables tokens. */
  secret: string;
  /** Fixed publish keys: [{"stream":"cam1","key":"…"}]; RTMP stream key `cam1?token=…`. */
  publishKeys: Array<{ stream: string; key: string }>;
  /** Every RTMP publisher needs a fixed key or a signed publish token (else only listed streams). */
  requirePublishAuth: boolean;
  /** Viewers need a signed view token for the stream: /live/NAME?token=… */
  requireViewerToken: boolean;
  /** Allowed WebSocket Origin headers, e.g. ["https://shop.example"]; [] allows any. */
  allowedOrigins: string[];
  /** Let anyone publish from any address without a key (logged loudly). Off: a publisher from
   *  outside loopback needs a publish key or token (PUBLISH_AUTH_REQUIRED), and SRT listeners
   *  without a passphrase bind to loopback only. */
  open: boolean;
  /** Reverse proxies whose X-Forwarded-For / Forwarded headers name the real client address
   *  (exact addresses, e.g. ["127.0.0.1"]); [] believes none. */
  trustedProxies: string[];
}

export interface LimitsConfig {
  /** Most live streams at once (a publisher, or media in the last 30 s); names viewers only wait on do not count. */
  maxStreams: number;
  /** Most viewers of one stream. */
  maxViewersPerStream: number;
  /** Most viewers from one address (loopback exempt unless limitLoopback). */
  maxViewersPerIp: number;
  /** WebSocket upgrades per second from one address (burst: twice this). */
  upgradesPerSecondPerIp: number;
  /** Apply per-address limits to loopback too; off so local benchmarks aren't refused. */
  limitLoopback: boolean;
  /** Viewers waiting for a name that is not live, over all names; they do not count in maxStreams. */
  maxWaitingViewers: number;
  /** Waiting viewers from one address (behind carrier NAT many real viewers share one). */
  maxWaitingViewersPerIp: number;
  /** A viewer still waiting for a name that never went live after this long is closed (STREAM_NOT_LIVE). */
  maxWaitMs: number;
  /** Most bits per second one publisher (RTMP or SRT) may send, averaged, in bursts of up to 2 s of
   *  it (ingest/rate-cap.ts); past it the publisher is closed (RTMP_RATE, SRT_RATE). 0: no cap. */
  maxPublishBitrate: number;
}
