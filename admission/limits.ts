// Admission limits as small pure classes with an injected clock, so they can be tested
// alone: a token bucket per key (upgrades per second per IP) and counters per key
// (viewers per IP, per stream). Loopback is exempt from per-IP limits unless configured,
// so benchmarks with thousands of local viewers aren't refused; behind a reverse proxy the
// client's address comes from X-Forwarded-For / Forwarded, believed only from trusted proxies.
import { isLoopback } from '../util/net.js';

export class TokenBuckets {
  #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly ratePerS: number, readonly burst: number, readonly maxKeys = 100_000) {}

  /** Takes one token for `key` at time `nowMs`; false when the key is over its rate. */
  take(key: string, nowMs: number): boolean {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.maxKeys) this.#sweep(nowMs);
      b = { tokens: this.burst, at: nowMs };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.ratePerS);
    b.at = nowMs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Forgets full buckets (they behave like new ones), bounding memory under address churn. */
  #sweep(nowMs: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((nowMs - b.at) / 1000) * this.ratePerS >= this.burst) this.#buckets.delete(k);
    }
  }
}

export class Counters {
  #n = new Map<string, number>();

  get(key: string): number {
    return this.#n.get(key) ?? 0;
  }

  /** Increments unless that would pass `max`; returns whether it did. */
  tryAdd(key: string, max: number): boolean {
    const n = this.get(key);
    if (n >= max) return false;
    this.#n.set(key, n + 1);
    return true;
  }

  remove(key: string): void {
    const n = this.get(key) - 1;
    if (n > 0) this.#n.set(key, n);
    else this.#n.delete(key);
  }

  get keys(): number {
    return this.#n.size;
  }
}

export { isLoopback };

/** Longest address key kept: a proxy's odd token must not become a huge map key. */
const MAX_ADDRESS_CHARS = 64;

/** An IPv4-mapped IPv6 address (::ffff:1.2.3.4) as its IPv4 form, so either spelling matches. */
function canonical(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/** One `for=` value of a Forwarded element or one X-Forwarded-For entry, without quotes, brackets or port. */
function forwardedAddress(raw: string): string {
  let a = raw.trim();
  if (a.startsWith('"') && a.endsWith('"') && a.length >= 2) a = a.slice(1, -1).trim();
  const v6 = /^\[([^\]]*)\](?::\d+)?$/.exec(a);
  if (v6) a = v6[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  return canonical(a.slice(0, MAX_ADDRESS_CHARS));
}

/** The hops a Forwarded header lists, client first: each element's `for=` value. */
function forwardedHops(header: string): string[] {
  const hops: string[] = [];
  for (const element of header.split(',')) {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') hops.push(forwardedAddress(pair.slice(eq + 1)));
    }
  }
  return hops;
}

/**
 * The address per-address limits count for a connection from `peer`. Only when the peer is a
 * trusted proxy (exact match) are its headers believed: X-Forwarded-For if present (every
 * common proxy appends to it), else Forwarded. The right-most hop that is not itself a
 * trusted proxy is the client: hops to its left were written by the client and can be forged.
 * An empty hop ends the walk (what lies left of it is the client's own writing): the nearest
 * proxy's address is used then.
 */
export function clientAddress(peer: string, forwardedFor: string, forwarded: string, trusted: ReadonlySet<string>): string {
  const p = canonical(peer);
  if (!trusted.has(p)) return p;
  const hops = forwardedFor.trim() ? forwardedFor.split(',').map(forwardedAddress) : forwardedHops(forwarded);
  let client = p;
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!;
    if (!h) break;
    // Not an address (`unknown`, an obfuscated `_id`): still the proxy's word for this client.
    if (!trusted.has(h)) return h;
    client = h;
  }
  return client;
}
