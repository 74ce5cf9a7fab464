// Ingest's slices of the configuration (app/config.ts composes them; docs/configuration.md lists them).

/** Who writes a publish's fMP4 (remux.muxer). */
export const MUXERS = ['nowcast', 'ffmpeg'] as const;
export type Muxer = (typeof MUXERS)[number];

export interface SrtListener {
  /** UDP port the SRT gateway (libsrt) listens on; it takes many callers, told apart by streamid. */
  port: number;
  /** Stream name a caller without a streamid becomes. */
  stream: string;
  /** SRT passphrase (10–79 chars) callers must know; overrides srt.passphrase for this port. Never in argv or logs. */
  passphrase?: string;
  /** SRT receive latency in ms for this port; overrides srt.latencyMs (a port for a LAN or a studio, say). */
  latencyMs?: number;
}

export interface RtmpConfig {
  /** RTMP ingest port; 0 disables RTMP. */
  port: number;
  /** RTMP application name publishers use: rtmp://HOST/APP with stream key NAME. */
  app: string;
  /** RTMPS port, served when tls.cert and tls.key are set; 0 disables it. */
  tlsPort: number;
  /** Handshake, connect and publish must be done within this many ms of the TCP accept, or the
   *  connection is closed (ingest/rtmp/server.ts). */
  handshakeTimeoutMs: number;
  /** An admitted publisher that sends nothing for this long is closed. */
  idleTimeoutMs: number;
  /** RTMP connections at once, over all addresses (RTMPS included). */
  maxConnections: number;
  /** RTMP connections at once from one address (loopback exempt unless limits.limitLoopback). */
  maxConnectionsPerIp: number;
  /** Memory a connection may hold before its publish is admitted: handshake and command bytes. */
  preAdmitBytes: number;
  /** Largest chunk size a peer may set (Set Chunk Size); OBS and FFmpeg use 4096. */
  maxChunkSize: number;
  /** Largest command or data message (AMF0), before and after admission. */
  maxCommandBytes: number;
  /** Largest media message (one FLV tag) from an admitted publisher; at most remux.maxBoxBytes. */
  maxMessageBytes: number;
  /** After a publisher leaves, its name is held this long for a publisher with the same
   *  credentials (a reconnect resumes the stream); others are refused. 0 frees it at once. */
  reconnectGraceMs: number;
  /** Sequence-header changes (new init segments) allowed per publisher in 10 s; past it the
   *  publisher is closed (RTMP_HEADER_STORM). Identical headers are ignored and not counted. */
  maxHeaderChangesPer10s: number;
}

export interface SrtConfig {
  /** One SRT gateway per entry (ingest/srt): many callers per port, each publishing the stream its
   *  streamid names (#!::r=NAME,m=publish or publish:NAME), or the entry's stream without one. */
  listeners: SrtListener[];
  /** SRT receive latency in ms (libsrt SRTO_RCVLATENCY), the time SRT has to retransmit, added to
   *  every packet; the larger of this and the caller's own latency applies, so a caller that sets
   *  none (FFmpeg without latency=) gets this. Lower it only for clean paths (LAN, loopback). */
  latencyMs: number;
  /** MPEG-TS packs AAC into PES packets of ~0.25 s, so probing needs longer than for RTMP. */
  analyzeDurationUs: number;
  /** Probe bound for SRT input in bytes. */
  probeSizeBytes: number;
  /** Passphrase (10–79 chars) every SRT listener requires; '' for none. Also encrypts. Publish
   *  credentials (keys, tokens in the streamid) are checked as for RTMP either way. */
  passphrase: string;
  /** A caller that sends no media for this long is dropped, and its stream freed (also libsrt's peer idle timeout). */
  idleTimeoutMs: number;
  /** SRT callers at once, over all ports; past it a handshake is rejected (1402). */
  maxCallers: number;
  /** SRT callers at once from one address (loopback exempt unless limits.limitLoopback). */
  maxCallersPerIp: number;
}

export interface RemuxConfig {
  /** FFmpeg binary (remux, SRT listeners, the demo source). */
  ffmpegPath: string;
  /** FFmpeg's fragment duration in µs (SRT, muxer 'ffmpeg'): just under one frame interval at 30 fps,
   *  so each chunk is one video frame with its audio. 33333 put two frames in 28% of chunks (RTMP
   *  timestamps are whole ms). */
  fragmentUs: number;
  /** FFmpeg pull's probe bound in µs (muxer 'ffmpeg'), so the first chunk leaves FFmpeg fast (unbounded takes seconds). */
  analyzeDurationUs: number;
  /** FFmpeg pull's probe bound in bytes (muxer 'ffmpeg'). */
  probeSizeBytes: number;
  /** First restart delay after FFmpeg dies unexpectedly or the in-process remux meets unusable media; doubles up to maxRestartDelayMs. */
  restartDelayMs: number;
  /** Cap on that restart delay, in ms. */
  maxRestartDelayMs: number;
  /** Upper bound on any box from FFmpeg and on a whole chunk (prefix boxes + moof + mdat). */
  maxBoxBytes: number;
  /** Upper bound on the init segment (ftyp+moov). */
  maxInitBytes: number;
  /**
   * Who writes the fMP4 of publishers: 'nowcast' (in process: ingest/flv from the RTMP server's
   * FLV tags, ingest/ts from an SRT caller's MPEG-TS when it carries H.264 and AAC; each frame's
   * chunk as soon as its audio is in) or 'ffmpeg' (one FFmpeg per publish, reading FLV or MPEG-TS
   * on stdin; its mp4 muxer holds every frame one frame interval for the packet after it,
   * bench:ingest). An SRT caller with other codecs always goes to FFmpeg.
   */
  muxer: Muxer;
  /**
   * Muxer 'nowcast': the longest a frame waits for the audio that covers it, so a frame and its
   * audio leave as one chunk (about one chunk per frame) instead of one chunk per packet. 0 writes
   * every packet as it arrives. SRT callers wait at least 100 ms (or until the next frame), as
   * their audio may come in late bursts (ingest/srt.ts).
   */
  chunkWaitMs: number;
}

/** What Ingest takes: its slices, and the few outside keys it acts on. */
export interface IngestConfig {
  /** Address the RTMP and SRT listeners bind to. */
  host: string;
  rtmp: RtmpConfig;
  srt: SrtConfig;
  remux: RemuxConfig;
  /** PEM files for RTMPS (tls.*). */
  tls: { cert: string; key: string };
  /** limits.limitLoopback: the per-address RTMP cap applies to loopback too. */
  limitLoopback: boolean;
  /** limits.maxPublishBitrate: bits/s one publisher may send (ingest/rate-cap.ts); 0: no cap. */
  maxPublishBitrate: number;
  /** security.open: anyone may publish (RTMP and SRT) without credentials. */
  open: boolean;
}
