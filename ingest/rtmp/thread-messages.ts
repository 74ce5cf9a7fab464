// What crosses between the RTMP thread (worker.ts) and the relay's thread (thread.ts).
import type { WorkerLogLine } from '../../util/worker-thread.js';
import type { RtmpErrorCode } from './errors.js';
import type { RtmpServerOptions } from './server.js';
import type { Admission, PublishRequest } from './session.js';

export interface RtmpWorkerData {
  options: RtmpServerOptions;
  /** The parent logger's level. */
  level: string;
}

export type ToMain =
  /** Listening; `tid` is the thread's kernel id (so helper renicing leaves it alone). */
  | { t: 'listening'; port: number; tid: number }
  | { t: 'listen-failed'; message: string }
  | { t: 'publish'; id: number; req: PublishRequest }
  /** A tag body, its own buffer transferred. */
  | { t: 'media'; id: number; type: number; timestamp: number; body: ArrayBuffer }
  | { t: 'unpublish'; id: number }
  | { t: 'error'; code: string }
  | { t: 'stats'; id: number; stats: RtmpStats }
  | WorkerLogLine;

/** The RTMP thread's figures, on request. */
export interface RtmpStats {
  /** Connections open. */
  connections: number;
  /** Bytes held by them (handshakes, partial messages, bytes waiting for admission). */
  heldBytes: number;
  /** Accept errors seen. */
  acceptErrors: number;
}

export type ToWorker =
  | { t: 'decision'; id: number; refusal: Admission }
  | { t: 'close'; id: number }
  | { t: 'fail'; id: number; code: RtmpErrorCode }
  | { t: 'stats'; id: number }
  | { t: 'stop' };
