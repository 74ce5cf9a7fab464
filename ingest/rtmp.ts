// RTMP ingest: node-media-server 4 accepts publishers on rtmp://HOST/APP with stream key NAME.
// We use only its RTMP server; FFmpeg then pulls each stream back over loopback to remux it.
// node-media-server keeps its config and events in module singletons: one instance per process.
import { createRequire } from 'node:module';
import type { Logger } from '../app/log.js';
import type ContextType from 'node-media-server/src/core/context.js';
import type { NmsSession } from 'node-media-server/src/core/context.js';
import type NodeRtmpServerType from 'node-media-server/src/server/rtmp_server.js';
import type loggerType from 'node-media-server/src/core/logger.js';

const require = createRequire(import.meta.url);
const Context = require('node-media-server/src/core/context.js') as typeof ContextType;
const NodeRtmpServer = require('node-media-server/src/server/rtmp_server.js') as typeof NodeRtmpServerType;
const nmsLogger = require('node-media-server/src/core/logger.js') as typeof loggerType;

export interface RtmpPublisher {
  name: string;
  ip: string;
  /** Disconnects the publisher. */
  close(): void;
}

export interface RtmpEvents {
  /** Return an error string to refuse the publisher (it is disconnected). */
  publish(p: RtmpPublisher): string | null;
  /** The publisher's connection closed (node-media-server's own donePublish comes 30 s later). */
  unpublish(p: RtmpPublisher): void;
}

const LOOPBACK = /^(::ffff:)?127\.|^::1$/;
let instances = 0;

export class RtmpIngest {
  #server: InstanceType<typeof NodeRtmpServerType>;
  #log: Logger;
  #app: string;
  #host: string;
  #port: number;
  #events: RtmpEvents;
  #closed = false;

  constructor(opts: { host: string; port: number; app: string }, events: RtmpEvents, log: Logger) {
    if (instances > 0) throw new Error('rtmp: node-media-server allows one RTMP ingest per process');
    instances++;
    this.#log = log;
    this.#app = opts.app;
    this.#host = opts.host;
    this.#port = opts.port;
    this.#events = events;
    nmsLogger.log = (message: string, level = 'info') => {
      if (level === 'error' || level === 'warn') log[level]({ nms: message }, 'node-media-server');
      else log.debug({ nms: message }, 'node-media-server');
    };
    Context.config = { bind: opts.host, rtmp: { port: opts.port } };
    Context.eventEmitter.on('postPublish', this.#onPostPublish);
    Context.eventEmitter.on('postPlay', this.#onPostPlay);
    this.#server = new NodeRtmpServer();
  }

  /** Listens without node-media-server's run(), which calls process.exit() on EADDRINUSE. */
  listen(): Promise<number> {
    const tcp = this.#server.tcpServer;
    if (!tcp) throw new Error('rtmp: no TCP server (rtmp.port is 0?)');
    return new Promise((resolve, reject) => {
      tcp.once('error', (err) => reject(new Error(`rtmp: cannot listen on ${this.#host}:${this.#port}: ${err.message}`)));
      tcp.once('listening', () => {
        const addr = tcp.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        this.#log.info({ port }, 'rtmp listening');
        resolve(port);
      });
      tcp.listen(this.#port, this.#host);
    });
  }

  #onPostPublish = (session: NmsSession): void => {
    // node-media-server emits postPublish before it checks for an existing publisher, and even
    // for a session closed in prePublish, so decide only once it has settled.
    queueMicrotask(() => {
      const broadcast = Context.broadcasts.get(session.streamPath);
      if (!broadcast || broadcast.publisher !== session || session.socket?.destroyed) return;
      const p: RtmpPublisher = { name: session.streamName, ip: session.ip, close: () => session.close() };
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

  /** RTMP playback is only for our own FFmpeg remuxers on loopback; viewers use WebSocket. */
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
