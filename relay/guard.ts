// Who may publish and who may watch: stream keys or signed tokens for publishers, optional
// signed tokens and an Origin allowlist for viewers, and admission limits (streams, viewers
// per stream and per IP, upgrades per second per IP). Every refusal carries a stable code.
import { verifyToken, type TokenError } from './auth.js';
import { Counters, TokenBuckets, isLoopback } from './limits.js';

export interface GuardOptions {
  /** HMAC secret for signed tokens; '' disables tokens. */
  secret: string;
  /** Fixed publish keys per stream: [{stream, key}]. A stream listed here needs its key. */
  publishKeys: Array<{ stream: string; key: string }>;
  /** Every publisher must present a key or token (else only listed streams need one). */
  requirePublishAuth: boolean;
  /** Viewers must present a signed `view` token for the stream. */
  requireViewerToken: boolean;
  /** Allowed WebSocket Origins; empty allows any (non-browser clients send none). */
  allowedOrigins: string[];
  maxStreams: number;
  maxViewersPerStream: number;
  maxViewersPerIp: number;
  upgradesPerSecondPerIp: number;
  /** Apply the per-IP limits to loopback clients too (off: benchmarks run from 127.0.0.1). */
  limitLoopback: boolean;
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
  #upgrades: TokenBuckets;
  refusals = 0;

  constructor(o: GuardOptions) {
    this.#o = o;
    this.#upgrades = new TokenBuckets(o.upgradesPerSecondPerIp, Math.max(1, o.upgradesPerSecondPerIp * 2));
  }

  #perIpApplies(ip: string): boolean {
    return this.#o.limitLoopback || !isLoopback(ip);
  }

  /** Checks a viewer before the WebSocket upgrade; on success its slots are taken. */
  admitViewer(v: { ip: string; stream: string; origin: string; token: string | undefined; streamExists: boolean; streams: number }, nowMs: number): Refusal | null {
    const o = this.#o;
    const r = this.#checkViewer(v, nowMs);
    if (r) { this.refusals++; return r; }
    if (!this.#perStream.tryAdd(v.stream, o.maxViewersPerStream)) {
      this.refusals++;
      return refuse('503 Service Unavailable', 'VIEWER_LIMIT_STREAM', `stream ${v.stream} has its maximum of ${o.maxViewersPerStream} viewers`);
    }
    if (this.#perIpApplies(v.ip) && !this.#perIp.tryAdd(v.ip, o.maxViewersPerIp)) {
      this.#perStream.remove(v.stream);
      this.refusals++;
      return refuse('429 Too Many Requests', 'VIEWER_LIMIT_IP', `at most ${o.maxViewersPerIp} viewers per address`);
    }
    return null;
  }

  #checkViewer(v: { ip: string; stream: string; origin: string; token: string | undefined; streamExists: boolean; streams: number }, nowMs: number): Refusal | null {
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
    if (!v.streamExists && v.streams >= o.maxStreams) {
      return refuse('503 Service Unavailable', 'STREAM_LIMIT', `the relay has its maximum of ${o.maxStreams} streams`);
    }
    return null;
  }

  /** Frees the slots taken by admitViewer. */
  releaseViewer(ip: string, stream: string): void {
    this.#perStream.remove(stream);
    if (this.#perIpApplies(ip)) this.#perIp.remove(ip);
  }

  /** Checks a publisher's key (`key` query/passphrase) or signed `publish` token. */
  admitPublisher(p: { stream: string; key: string | undefined; streams: number; streamExists: boolean }, nowMs: number): Refusal | null {
    const o = this.#o;
    const fixed = o.publishKeys.find((k) => k.stream === p.stream);
    let authErr: TokenError | 'KEY_WRONG' | null = null;
    if (fixed) {
      if (p.key !== fixed.key) authErr = p.key ? 'KEY_WRONG' : 'TOKEN_MISSING';
    } else if (o.requirePublishAuth) {
      authErr = o.secret ? verifyToken(o.secret, p.key, p.stream, 'publish', nowMs / 1000) : 'TOKEN_MISSING';
    }
    if (authErr) { this.refusals++; return refuse('401 Unauthorized', authErr, `publishing ${p.stream} needs a valid key`); }
    if (!p.streamExists && p.streams >= o.maxStreams) {
      this.refusals++;
      return refuse('503 Service Unavailable', 'STREAM_LIMIT', `the relay has its maximum of ${o.maxStreams} streams`);
    }
    return null;
  }
}
