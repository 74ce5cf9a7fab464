// The RTMP listener (and RTMPS): admits connections within a budget (in total and per address),
// runs one RtmpSession per connection, and closes any that outstays the handshake timeout or
// goes idle while publishing. Accept errors (EMFILE…) are logged and counted every time.
// Sessions are known to the outside by id only: it runs in the RTMP thread (worker.ts), and
// its events cross to the relay's thread as messages.
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { LogLimiter, type Logger } from '../../util/log.js';
import { isLoopback } from '../../util/net.js';
import type { ProtocolErrors } from '../../util/protocol-errors.js';
import { RtmpSession, type SessionHooks, type SessionLimits, type PublishRequest, type Admission } from './session.js';
import type { RtmpErrorCode } from './errors.js';

export interface RtmpServerOptions extends SessionLimits {
  host: string;
  port: number;
  tls?: { port: number; cert: string; key: string };
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Apply the per-address cap to loopback too (limits.limitLoopback). */
  limitLoopback: boolean;
}

export interface RtmpEvents {
  /** Admission on the publish command of session `id`: null admits. */
  publish(id: number, p: PublishRequest): Admission | PromiseLike<Admission>;
  /** A tag body of admitted session `id` (session.ts SessionHooks.media). */
  media(id: number, type: number, timestamp: number, body: Buffer): void;
  /** Admitted session `id` ended: its name is free at once. */
  unpublish(id: number): void;
}

/** How often timeouts are checked: one timer for every connection. */
const SWEEP_MS = 250;
/** A connection we ended (refusal, fault) is destroyed if the peer has not closed by then. */
const LINGER_MS = 2_000;
/** Attacker-chosen text in logs is cut to this. */
const LOG_CHARS = 80;

const clip = (s: string): string => (s.length > LOG_CHARS ? `${s.slice(0, LOG_CHARS)}…(${s.length})` : s);

export class RtmpServer {
  readonly #o: RtmpServerOptions;
  readonly #events: RtmpEvents;
  readonly #errors: Pick<ProtocolErrors, 'add'>;
  readonly #log: Logger;
  /** Refusals a client can repeat at will: a few lines per address per 10 s. */
  readonly #limited: LogLimiter;
  readonly #tcp: Server;
  #tls: Server | null = null;
  /** Open sessions by id, in accept order. */
  readonly #sessions = new Map<number, RtmpSession>();
  #nextId = 1;
  readonly #perIp = new Map<string, number>();
  #sweep: NodeJS.Timeout | null = null;
  #closed = false;
  /** Accept errors seen (the listener stays up). */
  acceptErrors = 0;

  constructor(o: RtmpServerOptions, events: RtmpEvents, errors: Pick<ProtocolErrors, 'add'>, log: Logger) {
    this.#o = o;
    this.#events = events;
    this.#errors = errors;
    this.#log = log;
    this.#limited = new LogLimiter(log);
    this.#tcp = createServer({ noDelay: true }, (s) => this.#accept(s));
    this.#tcp.on('error', (err) => this.#acceptError(err));
    if (o.tls?.port) {
      this.#tls = createTlsServer({
        cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key), handshakeTimeout: o.handshakeTimeoutMs,
      }, (s: TLSSocket) => this.#accept(s));
      this.#tls.on('error', (err) => this.#acceptError(err));
      // TLS handshakes in progress count too: the raw connection is capped before any crypto.
      this.#tls.maxConnections = o.maxConnections;
      this.#tls.on('tlsClientError', () => this.#errors.add('rtmp', 'RTMP_BAD_HANDSHAKE'));
    }
  }

  /** Listens on the RTMP port (and RTMPS). Resolves with the RTMP port bound. */
  async listen(): Promise<number> {
    const port = await this.#listenOn(this.#tcp, this.#o.port, 'rtmp');
    if (this.#tls && this.#o.tls) await this.#listenOn(this.#tls, this.#o.tls.port, 'rtmps');
    this.#sweep = setInterval(() => this.#timeouts(Date.now()), SWEEP_MS);
    this.#sweep.unref();
    return port;
  }

  #listenOn(server: Server, port: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`${what}: cannot listen on ${this.#o.host}:${port}: ${err.message}`));
      server.once('error', onError);
      server.listen(port, this.#o.host, () => {
        server.off('error', onError);
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : 0;
        this.#log.info({ port: bound }, `${what} listening`);
        resolve(bound);
      });
    });
  }

  /** Connections open now. */
  get connections(): number {
    return this.#sessions.size;
  }

  /** Bytes every connection holds (handshakes, partial messages, restart caches). */
  get heldBytes(): number {
    let n = 0;
    for (const s of this.#sessions.values()) n += s.heldBytes;
    return n;
  }

  #acceptError(err: Error): void {
    // Listening failures reject listen(); after that these are accept errors (EMFILE, ENFILE).
    this.acceptErrors++;
    if (this.acceptErrors <= 3 || this.acceptErrors % 1000 === 0) this.#log.error({ err: err.message, count: this.acceptErrors }, 'rtmp accept error');
  }

  #accept(socket: Socket): void {
    const ip = socket.remoteAddress ?? '';
    socket.on('error', () => {}); // resets are normal; the close handler cleans up
    if (this.#closed) return void socket.destroy();
    // At the cap, the oldest connection not yet publishing makes room: a flood of idle
    // connections from many addresses then cannot keep a real publisher out (it needs its slot
    // for well under a second), and admitted publishers are never evicted.
    if (this.#sessions.size >= this.#o.maxConnections && !this.#evictOldestUnadmitted()) return this.#refuse(socket, 'RTMP_CONN_LIMIT');
    const perIp = this.#o.limitLoopback || !isLoopback(ip);
    const n = this.#perIp.get(ip) ?? 0;
    if (perIp && n >= this.#o.maxConnectionsPerIp) return this.#refuse(socket, 'RTMP_CONN_LIMIT_IP');
    this.#perIp.set(ip, n + 1);
    const id = this.#nextId++;
    const decided = (p: PublishRequest, r: Admission): Admission => {
      if (r) this.#limited.warn(`rtmp refused ${ip}`, { stream: clip(p.name), ip: `${ip}:${socket.remotePort}`, code: r.code }, `rtmp publish refused: ${clip(r.message)}`);
      else this.#log.info({ stream: p.name, ip: `${ip}:${socket.remotePort}` }, 'rtmp publish admitted');
      return r;
    };
    const hooks: SessionHooks = {
      publish: (p) => {
        const r = this.#events.publish(id, p);
        return r !== null && 'then' in r ? r.then((d) => decided(p, d)) : decided(p, r);
      },
      media: (type, timestamp, body) => this.#events.media(id, type, timestamp, body),
      unpublish: () => this.#events.unpublish(id),
      error: (code) => {
        this.#errors.add('rtmp', code);
        // An admitted publisher cut for its rate is an operator's business; other faults are counted only.
        if (code === 'RTMP_RATE') this.#limited.warn(`rtmp rate ${ip}`, { ip: `${ip}:${socket.remotePort}`, code }, 'rtmp publisher over limits.maxPublishBitrate: closed');
      },
      closed: () => {
        if (!this.#sessions.delete(id)) return;
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left > 0) this.#perIp.set(ip, left);
        else this.#perIp.delete(ip);
        // Ended by us: the peer gets a moment to read our last reply, then the socket goes.
        if (!socket.destroyed) setTimeout(() => socket.destroy(), LINGER_MS).unref();
      },
    };
    const session = new RtmpSession(socket, `${ip}:${socket.remotePort ?? 0}`, this.#o, hooks);
    this.#sessions.set(id, session);
    socket.on('data', (b: Buffer) => session.data(b));
    socket.on('close', () => session.socketClosed());
    socket.on('end', () => session.socketClosed());
  }

  /** Ends session `id` politely (its publisher is asked to leave). */
  closeSession(id: number): void {
    this.#sessions.get(id)?.close();
  }

  /** Ends session `id` for a fault found outside it (a header storm in its feed). */
  failSession(id: number, code: RtmpErrorCode): void {
    this.#sessions.get(id)?.fail(code, 'failed by its feed');
  }

  /** Closes the oldest connection that has not been admitted (sessions iterate in accept order). */
  #evictOldestUnadmitted(): boolean {
    for (const s of this.#sessions.values()) {
      if (!s.publishing) {
        s.fail('RTMP_CONN_LIMIT', 'evicted: the connection limit was reached before it published');
        return true;
      }
    }
    return false;
  }

  #refuse(socket: Socket, code: 'RTMP_CONN_LIMIT' | 'RTMP_CONN_LIMIT_IP'): void {
    this.#errors.add('rtmp', code);
    socket.destroy();
  }

  #timeouts(now: number): void {
    for (const s of this.#sessions.values()) {
      if (!s.publishing && now - s.startedAt > this.#o.handshakeTimeoutMs) s.fail('RTMP_TIMEOUT', 'handshake, connect and publish took too long');
      else if (s.publishing && now - s.lastDataAt > this.#o.idleTimeoutMs) s.fail('RTMP_IDLE', 'no data from the publisher');
    }
  }

  /** Stops listening and closes every connection. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweep) clearInterval(this.#sweep);
    this.#tcp.close();
    this.#tls?.close();
    for (const s of [...this.#sessions.values()]) s.socketClosed();
  }
}
