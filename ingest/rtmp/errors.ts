// Why an RTMP connection was closed: one stable code each, counted in
// nowcast_protocol_errors_total{protocol="rtmp",code} and listed in docs/security.md.

export const RTMP_ERROR_CODES = [
  'RTMP_BAD_HANDSHAKE', // C0 is not version 3 (or RTMPE, which we do not speak)
  'RTMP_BAD_CHUNK', // a chunk header that cannot be (fmt without history, too many chunk streams)
  'RTMP_BAD_CHUNK_SIZE', // Set Chunk Size outside 1..rtmp.maxChunkSize
  'RTMP_MESSAGE_TOO_LARGE', // a declared message length over its cap
  'RTMP_MEMORY', // more held than the connection's budget
  'RTMP_BAD_MESSAGE', // a control or media message of the wrong size or form
  'RTMP_BAD_COMMAND', // AMF0 that does not decode, or a command without its required fields
  'RTMP_UNEXPECTED', // a message out of order: media before publish, a second publish
  'RTMP_APP_UNKNOWN', // connect to an application other than rtmp.app
  'RTMP_PLAY_REFUSED', // RTMP playback: viewers use the WebSocket
  'RTMP_TIMEOUT', // handshake, connect and publish not done within rtmp.handshakeTimeoutMs
  'RTMP_IDLE', // an admitted publisher silent for rtmp.idleTimeoutMs
  'RTMP_CONN_LIMIT', // rtmp.maxConnections reached
  'RTMP_CONN_LIMIT_IP', // rtmp.maxConnectionsPerIp reached
  'RTMP_HEADER_STORM', // more sequence-header changes than rtmp.maxHeaderChangesPer10s
  'RTMP_SLOW_READER', // the peer does not read our replies
  'RTMP_RATE', // a publisher sending more than limits.maxPublishBitrate (ingest/rate-cap.ts)
] as const;

export type RtmpErrorCode = (typeof RTMP_ERROR_CODES)[number];

export class RtmpError extends Error {
  readonly code: RtmpErrorCode;
  constructor(code: RtmpErrorCode, message: string) {
    // One is thrown per faulty connection, and caught: a stack trace is all cost (bench:abuse's
    // CPU profile had the constructor at 0.2 s a minute).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${message}`);
    Error.stackTraceLimit = limit;
    this.name = 'RtmpError';
    this.code = code;
  }
}
