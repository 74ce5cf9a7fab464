// Who may publish and who may watch: stream keys or signed tokens for publishers, optional
// signed tokens and an Origin allowlist for viewers, and admission limits (streams, viewers
// per stream and per IP, upgrades per second per IP, viewers waiting for a name that is not
// live). Every refusal carries a stable code.
import { verifyToken } from './auth.js';
import { Counters, TokenBuckets, clientAddress, isLoopback } from './limits.js';
import type { LimitsConfig, SecurityConfig } from './config.js';

/** The guard's settings: the security keys it checks and every admission limit (admission/config.ts). */
export type GuardOptions = Omit<SecurityConfig, 'open' | 'trustedProxies'> & Omit<LimitsConfig, 'maxPublishBitrate'> & {
  /** Proxies whose X-Forwarded-For / Forwarded name the client (exact addresses); default none. */
  trustedProxies?: readonly string[];
};

/** What admitViewer decides on. */
export interface ViewerRequest {
  /** The client's address (clientIp()), not necessarily the TCP peer's. */
  ip: string;
  stream: string;
  origin: string;
  token: string | undefined;
  /** The name has a publisher or recent media; otherwise the viewer takes a waiting slot. */
  live: boolean;
}

export interface Refusal {
  status: '401 Unauthorized' | '403 Forbidden' | '429 Too Many Requests' | '503 Service Unavailable';
  code: string;
  message: string;
}

const refuse = (status: Refusal['status'], code: string, message: string): Refusal => ({ status, code, message });

export class Guard {
  #o: GuardOptions;
  #perIp = new Counters();
  #perStream = new Counters();
  #waitingPerIp = new Counters();
  #upgrades: TokenBuckets;
  #trusted: ReadonlySet<string>;
  refusals = 0;
  /** Viewers holding a waiting slot now (admitted while their name was not live). */
  waitingViewers = 0;

  constructor(o: GuardOptions) {
    this.#o = o;
    this.#upgrades = new TokenBuckets(o.upgradesPerSecondPerIp, Math.max(1, o.upgradesPerSecondPerIp * 2));
    this.#trusted = new Set(o.trustedProxies ?? []);
  }

  get maxWaitMs(): number {
    return this.#o.maxWaitMs;
  }

  /** The address per-address limits count: the TCP peer, or the client a trusted proxy names. */
  clientIp(peer: string, forwardedFor: string, forwarded: string): string {
    return clientAddress(peer, forwardedFor, forwarded, this.#trusted);
  }

  #perIpApplies(ip: string): boolean {
    return this.#o.limitLoopback || !isLoopback(ip);
  }

  /**
   * Checks a viewer before the WebSocket upgrade; on success its slots are taken: per stream,
   * per address, and a waiting slot when its name is not live (freed by releaseWaiting once the
   * name goes live or the viewer leaves). Waiting viewers never count against maxStreams.
   */
  admitViewer(v: ViewerRequest, nowMs: number): Refusal | null {
    const o = this.#o;
    const r = this.#checkViewer(v, nowMs);
    if (r) { this.refusals++; return r; }
    if (!this.#perStream.tryAdd(v.stream, o.maxViewersPerStream)) {
      this.refusals++;
      return refuse('503 Service Unavailable', 'VIEWER_LIMIT_STREAM', `stream ${v.stream} has its maximum of ${o.maxViewersPerStream} viewers`);
    }
    const perIp = this.#perIpApplies(v.ip);
    if (perIp && !this.#perIp.tryAdd(v.ip, o.maxViewersPerIp)) {
      this.#perStream.remove(v.stream);
      this.refusals++;
      return refuse('429 Too Many Requests', 'VIEWER_LIMIT_IP', `at most ${o.maxViewersPerIp} viewers per address`);
    }
    if (v.live) return null;
    // The total applies to loopback too: it bounds what waiting names cost the relay.
    let code: 'WAITING_LIMIT' | 'WAITING_LIMIT_IP' | null = null;
    if (this.waitingViewers >= o.maxWaitingViewers) code = 'WAITING_LIMIT';
    else if (perIp && !this.#waitingPerIp.tryAdd(v.ip, o.maxWaitingViewersPerIp)) code = 'WAITING_LIMIT_IP';
    if (code) {
      this.releaseViewer(v.ip, v.stream);
      this.refusals++;
      return code === 'WAITING_LIMIT'
        ? refuse('503 Service Unavailable', code, `the relay has its maximum of ${o.maxWaitingViewers} viewers waiting for streams that are not live`)
        : refuse('429 Too Many Requests', code, `at most ${o.maxWaitingViewersPerIp} viewers per address may wait for streams that are not live`);
    }
    this.waitingViewers++;
    return null;
  }

  #checkViewer(v: ViewerRequest, nowMs: number): Refusal | null {
    const o = this.#o;
    if (this.#perIpApplies(v.ip) && !this.#upgrades.take(v.ip, nowMs)) {
      return refuse('429 Too Many Requests', 'UPGRADE_RATE', `more than ${o.upgradesPerSecondPerIp} connections per second from this address`);
    }
    if (o.allowedOrigins.length && v.origin && !o.allowedOrigins.includes(v.origin)) {
      return refuse('403 Forbidden', 'ORIGIN_NOT_ALLOWED', `origin ${v.origin} is not allowed`);
    }
    if (o.requireViewerToken) {
      const err = o.secret ? verifyToken(o.secret, v.token, v.stream, 'view', nowMs / 1000) : 'TOKEN_MISSING';
      if (err) return refuse('401 Unauthorized', err, `a valid view token for ${v.stream} is required`);
    }
    return null;
  }

  /** Frees the per-stream and per-address slots taken by admitViewer. */
  releaseViewer(ip: string, stream: string): void {
    this.#perStream.remove(stream);
    if (this.#perIpApplies(ip)) this.#perIp.remove(ip);
  }

  /** Frees a waiting slot: its name went live, or the viewer left. Call once per slot. */
  releaseWaiting(ip: string): void {
    if (this.waitingViewers > 0) this.waitingViewers--;
    if (this.#perIpApplies(ip)) this.#waitingPerIp.remove(ip);
  }

  /**
   * The publisher's share of the limits: a new live stream past limits.maxStreams is refused.
   * `streams`: streams with a publisher or recent media (Relay.liveStreamCount), not names viewers wait on.
   * Credentials are admission/publish.ts's (checkPublish), asked first.
   */
  admitPublisher(p: { stream: string; streams: number; streamExists: boolean }): Refusal | null {
    const o = this.#o;
    if (!p.streamExists && p.streams >= o.maxStreams) {
      this.refusals++;
      return refuse('503 Service Unavailable', 'STREAM_LIMIT', `the relay has its maximum of ${o.maxStreams} streams`);
    }
    return null;
  }
}
