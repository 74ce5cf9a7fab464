// The in-flight bound on a simulated clock: a 30 fps stream with a keyframe a second, one
// viewer whose path delivers `rate` of the stream's bytes, acking every `ackMs`; the sweep runs
// every 50 ms with a send buffer the kernel keeps empty (what getBufferedAmount() sees with
// Linux's default tcp_wmem). Table rows say when the viewer is first skipped and by which rule.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { afterSweep, onChunk, type DeliveryState, type SkipRule } from '../../relay/drop-policy.js';
import { ACK_GRACE_MS, ChunkLog, UNKNOWN_LAG_MS, ViewerFlow } from '../../relay/flow.js';
import { parseAck } from '../../relay/flow-ack.js';
import { ACK_INTERVAL_MS } from '../../protocol/messages.js';

const limits = { slowBytes: 512 * 1024, resumeBytes: 64 * 1024, maxInFlightMs: 1000 };
const FRAME_MS = 1000 / 30;
const CHUNK_BYTES = 8000; // ~1.9 Mbit/s

interface Run { firstSkipMs: number | null; rule: SkipRule | null; skips: number; resumes: number; maxLagMs: number; throughputBps: number }

/** `rate`: share of the stream's rate the path delivers; `acks`: whether the viewer acknowledges. */
function simulate(rate: number, acks: boolean, seconds: number, ackMs = 200, stallFromMs = Infinity, stallMs = 0): Run {
  const log = new ChunkLog();
  const flow = new ViewerFlow();
  let state: DeliveryState = 'live';
  const queue: Array<{ seq: number; bytes: number }> = []; // sent, not yet delivered
  let credit = 0; // bytes the path may deliver now
  let received = -1;
  let cum = 0;
  let seq = 0;
  const run: Run = { firstSkipMs: null, rule: null, skips: 0, resumes: 0, maxLagMs: 0, throughputBps: 0 };
  flow.fedFrom(0);
  for (let now = 0; now <= seconds * 1000; now += 1) {
    if (now % FRAME_MS < 1) {
      const keyframe = seq % 30 === 0;
      if (keyframe && state === 'waiting') flow.fedFrom(seq * FRAME_MS / 1000);
      const was = state;
      state = onChunk(state, keyframe);
      if (was === 'waiting' && state === 'live') run.resumes++;
      cum += CHUNK_BYTES;
      log.record(seq, (seq * FRAME_MS) / 1000, cum, now);
      if (state === 'live') queue.push({ seq, bytes: CHUNK_BYTES });
      seq++;
    }
    const stalled = now >= stallFromMs && now < stallFromMs + stallMs;
    if (!stalled) credit += (rate * CHUNK_BYTES * 30) / 1000;
    while (queue.length && credit >= queue[0]!.bytes) {
      credit -= queue[0]!.bytes;
      received = queue.shift()!.seq;
    }
    if (!queue.length) credit = Math.min(credit, CHUNK_BYTES);
    if (acks && received >= 0 && now % ackMs === 0) flow.onAck(1, received, 1, log, now);
    if (now % 50 === 0) {
      const inFlight = flow.update(log, 1, now);
      run.maxLagMs = Math.max(run.maxLagMs, inFlight);
      const v = afterSweep(state, 0, inFlight, limits);
      if (v.rule) {
        run.skips++;
        run.firstSkipMs ??= now;
        run.rule ??= v.rule;
        flow.stopped(log.lastDtsMs); // what it had in flight still drains through the path
      }
      state = v.state;
    }
  }
  run.throughputBps = flow.throughputBps;
  return run;
}

describe('the in-flight bound on a simulated clock', () => {
  it.each<[string, number, boolean, boolean, number]>([
    // label, rate, acks, skipped?, skipped within (ms)
    ['a path at the stream\'s rate', 1.2, true, false, 0],
    ['a path at 25 % of the rate', 0.25, true, true, 2400],
    ['a path at 50 % of the rate', 0.5, true, true, 3300],
    ['a path at 25 % that never acks (bytes only, the kernel hides it)', 0.25, false, false, 0],
  ])('%s: skipped=%s', (_label, rate, acks, skipped, within) => {
    const r = simulate(rate, acks, 10);
    if (!skipped) {
      expect(r.skips).toBe(0);
      return;
    }
    expect(r.rule).toBe('ack');
    expect(r.firstSkipMs).toBeLessThanOrEqual(within);
    // It resumes at keyframes and is stopped again: the bound holds, the viewer keeps playing in bursts.
    expect(r.resumes).toBeGreaterThan(0);
    expect(r.maxLagMs).toBeLessThanOrEqual(limits.maxInFlightMs + ACK_INTERVAL_MS + 100 + FRAME_MS); // acks arrive an interval apart
  });

  it('measures the acknowledged throughput of a healthy path as the stream\'s rate', () => {
    const r = simulate(1.2, true, 10);
    expect(r.throughputBps).toBeGreaterThan(CHUNK_BYTES * 8 * 30 * 0.9);
    expect(r.throughputBps).toBeLessThan(CHUNK_BYTES * 8 * 30 * 1.1);
  });

  it('skips a viewer whose path stops for 2 s, and resumes it at a keyframe once its acks return', () => {
    const r = simulate(1.5, true, 8, 200, 3000, 2000);
    expect(r.rule).toBe('ack');
    expect(r.firstSkipMs).toBeGreaterThan(3000);
    expect(r.firstSkipMs).toBeLessThanOrEqual(3000 + 1000 + ACK_GRACE_MS + 200 + 100);
    expect(r.resumes).toBe(1);
  });

  it('does not stop a viewer for a burst it takes in at once (a join, the backlog after the relay stalled), only for lag past the grace', () => {
    const log = new ChunkLog();
    const f = new ViewerFlow();
    for (let q = 0; q <= 30; q++) log.record(q, q / 30, 0, 0);
    f.onAck(1, 30, 1, log, 0);
    f.fedFrom(0);
    for (let now = 0; now <= 1000; now += 50) expect(f.update(log, 1, now)).toBe(0);
    // The relay froze for 2 s; 60 chunks go out at once at 3000; the viewer acks them by 3200.
    for (let q = 31; q <= 90; q++) log.record(q, q / 30, 0, 3000);
    for (let now = 3000; now <= 3400; now += 50) {
      if (now === 3200) f.onAck(1, 90, 1, log, now);
      expect(afterSweep('live', 0, f.update(log, 1, now), limits).rule).toBeNull();
    }
    // 2 s more sent at 3450 and never acked: acted on once it is due (ACK_GRACE_MS).
    for (let q = 91; q <= 150; q++) log.record(q, q / 30, 0, 3450);
    let skippedAt = -1;
    for (let now = 3450; now <= 5000 && skippedAt < 0; now += 50) {
      if (afterSweep('live', 0, f.update(log, 1, now), limits).rule === 'ack') skippedAt = now;
    }
    expect(skippedAt).toBeGreaterThanOrEqual(3450 + ACK_GRACE_MS);
    expect(skippedAt).toBeLessThanOrEqual(3450 + ACK_GRACE_MS + 50);
  });

  it('ignores acks of another generation, of chunks not sent yet, and of chunks it no longer holds', () => {
    const log = new ChunkLog();
    for (let s = 0; s < 600; s++) log.record(s, s / 30, s * 100, 0);
    const f = new ViewerFlow();
    expect(f.onAck(2, 599, 1, log, 0)).toBe(false);
    expect(f.onAck(1, 600, 1, log, 0)).toBe(false);
    expect(f.onAck(1, 10, 1, log, 0)).toBe(false);
    expect(f.onAck(1, -1, 1, log, 0)).toBe(false);
    expect(f.onAck(1, 1.5, 1, log, 0)).toBe(false);
    expect(f.acking).toBe(false);
    expect(f.update(log, 1)).toBe(-1);
    expect(f.onAck(1, 590, 1, log, 0)).toBe(true);
    f.update(log, 1, 1000);
    expect(f.lagMs).toBeCloseTo(9 * 1000 / 30, 6);
    // A new generation at the relay: its old acks say nothing.
    expect(f.update(log, 2)).toBe(-1);
  });

  it('counts a viewer fed from a resume point as acknowledged up to it, and an unknown point as far behind', () => {
    const log = new ChunkLog();
    for (let s = 0; s < 90; s++) log.record(s, s / 30, 0, 0);
    const f = new ViewerFlow();
    f.onAck(1, 30, 1, log, 0);
    f.fedFrom(60 / 30);
    f.update(log, 1, 1000);
    expect(f.lagMs).toBeCloseTo(29 * 1000 / 30, 6);
    expect(UNKNOWN_LAG_MS).toBeGreaterThan(limits.maxInFlightMs);
  });
});

describe('the ack\'s fast reader', () => {
  const ab = (s: string): ArrayBuffer => new Uint8Array(Buffer.from(s)).buffer;
  it.each<[string, { g: number; seq: number } | null]>([
    ['{"type":"ack","g":3,"seq":1234}', { g: 3, seq: 1234 }],
    ['{"type":"ack","g":0,"seq":0}', { g: 0, seq: 0 }],
    ['{"type":"ack","g":3,"seq":1234 }', null],
    ['{"type":"ack","g":3,"seq":-1}', null],
    ['{"type":"ack","g":3,"seq":12.5}', null],
    ['{"type":"ack","g":,"seq":1}', null],
    ['{"type":"ack","g":3,"seq":1234567890123456}', null],
    ['{"type":"ack","seq":1,"g":3}', null],
    ['{"type":"ping","t0":1}', null],
    ['{"type":"ack","g":3,"seq":12}}', null],
    ['{"type":"ack","g":0,"seq":00}', null], // a leading zero: not JSON (found by the fuzz test below)
    ['{"type":"ack","g":03,"seq":1}', null],
    ['{"type":"ack","g":10,"seq":10}', { g: 10, seq: 10 }],
    ['', null],
  ])('reads %s as %o', (text, want) => {
    expect(parseAck(ab(text))).toEqual(want);
  });
});

describe('hostile acks', () => {
  const ab = (b: Uint8Array): ArrayBuffer => new Uint8Array(b).buffer;

  it('never throws on arbitrary bytes, and whatever it accepts is exactly the ack JSON.parse reads', () => {
    fc.assert(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 4 })).map(([g, s, tail]) => new Uint8Array(Buffer.from(`{"type":"ack","g":${g},"seq":${s}${tail}`))),
    ), (bytes) => {
      const r = parseAck(ab(bytes));
      if (r === null) return;
      const j = JSON.parse(Buffer.from(bytes).toString('utf8')) as { type: string; g: number; seq: number };
      expect(j).toEqual({ type: 'ack', g: r.g, seq: r.seq });
      expect(Number.isSafeInteger(r.g) && Number.isSafeInteger(r.seq)).toBe(true);
    }), { numRuns: 20_000, seed: 20261206 });
  });

  it('refuses a truncated or oversized ack', () => {
    const full = '{"type":"ack","g":3,"seq":1234}';
    for (let n = 0; n < full.length; n++) expect(parseAck(ab(Buffer.from(full.slice(0, n))))).toBeNull();
    expect(parseAck(ab(Buffer.from(`{"type":"ack","g":3,"seq":1234}${' '.repeat(100)}`)))).toBeNull();
  });

  it('a flood of forged acks (other generations, unsent or huge sequence numbers, any timing) never makes the lag, queue or throughput negative or NaN, and is refused', () => {
    const log = new ChunkLog();
    for (let s = 0; s < 60; s++) log.record(s, s / 30, s * 1000, s * 33);
    const f = new ViewerFlow();
    let accepted = 0;
    const finiteNonNegative = (x: number): void => {
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
    };
    fc.assert(fc.property(fc.integer({ min: -2, max: 3 }), fc.oneof(fc.integer({ min: -10, max: 100 }), fc.constant(Number.MAX_SAFE_INTEGER)), fc.integer({ min: 0, max: 5000 }), (g, seq, at) => {
      if (f.onAck(g, seq, 1, log, at)) accepted++;
      const lag = f.update(log, 1, 1000);
      expect(Number.isNaN(lag)).toBe(false);
      for (const x of [f.lagMs, f.throughputBps, f.lastSampleBps, f.queueMs]) finiteNonNegative(x);
    }), { numRuns: 10_000, seed: 20261206 });
    // Only acks of this generation that name a chunk the log holds were taken.
    expect(accepted).toBeGreaterThan(0);
    expect(f.onAck(1, 60, 1, log, 500)).toBe(false);
    expect(f.onAck(2, 10, 1, log, 500)).toBe(false);
  });
});

describe('the stream rate a chunk log reads', () => {
  it('is the bytes over the last ~2 s of media, and 0 before two chunks', () => {
    const log = new ChunkLog();
    expect(log.rateBps()).toBe(0);
    let bytes = 0;
    // 4 s at 30 chunks/s: 1,000 bytes each for 2 s, then 2,000 bytes each.
    for (let seq = 0; seq < 120; seq++) {
      bytes += seq < 60 ? 1000 : 2000;
      log.record(seq, seq / 30, bytes, 0);
      if (seq === 0) expect(log.rateBps()).toBe(0);
    }
    expect(log.rateBps()).toBeCloseTo(2000 * 8 * 30, -2);
    log.reset();
    expect(log.rateBps()).toBe(0);
  });
});

describe('what a viewer\'s acks say just after a frozen path released its backlog', () => {
  it('the last ack\'s sample shows the burst the 1 s average still hides', () => {
    const log = new ChunkLog();
    const f = new ViewerFlow();
    let bytes = 0;
    // 30 chunks/s of 6,000 bytes (1.44 Mbit/s), acked every 500 ms for 2 s.
    for (let seq = 0; seq < 120; seq++) {
      bytes += 6000;
      log.record(seq, seq / 30, bytes, seq * 33);
      if (seq % 15 === 14 && seq < 60) f.onAck(1, seq, 1, log, seq * 33 + 20);
    }
    // Then 2 s of silence; at 4.0 s the first chunk of the backlog is acked, 100 ms later the
    // next 15 (half a second of media): the average is still below the stream's rate.
    expect(f.onAck(1, 60, 1, log, 4000)).toBe(true);
    expect(f.onAck(1, 75, 1, log, 4100)).toBe(true);
    expect(f.lastSampleBps).toBeGreaterThan(3 * log.rateBps());
    expect(f.throughputBps).toBeLessThan(log.rateBps());
  });
});

describe('the queue a viewer\'s acks show', () => {
  /** A log of chunks sent every 33 ms from `from` (ms), seq = index. */
  const sentLog = (n: number, from = 0): ChunkLog => {
    const log = new ChunkLog();
    for (let seq = 0; seq < n; seq++) log.record(seq, seq / 30, (seq + 1) * 5000, from + seq * 33);
    return log;
  };

  it('is each ack\'s delay after its chunk went out over the least recent one, known at every ack', () => {
    const log = sentLog(300);
    const f = new ViewerFlow();
    f.fedFrom(0, 0);
    // Acked 20 ms after sending for 3 s, then the path queues: 20 ms more at every ack.
    for (let seq = 0; seq < 90; seq += 6) f.onAck(1, seq, 1, log, seq * 33 + 20);
    expect(f.queueMs).toBe(0);
    let extra = 0;
    for (let seq = 90; seq < 150; seq += 6) f.onAck(1, seq, 1, log, seq * 33 + 20 + (extra += 20));
    expect(f.queueMs).toBe(extra);
    expect(extra).toBe(200);
  });

  it('does not count a resume\'s GOP, which went out to the live viewers before this one was fed again', () => {
    const log = sentLog(200);
    const f = new ViewerFlow();
    f.fedFrom(0, 0);
    for (let seq = 0; seq <= 30; seq += 6) f.onAck(1, seq, 1, log, seq * 33 + 30); // 30 ms
    // Stopped, then fed again at 5,000 ms from a GOP whose first chunk (120) went out at 3,960 ms.
    f.fedFrom(120 / 30, 5000);
    f.onAck(1, 150, 1, log, 5040);
    expect(f.queueMs).toBe(0);
    f.onAck(1, 160, 1, log, 160 * 33 + 30);
    expect(f.queueMs).toBe(0);
  });

  it('forgets a baseline older than twice QUEUE_BASELINE_MS (the path changed)', () => {
    const log = sentLog(600);
    const f = new ViewerFlow();
    f.fedFrom(0, 0);
    f.onAck(1, 0, 1, log, 10); // 10 ms
    for (let seq = 6; seq < 600; seq += 6) f.onAck(1, seq, 1, log, seq * 33 + 80); // 80 ms from then on
    expect(f.queueMs).toBe(0);
  });
});
