// The switching decision for one viewer, pure and clocked by its caller (table tests on a
// simulated clock: test/abr/switch-rule.test.ts). Renditions are indexed from 0, the source,
// downwards (higher index: lower bitrate). Down when the viewer's acknowledged lag or
// throughput says it is not keeping up; up only after it kept up for a while with headroom
// (every QoE model penalises switches, and a failed up-switch costs a stall); never more than
// one step per decision window. While it was not keeping up, its acknowledged throughput is what
// its path carries: a rendition above that is tried again only capacityMs later (the path may
// have recovered; acks cannot show more than is sent), not at every hold. A viewer that answers
// bandwidth probes (relay/probe.ts) is asked one instead, every probeEveryMs, and goes up as soon
// as one shows the path carries the rendition above: no try, no stall when the answer is no.

/** What the relay knows of the viewer's path now (relay/flow.ts FlowEstimate). */
export interface PathNow {
  /** False for a viewer that never acknowledges: it stays where it is. */
  acking: boolean;
  /** Media sent and not acknowledged, ms. */
  lagMs: number;
  /** Acknowledged throughput, bits/s; 0 until measured. */
  throughputBps: number;
  /** The queue on its path at its newest ack, ms (relay/flow.ts queueMs); absent: 0. */
  queueMs?: number;
}

/** What the viewer's probes showed (relay/probe.ts ProbeResult). */
export interface ProbeNow {
  /** Path rate the last answered probe showed (bits/s); 0: none. */
  bps: number;
  /** When it was answered (ms, the rule's clock); 0: never. */
  at: number;
  /** The viewer answers probes. */
  answers: boolean;
  /** It never answered and lost some: do not ask it. */
  deaf: boolean;
}

export interface SwitchRules {
  /** At most one switch per this many ms. */
  windowMs: number;
  /** Lag (ms) past which the viewer goes one step down. */
  downLagMs: number;
  /** Throughput below this share of the current rendition's bitrate (with some lag) goes one step down. */
  downThroughputShare: number;
  /** The lag that must come with low throughput for it to count (a keyframe burst alone is not congestion). */
  downThroughputLagMs: number;
  /** Up only while the lag stays under this (ms)… */
  upLagMs: number;
  /** …for this long (ms) after the last switch or the last time it did not… */
  upHoldMs: number;
  /**
   * …and the acknowledged throughput covers this share of the current rendition's rate. It cannot
   * exceed what is sent, so the headroom shows as lag: every keyframe burst (several times the
   * mean rate for a moment) drained within upLagMs for the whole hold.
   */
  upHeadroom: number;
  /** An up-switch followed by a down-switch within upHoldMs doubles the next hold, up to this (ms). */
  maxUpHoldMs: number;
  /** A rendition whose rate is over capacityShare of the throughput measured while the viewer could not keep up … */
  capacityShare: number;
  /** … is tried only this long (ms) after that measure … */
  capacityMs: number;
  /** … or, for a viewer that answers probes, this long (a fallback: its probes decide). */
  probedRetryMs: number;
  /** While the capacity measured holds it down, a probe of the rendition above every this many ms. */
  probeEveryMs: number;
  /** A probe answered this long ago (ms) or less, and after the capacity was measured, counts. */
  probeFreshMs: number;
}

export const DEFAULT_SWITCH_RULES: SwitchRules = {
  windowMs: 1000,
  // relay.maxInFlightMs (1 s) skips to a keyframe: switch down well before that.
  downLagMs: 350,
  downThroughputShare: 0.8,
  downThroughputLagMs: 150,
  upLagMs: 120,
  upHoldMs: 5000,
  upHeadroom: 0.8,
  // Within the 15 s in which a viewer should be back up after its path recovered.
  maxUpHoldMs: 12_000,
  capacityShare: 0.85,
  // bench:network's bottleneck: at the 5 s hold a 1.2 Mbit/s path tried the 2.7 Mbit/s source
  // twice in a 30 s cut, each try 1–2 stalls and seconds of latency.
  capacityMs: 12_000,
  // Probes cost ~40 ms of the rendition above's bytes each; every 3 s finds a recovered path
  // well within the 15 s, and the hold before the first keeps a short dip from probing at all.
  // The timed try stays for probes that read a path low, past bench:network's 30 s cut.
  probedRetryMs: 45_000,
  probeEveryMs: 3000,
  probeFreshMs: 2000,
};

export interface SwitchState {
  current: number;
  /** When the last switch happened (ms); -Infinity: never. */
  lastSwitchAt: number;
  /** Since when the viewer has kept up (ms); NaN: not keeping up now. */
  goodSince: number;
  /** The hold the next up-switch needs (ms), doubled by a failed up-switch. */
  upHoldMs: number;
  /** When the last up-switch happened (ms). */
  lastUpAt: number;
  /** Throughput (bits/s) while it last could not keep up, and when; 0: none measured. */
  capBps: number;
  capAt: number;
  /** When it last asked for a probe (ms); -Infinity: never. A decision that sets it to `now` asks for one. */
  probeAskedAt: number;
}

export function initialSwitchState(current: number, rules: SwitchRules = DEFAULT_SWITCH_RULES): SwitchState {
  return { current, lastSwitchAt: -Infinity, goodSince: NaN, upHoldMs: rules.upHoldMs, lastUpAt: -Infinity, capBps: 0, capAt: -Infinity, probeAskedAt: -Infinity };
}

export interface Ladder {
  /** Video+audio bitrate of each rendition (bits/s), index 0 the source; 0: unknown. */
  bitrates: readonly number[];
  /** Highest rendition the viewer allows (its `maxHeight`): the lowest index it may use. */
  top: number;
  /** A rendition the viewer pinned (`rendition`), or -1. */
  pinned: number;
}

/**
 * The rendition to use now, and the state to keep. A returned probeAskedAt equal to `now` (and
 * not before) asks for a probe of the rendition above (relay/probe.ts).
 */
export function decide(s: SwitchState, path: PathNow, ladder: Ladder, now: number, r: SwitchRules = DEFAULT_SWITCH_RULES, probe?: ProbeNow): SwitchState {
  const last = ladder.bitrates.length - 1;
  const to = (current: number, up: boolean, base: SwitchState = s): SwitchState => {
    // Down soon after an up: that up-switch failed; wait longer before the next one.
    const failedUp = !up && current > s.current && now - s.lastUpAt < s.upHoldMs;
    return {
      ...base,
      current,
      lastSwitchAt: now,
      // The hold for the next step up counts from an up-switch (the path was good just now).
      goodSince: up ? now : NaN,
      upHoldMs: failedUp ? Math.min(r.maxUpHoldMs, s.upHoldMs * 2) : s.upHoldMs,
      lastUpAt: up ? now : s.lastUpAt,
    };
  };
  if (ladder.pinned >= 0 && ladder.pinned <= last) return ladder.pinned === s.current ? s : to(ladder.pinned, ladder.pinned < s.current);
  // The cap moves at once: it is the viewer's own choice, not a path estimate.
  const top = Math.min(Math.max(0, ladder.top), last);
  if (s.current < top) return to(top, false);
  if (s.current > last) return to(last, false);
  if (!path.acking) return s;
  const rate = ladder.bitrates[s.current] ?? 0;
  // Lag shows an ack interval and a round trip after the media went out; the queue at each ack.
  const behind = Math.max(path.lagMs, path.queueMs ?? 0);
  const slow = behind > r.downLagMs
    || (rate > 0 && path.throughputBps > 0 && path.throughputBps < rate * r.downThroughputShare && behind > r.downThroughputLagMs);
  const inWindow = now - s.lastSwitchAt < r.windowMs;
  if (slow) {
    // What the path carries when it cannot keep up (the acks' throughput, not what is sent).
    const capped = path.throughputBps > 0 ? { ...s, capBps: path.throughputBps, capAt: now } : s;
    if (s.current >= last || inWindow) return Number.isNaN(capped.goodSince) ? capped : { ...capped, goodSince: NaN };
    return to(s.current + 1, false, capped);
  }
  const good = behind < r.upLagMs && (rate === 0 || path.throughputBps >= rate * r.upHeadroom);
  if (!good) return Number.isNaN(s.goodSince) ? s : { ...s, goodSince: NaN };
  const since = Number.isNaN(s.goodSince) ? now : s.goodSince;
  const kept = since === s.goodSince ? s : { ...s, goodSince: since };
  if (s.current <= top || inWindow || now - Math.max(since, s.lastSwitchAt) < s.upHoldMs) return kept;
  const above = ladder.bitrates[s.current - 1] ?? 0;
  const probed = probe !== undefined && probe.at >= s.capAt && now - probe.at <= r.probeFreshMs && above <= probe.bps * r.capacityShare;
  const fits = s.capBps <= 0 || above <= s.capBps * r.capacityShare || probed || now - s.capAt >= (probe?.answers ? r.probedRetryMs : r.capacityMs);
  if (fits) return to(s.current - 1, true);
  const ask = probe !== undefined && !probe.deaf && now - s.probeAskedAt >= r.probeEveryMs;
  return ask ? { ...kept, probeAskedAt: now } : kept;
}
