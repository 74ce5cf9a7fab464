// QoE back-channel, relay side: strict validation of a viewer's `qoe` message and a per-stream
// aggregator (each viewer's latest report, a per-viewer rate limit, a cross-viewer summary with
// the latency spread). Pure: no sockets, no timers; `now` is passed in. Nothing here throws on
// viewer input: a bad, flooding or oversized report is dropped and counted, nothing else.
//
// Reports are anonymous, so each is also checked against the same viewer's previous one
// (plausible()): totals only grow, and by no more than the wall time allows. Otherwise one
// viewer could add billions of stalls to the metrics by sending totals that go down and up.
import type { PolicyName, QoeMessage } from '../protocol/messages.js';
import { percentile } from '../util/stats.js';

export { percentile };

/** A validated report: the message without its `type`. */
export type QoeReport = Omit<QoeMessage, 'type'>;

export interface QoeLimits {
  /** Accept at most one report per viewer per this many ms; the excess is dropped and counted. */
  minIntervalMs: number;
  /** Keep at most this many viewers' reports; the stalest is evicted past it. */
  maxViewers: number;
  /** A viewer's report older than this (ms) no longer counts in the summary. */
  staleMs: number;
}

export const DEFAULT_QOE_LIMITS: Readonly<QoeLimits> = Object.freeze({ minIntervalMs: 1000, maxViewers: 10_000, staleMs: 30_000 });

export interface QoeSummary {
  /** Viewers whose latest report is fresh. */
  viewers: number;
  /** Across those viewers' current latency (ms); null when none reports a latency. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** Spread of current latency across viewers: max − min, and p95 − p5 (ms). */
  spreadMs: number | null;
  spreadP95P5Ms: number | null;
  /** Sum over fresh viewers of their stall totals. */
  stalls: number;
  stallMs: number;
  /** Viewers reporting pinned mode. */
  pinned: number;
  /** Reports accepted, rejected as invalid or implausible, and dropped by the rate limit, since the stream began. */
  accepted: number;
  rejected: number;
  implausible: number;
  rateLimited: number;
}

/** Receives every accepted report with the viewer it came from (metrics compute deltas per viewer). */
/**
 * What an accepted report adds to the stream's totals: the growth since the viewer's previous
 * report, or for its first report on this socket no more than the per-second bounds allow since
 * the socket opened (a reconnecting player's earlier totals were counted on its old socket, and
 * a forger gains nothing by reconnecting).
 */
export interface QoeCounted { stalls: number; stallMs: number }
export type QoeListener = (stream: string, r: QoeReport, viewer: number, counted: QoeCounted) => void;

const POLICIES: ReadonlySet<string> = new Set<PolicyName>(['nowcast', 'none', 'seek', 'mpegts']);
/** Sanity bounds: anything outside is a broken or hostile client, not a measurement. */
const MAX_MS = 86_400_000; // a day
/** Latency and target: a live player is never a minute behind (it jumps to live well before). */
const MAX_LATENCY_MS = 60_000;
/** A latency a little below zero is clock-offset error; more is a broken clock or a lie. */
const MIN_LATENCY_MS = -5_000;
const MAX_COUNT = 1e9;

/** The totals a report carries (since the player started); they only grow. */
export const QOE_TOTALS = ['stalls', 'stallMs', 'rateChanges', 'jumps', 'droppedFrames'] as const;
type Total = (typeof QOE_TOTALS)[number];

/**
 * Most a player can add to each total per second of wall time, generously: a stall spans
 * control ticks (50 ms), the rate changes at most once a tick (20 ms allowed), frames drop at
 * most at the frame rate (240 fps and more), and stall time passes at most as fast as time.
 */
export const QOE_MAX_PER_S: Readonly<Record<Total, number>> = Object.freeze({ stalls: 5, stallMs: 1000, rateChanges: 50, jumps: 5, droppedFrames: 500 });

export interface QoePlausibility {
  /** Seconds of history a viewer's totals may hold beyond the time since its socket opened (a reconnecting player keeps its totals). */
  historyS: number;
  /** Stall time one report may add beyond the wall time since the previous one (ms): reports arrive with jitter. */
  stallSlackMs: number;
}

export const DEFAULT_QOE_PLAUSIBILITY: Readonly<QoePlausibility> = Object.freeze({ historyS: 60, stallSlackMs: 5_000 });

type Check = (v: unknown) => string | undefined;
const num = (lo: number, hi: number, int = false): Check => (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a finite number';
  if (v < lo || v > hi) return `must be within [${lo}, ${hi}]`;
  if (int && !Number.isInteger(v)) return 'must be an integer';
  return undefined;
};
const nullable = (c: Check): Check => (v) => (v === null ? undefined : c(v));

const FIELDS: { [K in keyof QoeReport]-?: Check } = {
  intervalMs: num(0, MAX_MS),
  startupMs: nullable(num(0, MAX_MS)),
  latencyP50Ms: nullable(num(MIN_LATENCY_MS, MAX_LATENCY_MS)),
  latencyP95Ms: nullable(num(MIN_LATENCY_MS, MAX_LATENCY_MS)),
  latencyP99Ms: nullable(num(MIN_LATENCY_MS, MAX_LATENCY_MS)),
  latencyMs: nullable(num(MIN_LATENCY_MS, MAX_LATENCY_MS)),
  targetMs: num(0, MAX_LATENCY_MS),
  stalls: num(0, MAX_COUNT, true),
  stallMs: num(0, MAX_MS * 365),
  rateChanges: num(0, MAX_COUNT, true),
  jumps: num(0, MAX_COUNT, true),
  droppedFrames: num(0, MAX_COUNT, true),
  rate: num(0, 16),
  policy: (v) => (typeof v === 'string' && POLICIES.has(v) ? undefined : `must be one of ${[...POLICIES].join(', ')}`),
  pinned: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'),
  clockOffsetMs: nullable(num(-MAX_MS * 365, MAX_MS * 365)),
  switches: num(0, MAX_COUNT, true),
};

/**
 * Validates a parsed `qoe` message. Every known field is required and checked for type and
 * range; unknown fields are ignored (newer players may send more). Returns the report, or a
 * string saying what is wrong.
 */
export function parseQoe(msg: unknown): QoeReport | string {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return 'not an object';
  const m = msg as Record<string, unknown>;
  if (m.type !== 'qoe') return 'type must be "qoe"';
  const out: Record<string, unknown> = {};
  for (const [key, check] of Object.entries(FIELDS) as Array<[keyof QoeReport, Check]>) {
    // switches: only players since ABR send it.
    if (!Object.hasOwn(m, key)) { if (key === 'switches') continue; return `${key} is missing`; }
    const why = check(m[key]);
    if (why) return `${key} ${why}`;
    out[key] = m[key];
  }
  const r = out as unknown as QoeReport;
  for (const [a, b] of [['latencyP50Ms', 'latencyP95Ms'], ['latencyP95Ms', 'latencyP99Ms']] as const) {
    const x = r[a];
    const y = r[b];
    if ((x === null) !== (y === null)) return `${a} and ${b} must both be null or both numbers`;
    if (x !== null && y !== null && x > y) return `${a} must be <= ${b}`;
  }
  return r;
}

/**
 * Whether `r` can follow the same viewer's previous accepted report `prev` (received at
 * `prevAt`), at `now`, from a socket opened at `openedAt` (all ms). Returns what is wrong, or
 * undefined. Checks: totals never go down; each total is within its per-second bound over the
 * time since the socket opened plus `historyS`; stall time grows by no more than the wall time
 * since the previous report plus `stallSlackMs`.
 */
export function plausible(r: QoeReport, prev: QoeReport | null, prevAt: number, openedAt: number, now: number, o: QoePlausibility = DEFAULT_QOE_PLAUSIBILITY): string | undefined {
  const ageS = Math.max(0, now - openedAt) / 1000 + o.historyS;
  for (const k of QOE_TOTALS) {
    if (prev && r[k] < prev[k]) return `${k} went down from ${prev[k]} to ${r[k]}`;
    const max = QOE_MAX_PER_S[k] * ageS;
    if (r[k] > max) return `${k} ${r[k]} is more than ${Math.round(max)} in ${Math.round(ageS)} s`;
  }
  if (prev) {
    const wallMs = Math.max(0, now - prevAt);
    if (r.stallMs - prev.stallMs > wallMs + o.stallSlackMs) return `stallMs grew by ${r.stallMs - prev.stallMs} in ${wallMs} ms`;
  }
  return undefined;
}


interface Entry {
  report: QoeReport | null;
  /** When the latest report was accepted (ms); -Infinity before any. */
  at: number;
  /** When the viewer's socket opened (ms). */
  openedAt: number;
}

/** Counts over every stream of one relay (per-stream counts go when the stream does): one object shared by its aggregators. */
export interface QoeTotals { accepted: number; rejected: number; implausible: number; rateLimited: number }
export const newQoeTotals = (): QoeTotals => ({ accepted: 0, rejected: 0, implausible: 0, rateLimited: 0 });

export class QoeAggregator {
  readonly limits: QoeLimits;
  /** Called for every accepted report; a throwing listener is contained and counted. */
  onReport: QoeListener | undefined;
  readonly plausibility: QoePlausibility;
  accepted = 0;
  rejected = 0;
  /** Valid reports that cannot follow the viewer's previous one (plausible()). */
  implausible = 0;
  rateLimited = 0;
  evicted = 0;
  listenerErrors = 0;
  /** Insertion order = order of the latest acceptance (re-inserted on each), so the first is the stalest. */
  #viewers = new Map<number, Entry>();

  readonly #totals: QoeTotals;

  constructor(readonly stream: string, limits: Partial<QoeLimits> = {}, onReport?: QoeListener, plausibility: Partial<QoePlausibility> = {}, totals: QoeTotals = newQoeTotals()) {
    this.#totals = totals;
    this.limits = { ...DEFAULT_QOE_LIMITS, ...limits };
    this.plausibility = { ...DEFAULT_QOE_PLAUSIBILITY, ...plausibility };
    this.onReport = onReport;
  }

  /** Viewers with a report held (fresh or not). */
  get size(): number {
    return this.#viewers.size;
  }

  /**
   * Offers a viewer's parsed message. Returns what happened; never throws.
   * 'rejected': invalid (see parseQoe); 'implausible': valid, but cannot follow this viewer's
   * previous report (see plausible()); 'limited': too soon after this viewer's last report.
   * `openedAt`: when the viewer's socket opened (default: its first report's arrival).
   */
  offer(viewer: number, msg: unknown, now: number, openedAt?: number): 'accepted' | 'rejected' | 'implausible' | 'limited' {
    const last = this.#viewers.get(viewer);
    if (last && now - last.at < this.limits.minIntervalMs) {
      this.rateLimited++;
      this.#totals.rateLimited++;
      return 'limited';
    }
    const r = parseQoe(msg);
    if (typeof r === 'string') {
      this.rejected++;
      this.#totals.rejected++;
      return 'rejected';
    }
    const opened = last?.openedAt ?? Math.min(now, openedAt ?? now);
    if (plausible(r, last?.report ?? null, last?.at ?? opened, opened, now, this.plausibility) !== undefined) {
      this.implausible++;
      this.#totals.implausible++;
      return 'implausible';
    }
    const prev = last?.report;
    const sinceOpenS = Math.max(0, now - opened) / 1000;
    const counted: QoeCounted = prev
      ? { stalls: r.stalls - prev.stalls, stallMs: r.stallMs - prev.stallMs }
      : { stalls: Math.min(r.stalls, Math.floor(QOE_MAX_PER_S.stalls * sinceOpenS)), stallMs: Math.min(r.stallMs, QOE_MAX_PER_S.stallMs * sinceOpenS) };
    this.accepted++;
    this.#totals.accepted++;
    this.#viewers.delete(viewer);
    this.#viewers.set(viewer, { report: r, at: now, openedAt: opened });
    while (this.#viewers.size > this.limits.maxViewers) {
      const oldest = this.#viewers.keys().next().value as number;
      this.#viewers.delete(oldest);
      this.evicted++;
    }
    const listener = this.onReport;
    if (listener) {
      try {
        listener(this.stream, r, viewer, counted);
      } catch {
        this.listenerErrors++;
      }
    }
    return 'accepted';
  }

  /** The viewer left: forget its report. */
  remove(viewer: number): void {
    this.#viewers.delete(viewer);
  }

  /** The latest report of a viewer, if held. */
  report(viewer: number): QoeReport | undefined {
    return this.#viewers.get(viewer)?.report ?? undefined;
  }

  summary(now: number): QoeSummary {
    const lat: number[] = [];
    let viewers = 0;
    let stalls = 0;
    let stallMs = 0;
    let pinned = 0;
    for (const e of this.#viewers.values()) {
      if (!e.report || now - e.at > this.limits.staleMs) continue;
      viewers++;
      stalls += e.report.stalls;
      stallMs += e.report.stallMs;
      if (e.report.pinned) pinned++;
      if (e.report.latencyMs !== null) lat.push(e.report.latencyMs);
    }
    lat.sort((a, b) => a - b);
    const has = lat.length > 0;
    const r = (x: number): number => Math.round(x * 10) / 10;
    return {
      viewers,
      latencyP50Ms: has ? r(percentile(lat, 50)) : null,
      latencyP95Ms: has ? r(percentile(lat, 95)) : null,
      spreadMs: has ? r(lat[lat.length - 1]! - lat[0]!) : null,
      spreadP95P5Ms: has ? r(percentile(lat, 95) - percentile(lat, 5)) : null,
      stalls,
      stallMs: Math.round(stallMs),
      pinned,
      accepted: this.accepted,
      rejected: this.rejected,
      implausible: this.implausible,
      rateLimited: this.rateLimited,
    };
  }
}
