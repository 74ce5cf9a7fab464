// The session's vocabulary: its limits, its hooks (admission, media, departure) and the socket
// as it uses it. Shared with the server, the RTMP thread's messages and the relay's side.

export interface SessionLimits {
  app: string;
  preAdmitBytes: number;
  maxChunkSize: number;
  maxCommandBytes: number;
  maxMessageBytes: number;
  maxHeaderChangesPer10s: number;
  /** limits.maxPublishBitrate: bits/s the connection may send (ingest/rate-cap.ts); 0: no cap. */
  maxPublishBitrate: number;
}

/** Why a publish is refused: a stable code, and the RTMP status code the publisher is sent. */
export interface PublishRefusal {
  code: string;
  message: string;
  /** NetStream.Publish.BadName (name invalid or taken), .Unauthorized, or .Rejected (limits). */
  status: 'BadName' | 'Unauthorized' | 'Rejected';
}

/** What admission is asked about: a publish command. */
export interface PublishRequest {
  name: string;
  /** Address:port of the connection. */
  ip: string;
  /** `token` (or `key`) from the stream key's query, `NAME?token=…`. */
  key: string | undefined;
}

/** The decision on a publish: null admits. */
export type Admission = PublishRefusal | null;

export interface SessionHooks {
  /** Admission, decided on the publish command; parsing waits for a promised one. */
  publish(p: PublishRequest): Admission | PromiseLike<Admission>;
  /**
   * An FLV tag body of the admitted publish: audio (8), video (9) or script data (18). May
   * throw RtmpError (a sequence-header storm): the connection then fails with its code.
   */
  media(type: number, timestamp: number, body: Buffer): void;
  /** An admitted publisher's connection ended. */
  unpublish(): void;
  /** Counts a protocol error or refusal code. */
  error(code: string): void;
  /** The connection is gone (once). */
  closed(): void;
}

/** The socket as the session uses it. */
export interface SessionSocket {
  write(b: Buffer): boolean;
  readonly writableLength: number;
  end(): void;
  destroy(): void;
}
