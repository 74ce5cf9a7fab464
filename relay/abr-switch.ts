// Per-viewer rendition switching (docs/abr.md): on every sweep, each viewer of a stream with a
// ladder is judged by what its acks say (relay/flow.ts) through the policy app/ wires in (the
// rule is abr/switch-rule.ts), and a switch happens at a keyframe: the viewer leaves the stream
// that feeds it at that stream's next keyframe, and the target sends its info and init, then
// its media from that same keyframe (renditions share the source's keyframes and decode
// times). A rendition that stops producing sends its viewers home to the source at once.
import type { Logger } from '../util/log.js';
import type { FlowEstimate } from './flow.js';
import { PathProbe, sendProbe, type ProbeResult } from './probe.js';
import type { Stream } from './stream.js';
import type { Viewer, ViewerData } from './viewer.js';

/** A lower rendition of a stream, as the ladder runs it. */
export interface RenditionOffer {
  name: string;
  height: number;
  /** Its configured video bitrate (bits/s), until its measured rate is known. */
  bitrate: number;
  /** Its relay stream (an internal name). */
  stream: string;
  /** Producing now: false from a transcoder's failure until its restart's first chunk. */
  up: boolean;
}

/** What the relay asks of the ABR ladder and its rule (abr/policy.ts implements it). */
export interface AbrPolicy {
  /** The lower renditions of `stream` running now, highest first. */
  renditions(stream: string): RenditionOffer[];
  /**
   * A new viewer's switching rule: the index to use now (0: the source, i: renditions()[i - 1]),
   * and a rate to probe its path for now (bits/s; 0: none).
   */
  viewer(): (path: FlowEstimate, ladder: { bitrates: number[]; top: number; pinned: number }, current: number, now: number, probe?: ProbeResult) => { rendition: number; probeBps: number };
}

/** A viewer's choice (the `rendition` control message, docs/protocol.md). */
export interface RenditionRequest {
  /** Pin this rendition ('source' or a ladder name); null: automatic. */
  rendition: string | null;
  /** Never above this height (px); 0: no cap. */
  maxHeight: number;
}

interface ViewerAbr {
  rule: ReturnType<AbrPolicy['viewer']>;
  request: RenditionRequest;
  /** A switch is scheduled (at the feeding stream's next keyframe). */
  pending: boolean;
}

/** One stream's ladder as a sweep sees it: index 0 the source, then each rendition. */
interface Ladder {
  all: Array<Stream | undefined>;
  /** Per rendition (index − 1): producing now. */
  healthy: boolean[];
  heights: number[];
  /** 'source', then each rendition's name. */
  names: string[];
  /** The lowest index offered: the ladder down to its last healthy rendition. */
  last: number;
  /** Measured (or configured) bits/s of each offered index. */
  offered: number[];
}

/** A rendition with no chunk for this long (ms) is failing: its viewers go home. */
const STALE_MS = 1500;
/** A down-switch with this much lag (ms) stops the old rendition at once instead of at its next keyframe. */
const CONGESTED_LAG_MS = 300;
/** … or with acknowledged throughput under this share of the rendition's rate. */
const CONGESTED_THROUGHPUT_SHARE = 0.8;
/** Measured rate: bytes over about this long (ms). */
const RATE_TAU_MS = 3000;

export interface SwitchCounts {
  up: number;
  down: number;
  /** Sent home because their rendition stopped producing. */
  home: number;
  /** Bandwidth probes sent, and answered in time (relay/probe.ts). */
  probes: number;
  probesAnswered: number;
}

export class AbrSwitch {
  readonly #policy: AbrPolicy;
  readonly #stream: (name: string) => Stream | undefined;
  readonly #log: Logger;
  readonly #viewers = new WeakMap<ViewerData, ViewerAbr>();
  /** Measured bits/s of each stream fed (source and renditions); forgotten with the stream. */
  readonly #rates = new WeakMap<Stream, { bytes: number; at: number; bps: number }>();
  readonly counts: SwitchCounts = { up: 0, down: 0, home: 0, probes: 0, probesAnswered: 0 };

  constructor(policy: AbrPolicy, stream: (name: string) => Stream | undefined, log: Logger) {
    this.#policy = policy;
    this.#stream = stream;
    this.#log = log;
  }

  /** A viewer asked for a rendition or a cap; applied at its next decision. */
  request(v: Viewer, r: RenditionRequest): void {
    this.#state(v.getUserData()).request = r;
  }

  /** A viewer's `probed` (docs/protocol.md#probe); false when it answers no probe of ours. */
  probed(v: Viewer, msg: object, now: number): boolean {
    const { id, ms } = msg as { id?: unknown; ms?: unknown };
    const ok = v.getUserData().probe?.answer(id, ms, now) ?? false;
    if (!ok) return false;
    this.counts.probesAnswered++;
    this.#log.debug({ viewer: v.getUserData().id, bps: Math.round(v.getUserData().probe!.bps) }, 'probe answered');
    return true;
  }

  /** Runs every relay sweep, over the public streams. */
  sweep(streams: Iterable<Stream>, now: number): void {
    for (const p of streams) {
      const cut = p.name.indexOf('~');
      if (cut > 0) { this.#orphans(p, p.name.slice(0, cut)); continue; }
      const offers = this.#policy.renditions(p.name);
      const feeds = offers.map((o) => this.#stream(o.stream));
      if (!offers.length && !feeds.length) continue;
      const healthy = feeds.map((f, i) => f !== undefined && offers[i]!.up && f.state === 'live' && f.info !== null && now - f.lastChunkAt < STALE_MS);
      const bitrates = [this.#rate(p, now), ...offers.map((o, i) => (feeds[i] ? this.#rate(feeds[i]!, now) : 0) || o.bitrate)];
      const sourceHeight = p.info?.tracks.find((t) => t.kind === 'video')?.height ?? Infinity;
      const heights = [sourceHeight, ...offers.map((o) => o.height)];
      const all: Array<Stream | undefined> = [p, ...feeds];
      // A rendition that stopped: everyone on it goes home now (a gap, not a frozen picture).
      for (let i = 1; i < all.length; i++) {
        const f = all[i];
        if (!f || healthy[i - 1]) continue;
        for (const v of [...f.viewerSet]) this.#home(v, f, p);
      }
      // Per stream, not per viewer: the sweep visits every viewer of a laddered stream.
      const names = ['source', ...offers.map((o) => o.stream.slice(o.stream.indexOf('~') + 1))];
      // Unhealthy renditions are not offered: the rule sees the ladder down to the last healthy one.
      let last = 0;
      while (last + 1 < all.length && healthy[last]) last++;
      const ladder: Ladder = { all, healthy, heights, names, last, offered: bitrates.slice(0, last + 1) };
      for (let i = 0; i < all.length; i++) {
        const f = all[i];
        if (!f) continue;
        for (const v of [...f.viewerSet]) this.#decide(v, i, f, ladder, now);
      }
    }
  }

  /** The source went offline: every viewer on one of its renditions goes back to it now. */
  home(p: Stream): void {
    for (const o of this.#policy.renditions(p.name)) {
      const f = this.#stream(o.stream);
      if (f) for (const v of [...f.viewerSet]) this.#home(v, f, p);
    }
  }

  /** Viewers on a rendition the ladder no longer runs (the source went away, or came back smaller) go home. */
  #orphans(r: Stream, source: string): void {
    if (!r.viewerSet.size) return;
    const p = this.#stream(source);
    if (!p || this.#policy.renditions(source).some((o) => o.stream === r.name)) return;
    for (const v of [...r.viewerSet]) this.#home(v, r, p);
  }

  #decide(v: Viewer, current: number, feed: Stream, { all, healthy, heights, names, last, offered }: Ladder, now: number): void {
    const d = v.getUserData();
    if (d.closed) return;
    const st = this.#state(d);
    if (st.pending) return;
    const { rendition, maxHeight } = st.request;
    let pinned = rendition === null ? -1 : names.indexOf(rendition);
    if (pinned > 0 && !healthy[pinned - 1]) pinned = -1;
    let top = 0;
    if (maxHeight > 0) while (top < heights.length - 1 && (heights[top]! > maxHeight || (top > 0 && !healthy[top - 1]))) top++;
    const path = feed.flow(v);
    const probe = (d.probe ??= new PathProbe());
    const { rendition: want, probeBps } = st.rule(path, { bitrates: offered, top: Math.min(top, last), pinned: pinned > last ? -1 : pinned }, Math.min(current, last), now, probe);
    if (probeBps > 0 && sendProbe(v, probe, probeBps, now)) this.counts.probes++;
    if (want === current || !all[want]) return;
    const target = all[want]!;
    const congested = want > current && pinned < 0 && stopsAtOnce(path, offered[current] ?? 0);
    if (congested) {
      // What the old rendition would send until its next keyframe only queues behind the backlog
      // on the path. Stop it now; the target starts at its next keyframe, which is about as soon
      // (it is behind the source). The player bridges the hole as after a skip.
      feed.removeViewer(v);
      target.switchIn(v, Infinity);
    } else {
      st.pending = true;
      feed.leaveAtKeyframe(v, (dts) => {
        st.pending = false;
        target.switchIn(v, dts);
      });
    }
    if (want < current) this.counts.up++;
    else this.counts.down++;
    this.#log.debug({ viewer: d.id, from: feed.name, to: target.name, congested, lagMs: path.lagMs, queueMs: path.queueMs, bps: Math.round(path.throughputBps) }, 'rendition switch');
  }

  #home(v: Viewer, from: Stream, p: Stream): void {
    const st = this.#state(v.getUserData());
    st.pending = false;
    from.removeViewer(v);
    p.switchIn(v, -Infinity);
    this.counts.home++;
  }

  #rate(s: Stream, now: number): number {
    const r = this.#rates.get(s);
    const bytes = s.counters.bytes;
    if (!r) {
      this.#rates.set(s, { bytes, at: now, bps: 0 });
      return 0;
    }
    if (now - r.at >= 250) {
      const sample = ((bytes - r.bytes) * 8 * 1000) / (now - r.at);
      const a = 1 - Math.exp(-(now - r.at) / RATE_TAU_MS);
      r.bps = r.bps === 0 ? sample : r.bps + a * (sample - r.bps);
      r.bytes = bytes;
      r.at = now;
    }
    return r.bps;
  }

  #state(d: ViewerData): ViewerAbr {
    let st = this.#viewers.get(d);
    if (!st) {
      st = { rule: this.#policy.viewer(), request: { rendition: null, maxHeight: 0 }, pending: false };
      this.#viewers.set(d, st);
    }
    return st;
  }
}

/**
 * Whether a down-switch on this path stops the old rendition at once rather than at its next
 * keyframe: the path is behind, or carries less than the rendition's rate `rateBps` (a path cut
 * to half of it takes 2 s to carry the up to 1 s the old rendition would send until then).
 */
export function stopsAtOnce(path: Pick<FlowEstimate, 'lagMs' | 'queueMs' | 'throughputBps'>, rateBps: number): boolean {
  return Math.max(path.lagMs, path.queueMs) > CONGESTED_LAG_MS || (path.throughputBps > 0 && path.throughputBps < rateBps * CONGESTED_THROUGHPUT_SHARE);
}

/** The `rendition` control message's fields, checked (docs/protocol.md); null: malformed. */
export function parseRenditionRequest(msg: object): RenditionRequest | null {
  const { rendition, maxHeight } = msg as { rendition?: unknown; maxHeight?: unknown };
  if (rendition !== undefined && rendition !== null && (typeof rendition !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,15}$/.test(rendition))) return null;
  if (maxHeight !== undefined && maxHeight !== null && (typeof maxHeight !== 'number' || !Number.isInteger(maxHeight) || maxHeight < 0 || maxHeight > 10_000)) return null;
  return { rendition: typeof rendition === 'string' ? rendition : null, maxHeight: typeof maxHeight === 'number' ? maxHeight : 0 };
}
