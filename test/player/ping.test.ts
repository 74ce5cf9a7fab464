// The ping schedule on a simulated clock.
import { describe, expect, it } from 'vitest';
import { FIRST_PING_MS, PingSchedule, QUICK_PING_MS, QUICK_PINGS } from '../../player/ping.js';

const INTERVAL_MS = 2000;

/** The times (ms) at which pings go out when asked every `tickMs` from `from` to `to`. */
function pings(s: PingSchedule, from: number, to: number, tickMs = 50): number[] {
  const out: number[] = [];
  for (let now = from; now <= to; now += tickMs) if (s.due(now, INTERVAL_MS)) out.push(now);
  return out;
}

describe('PingSchedule', () => {
  it('sends nothing before a socket opens', () => {
    expect(pings(new PingSchedule(), 0, 60_000)).toEqual([]);
  });

  it('waits out the join burst, pings quickly a few times, then every interval', () => {
    const s = new PingSchedule();
    s.opened(1000);
    const at = pings(s, 1000, 1000 + FIRST_PING_MS + (QUICK_PINGS - 1) * QUICK_PING_MS + 2 * INTERVAL_MS);
    const first = 1000 + FIRST_PING_MS;
    const quick = Array.from({ length: QUICK_PINGS }, (_, i) => first + i * QUICK_PING_MS);
    const last = quick[quick.length - 1]!;
    expect(at).toEqual([...quick, last + INTERVAL_MS, last + 2 * INTERVAL_MS]);
  });

  it('starts over on every new socket', () => {
    const s = new PingSchedule();
    s.opened(0);
    pings(s, 0, 10_000);
    s.opened(20_000);
    expect(pings(s, 20_000, 20_000 + FIRST_PING_MS + QUICK_PING_MS)).toEqual([20_000 + FIRST_PING_MS, 20_000 + FIRST_PING_MS + QUICK_PING_MS]);
  });

  it('a late tick pings once and counts from then', () => {
    const s = new PingSchedule();
    s.opened(0);
    expect(s.due(5000, INTERVAL_MS)).toBe(true);
    expect(s.due(5000 + QUICK_PING_MS - 1, INTERVAL_MS)).toBe(false);
    expect(s.due(5000 + QUICK_PING_MS, INTERVAL_MS)).toBe(true);
  });
});
