// node-media-server 4 ships no types. Only the parts Nowcast touches are declared.
declare module 'node-media-server/src/core/context.js' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';

  export interface NmsSession {
    id: string;
    ip: string;
    protocol: string;
    streamApp: string;
    streamName: string;
    streamPath: string;
    streamQuery: Record<string, string | string[] | undefined>;
    isPublisher: boolean;
    /** RTMP sessions only. */
    socket?: Socket;
    close(): void;
  }

  export interface NmsBroadcast {
    publisher: NmsSession | null;
    /** The cached FLV header and sequence headers, as the Buffers postPlay sends. */
    flvHeader: Buffer;
    flvVideoHeader: Buffer | null;
    flvAudioHeader: Buffer | null;
    /** Adds a subscriber: protocol 'flv' gets FLV bytes through sendBuffer; ip '' marks an internal one. */
    postPlay(session: NmsSubscriber): string | null;
    donePlay(session: NmsSubscriber): void;
  }

  /** What postPlay and donePlay read of a subscriber. */
  export interface NmsSubscriber {
    id: string;
    ip: string;
    protocol: 'flv';
    streamPath: string;
    streamQuery: Record<string, string>;
    endTime: number;
    sendBuffer(buffer: Buffer): void;
  }

  export interface NmsConfig {
    bind?: string;
    rtmp?: { port?: number };
    rtmps?: { port?: number; key?: string; cert?: string };
    auth?: { play?: boolean; publish?: boolean; secret?: string };
  }

  const Context: {
    config: NmsConfig;
    sessions: Map<string, NmsSession>;
    broadcasts: Map<string, NmsBroadcast>;
    eventEmitter: EventEmitter;
  };
  export default Context;
}

declare module 'node-media-server/src/server/rtmp_server.js' {
  export default class NodeRtmpServer {
    tcpServer?: import('node:net').Server;
    tlsServer?: import('node:tls').Server;
    run(): void;
    stop(): void;
  }
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: { level: string; log(message: string, level?: string): void };
  export default logger;
}
