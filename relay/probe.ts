// Bandwidth probes (docs/protocol.md#probe, docs/abr.md). A viewer on a lower rendition can
// only show, by its acks, the rate it is sent: whether its path now carries the rendition above
// is unknown until something tries. Trying that rendition itself costs a stall whenever the
// answer is no (bench:network's bottleneck: 2 stalls per try). A probe asks the path instead:
// part 0, then at once part 1 padded to what the rate to prove carries in PROBE_SPAN_MS. They
// queue back to back, so part 1 arrives after part 0 by about its bytes over the narrowest
// link's rate; the player answers with that time. A no costs the media behind it that time
// once (~90 ms at 1.2 Mbit/s for a 2.7 Mbit/s rendition), not a stall.

import { MAX_PROBE_MS, type ProbeMessage } from '../protocol/messages.js';

/** Part 1 carries what the rate to prove carries in this long (ms). */
export const PROBE_SPAN_MS = 40;
/** Part 1's size bounds (bytes): big enough to time against the browser's clock, small enough to cost little. */
export const MIN_PROBE_BYTES = 4096;
export const MAX_PROBE_BYTES = 65_536;
/** A probe unanswered this long (ms) is lost; another may go. */
export const PROBE_TIMEOUT_MS = 3000;
/** Probes lost in a row, none ever answered: the viewer does not answer probes (an older player). */
export const DEAF_AFTER = 2;
/** A probe is not sent into a send buffer holding more than this (bytes): it would measure the backlog. */
const MAX_BUFFERED = 16_384;
/** Faster than this (bits/s) is not told apart: the clock's resolution, not the path. */
const MAX_BPS = 1e9;

/** What the switching rule reads of a viewer's probes (abr/switch-rule.ts ProbeNow). */
export interface ProbeResult {
  /** Rate the last answered probe showed (bits/s); 0: none. */
  readonly bps: number;
  /** When it was answered (relay clock, ms); 0: never. */
  readonly at: number;
  /** The viewer has answered a probe (it runs a player that knows them). */
  readonly answers: boolean;
  /** The viewer lost DEAF_AFTER probes in a row and never answered one: do not ask it. */
  readonly deaf: boolean;
}

/** Part 1's size (bytes) to prove a rate of `bps`. */
export function probeBytes(bps: number): number {
  const bytes = Number.isFinite(bps) && bps > 0 ? Math.round((bps * PROBE_SPAN_MS) / 8000) : MIN_PROBE_BYTES;
  return Math.min(MAX_PROBE_BYTES, Math.max(MIN_PROBE_BYTES, bytes));
}

/** One viewer's probes; it outlives rendition switches (relay/viewer.ts ViewerData.probe). */
export class PathProbe implements ProbeResult {
  bps = 0;
  at = 0;
  answers = false;
  #lost = 0;
  #nextId = 1;
  /** The probe out now: its id, part 1's bytes and when it went; id 0: none. */
  #id = 0;
  #bytes = 0;
  #sentAt = 0;

  get deaf(): boolean {
    return !this.answers && this.#lost >= DEAF_AFTER;
  }

  /** A probe of part-1 size `bytes` may go at `now`: its id, or 0 while one is still out. */
  begin(bytes: number, now: number): number {
    if (this.#id !== 0) {
      if (now - this.#sentAt < PROBE_TIMEOUT_MS) return 0;
      this.#lost++;
    }
    this.#id = this.#nextId++;
    this.#bytes = bytes;
    this.#sentAt = now;
    return this.#id;
  }

  /**
   * The viewer's `probed`: part 1 of probe `id` arrived `ms` after part 0. False for anything
   * but the probe out now with a time in bounds; a viewer's answers move only its own rendition.
   */
  answer(id: unknown, ms: unknown, now: number): boolean {
    if (this.#id === 0 || id !== this.#id || typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_PROBE_MS)) return false;
    this.bps = ms > 0 ? Math.min(MAX_BPS, (this.#bytes * 8 * 1000) / ms) : MAX_BPS;
    this.at = now;
    this.answers = true;
    this.#lost = 0;
    this.#id = 0;
    return true;
  }
}

/** The two frames of probe `id` with part 1 about `bytes` long. */
export function probeFrames(id: number, bytes: number): [string, string] {
  const head: ProbeMessage = { type: 'probe', id, part: 1, pad: '' };
  const overhead = JSON.stringify(head).length;
  const pad = '.'.repeat(Math.max(0, bytes - overhead));
  return [JSON.stringify({ type: 'probe', id, part: 0 } satisfies ProbeMessage), JSON.stringify({ ...head, pad })];
}

/** What sendProbe needs of a viewer's socket (relay/viewer.ts Viewer has it). */
export interface ProbeSocket {
  getUserData(): { closed: boolean };
  getBufferedAmount(): number;
  cork(fn: () => void): unknown;
  send(message: string, isBinary: boolean): unknown;
}

/**
 * Sends a probe proving `bps` to `v`, both parts in one cork so nothing comes between them;
 * nothing when one is still out or its send buffer holds a backlog. True when sent.
 */
export function sendProbe(v: ProbeSocket, probe: PathProbe, bps: number, now: number): boolean {
  if (v.getUserData().closed || v.getBufferedAmount() > MAX_BUFFERED) return false;
  const bytes = probeBytes(bps);
  const id = probe.begin(bytes, now);
  if (id === 0) return false;
  const [first, second] = probeFrames(id, bytes);
  v.cork(() => {
    v.send(first, false);
    v.send(second, false);
  });
  return true;
}
