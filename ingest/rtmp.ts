// RTMP ingest: node-media-server 4 accepts publishers on rtmp://HOST/APP with stream key NAME.
// We use only its RTMP server: each publish is read in process as FLV (subscribe), or, with
// remux.muxer ffmpeg, pulled back over loopback by FFmpeg.
// node-media-server keeps its config and events in module singletons: one instance per process.
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import type { Logger } from '../app/log.js';
import type ContextType from 'node-media-server/src/core/context.js';
import type { NmsSession, NmsSubscriber } from 'node-media-server/src/core/context.js';
import type NodeRtmpServerType from 'node-media-server/src/server/rtmp_server.js';
import type loggerType from 'node-media-server/src/core/logger.js';

const require = createRequire(import.meta.url);
const Context = require('node-media-server/src/core/context.js') as typeof ContextType;
const NodeRtmpServer = require('node-media-server/src/server/rtmp_server.js') as typeof NodeRtmpServerType;
const nmsLogger = require('node-media-server/src/core/logger.js') as typeof loggerType;

export interface RtmpPublisher {
  name: string;
  ip: string;
  /** `token` from the stream key's query (OBS stream key `NAME?token=…`): a key or signed token. */
  key: string | undefined;
  /** Disconnects the publisher. */
  close(): void;
  /**
   * Receives the publish as FLV (header, sequence headers, then every tag as node-media-server
   * parses it from the socket), in process; returns the unsubscribe, safe to call twice.
   * `cached`: start with what node-media-server holds (sequence headers and the tags since the
   * last keyframe); without it, only tags from now on.
   */
  subscribe(onData: (flv: Buffer) => void, cached: boolean): () => void;
}

export interface RtmpEvents {
  /** Return an error string to refuse the publisher (it is disconnected). */
  publish(p: RtmpPublisher): string | null;
  /** The publisher's connection closed (node-media-server's own donePublish comes 30 s later). */
  unpublish(p: RtmpPublisher): void;
}

const LOOPBACK = /^(::ffff:)?127\.|^::1$/;
let instances = 0;
let subscribers = 0;

/** An internal FLV subscriber of one broadcast (ip '' keeps node-media-server's play events quiet). */
function subscribe(streamPath: string, onData: (flv: Buffer) => void, cached: boolean): () => void {
  const broadcast = Context.broadcasts.get(streamPath);
  if (!broadcast) throw new Error(`rtmp: no broadcast for ${streamPath}`);
  // postPlay sends the FLV header, then (synchronously) whatever the broadcast caches: metadata,
  // the sequence headers and the tags since the last keyframe. When the same client republishes
  // within node-media-server's 30 s grace, those tags are the previous session's, so a new
  // publish skips them. It keeps the sequence headers: if they are the old session's, the new
  // ones follow before any frame; if the publisher sent its own already, they are these.
  let replaying = !cached;
  const sub: NmsSubscriber = {
    id: `nowcast-${++subscribers}`, ip: '', protocol: 'flv', streamPath, streamQuery: {}, endTime: 0,
    sendBuffer: (b) => {
      if (!replaying || b === broadcast.flvHeader || b === broadcast.flvVideoHeader || b === broadcast.flvAudioHeader) onData(b);
    },
  };
  broadcast.postPlay(sub);
  replaying = false;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    broadcast.donePlay(sub);
  };
}

export class RtmpIngest {
  #server: InstanceType<typeof NodeRtmpServerType>;
  #log: Logger;
  #app: string;
  #host: string;
  #port: number;
  #events: RtmpEvents;
  #closed = false;

  #tlsPort: number;

  constructor(opts: { host: string; port: number; app: string; tls?: { port: number; cert: string; key: string } }, events: RtmpEvents, log: Logger) {
    if (instances > 0) throw new Error('rtmp: node-media-server allows one RTMP ingest per process');
    instances++;
    this.#log = log;
    this.#app = opts.app;
    this.#host = opts.host;
    this.#port = opts.port;
    this.#tlsPort = opts.tls?.port ?? 0;
    this.#events = events;
    nmsLogger.log = (message: string, level = 'info') => {
      if (level === 'error' || level === 'warn') log[level]({ nms: message }, 'node-media-server');
      else log.debug({ nms: message }, 'node-media-server');
    };
    Context.config = { bind: opts.host, rtmp: { port: opts.port } };
    if (opts.tls?.port) Context.config.rtmps = { port: opts.tls.port, cert: opts.tls.cert, key: opts.tls.key };
    Context.eventEmitter.on('postPublish', this.#onPostPublish);
    Context.eventEmitter.on('postPlay', this.#onPostPlay);
    this.#server = new NodeRtmpServer();
  }

  /**
   * Listens (RTMP, and RTMPS when configured) without node-media-server's run(), which calls
   * process.exit() on EADDRINUSE. Resolves with the RTMP port bound.
   */
  async listen(): Promise<number> {
    const tcp = this.#server.tcpServer;
    if (!tcp) throw new Error('rtmp: no TCP server (rtmp.port is 0?)');
    const port = await this.#listenOn(tcp, this.#port, 'rtmp');
    if (this.#server.tlsServer) await this.#listenOn(this.#server.tlsServer, this.#tlsPort, 'rtmps');
    return port;
  }

  #listenOn(server: Server, port: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`${what}: cannot listen on ${this.#host}:${port}: ${err.message}`)));
      server.once('listening', () => {
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : 0;
        this.#log.info({ port: bound }, `${what} listening`);
        resolve(bound);
      });
      server.listen(port, this.#host);
    });
  }

  #onPostPublish = (session: NmsSession): void => {
    // node-media-server emits postPublish before it checks for an existing publisher, and even
    // for a session closed in prePublish, so decide only once it has settled.
    queueMicrotask(() => {
      const broadcast = Context.broadcasts.get(session.streamPath);
      if (!broadcast || broadcast.publisher !== session || session.socket?.destroyed) {
        // Refused by node-media-server (the name has a publisher): it only half-closes the
        // socket, and keeps broadcasting whatever tags still arrive on it into the live stream.
        if (broadcast?.publisher !== session) session.socket?.destroy();
        return;
      }
      const token = session.streamQuery?.token;
      const p: RtmpPublisher = {
        name: session.streamName, ip: session.ip, key: typeof token === 'string' ? token : undefined,
        close: () => session.close(),
        subscribe: (onData, cached) => subscribe(session.streamPath, onData, cached),
      };
      if (session.streamApp !== this.#app) {
        this.#log.warn({ app: session.streamApp, stream: session.streamName }, `rtmp: unknown app; publish to rtmp://HOST/${this.#app}`);
        return session.close();
      }
      const err = this.#events.publish(p);
      if (err) {
        this.#log.warn({ stream: session.streamName, ip: session.ip, err }, 'rtmp publish refused');
        return session.close();
      }
      session.socket?.once('close', () => this.#events.unpublish(p));
    });
  };

  /** RTMP playback is only for our own FFmpeg remuxers (remux.muxer ffmpeg) on loopback; viewers use WebSocket. */
  #onPostPlay = (session: NmsSession): void => {
    const ip = session.ip.replace(/:\d+$/, '');
    if (!LOOPBACK.test(ip)) {
      this.#log.warn({ ip: session.ip }, 'rtmp play from outside loopback refused');
      setImmediate(() => session.close());
    }
  };

  /** Stops listening and drops every RTMP connection. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Context.eventEmitter.off('postPublish', this.#onPostPublish);
    Context.eventEmitter.off('postPlay', this.#onPostPlay);
    this.#server.stop();
    instances--;
  }
}
