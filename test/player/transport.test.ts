import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from './fakes.js';
import type { ServerMessage } from '../../protocol/messages.js';
import { backoffDelay, closeEarlySocket, HEALTHY_AFTER_MS, IDLE_TIMEOUT_MS, Transport } from '../../player/transport.js';
import type { EarlySocket, EarlySocketEvent } from '../../player/transport.js';
import type { CloseInfo, TransportHandlers } from '../../player/transport.js';

describe('backoffDelay', () => {
  it('stays within [0, min(cap, base·2^attempt)) for every attempt', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const bound = Math.min(5000, 250 * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, 250, 5000);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(bound);
      }
    }
  });

  it('spans the whole range (full jitter) at its extremes', () => {
    expect(backoffDelay(3, 250, 5000, () => 0)).toBe(0);
    expect(backoffDelay(3, 250, 5000, () => 0.999999)).toBe(1999);
    expect(backoffDelay(30, 250, 5000, () => 0.999999)).toBe(4999);
  });
});


function harness(maxAttempts = Infinity, url: string | string[] = 'ws://relay/live/x') {
  const events = { closes: [] as CloseInfo[], messages: [] as ServerMessage[], binaries: 0, malformed: 0, gaveUp: 0, order: [] as string[] };
  const handlers: TransportHandlers = {
    open: () => events.order.push('open'),
    message: (m) => {
      events.messages.push(m);
      events.order.push(m.type);
    },
    binary: (b) => {
      events.binaries += 1;
      events.order.push(`binary ${b.byteLength}`);
    },
    close: (c) => events.closes.push(c),
    malformed: () => (events.malformed += 1),
    giveUp: () => (events.gaveUp += 1),
  };
  const t = new Transport(
    url,
    { reconnect: true, baseMs: 250, maxMs: 5000, maxAttempts, WebSocketImpl: FakeSocket as unknown as typeof WebSocket },
    handlers,
  );
  return { t, events, last: () => FakeSocket.all[FakeSocket.all.length - 1]! };
}

describe('Transport', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  it('asks for arraybuffers and splits text into messages and binary into frames', () => {
    const { t, events, last } = harness();
    t.connect();
    const ws = last();
    expect(ws.binaryType).toBe('arraybuffer');
    ws.open();
    ws.onmessage?.({ data: JSON.stringify({ type: 'skip', chunks: 3, bytes: 100 }) });
    ws.onmessage?.({ data: new ArrayBuffer(8) });
    ws.onmessage?.({ data: '{not json' });
    ws.onmessage?.({ data: '[1,2]' });
    expect(events.messages).toEqual([{ type: 'skip', chunks: 3, bytes: 100 }]);
    expect(events.binaries).toBe(1);
    expect(events.malformed).toBe(2);
    expect(t.send({ type: 'ping', t0: 1 })).toBe(true);
    expect(ws.sent).toEqual(['{"type":"ping","t0":1}']);
  });

  it('backs off with growing bounds while sessions fail, and resets after a healthy one', () => {
    const { t, events, last } = harness();
    t.connect();
    for (let i = 0; i < 4; i++) {
      last().drop();
      vi.runOnlyPendingTimers();
    }
    expect(events.closes.map((c) => c.retry?.attempt)).toEqual([1, 2, 3, 4]);
    events.closes.forEach((c, i) => expect(c.retry!.delayMs).toBeLessThan(250 * 2 ** i));
    // A session that delivers media is healthy: the next failure starts from attempt 1.
    last().open();
    last().onmessage?.({ data: new ArrayBuffer(16) });
    last().drop();
    expect(events.closes[events.closes.length - 1]!.retry!.attempt).toBe(1);
    t.destroy();
  });

  it('counts a session that stayed open long enough as healthy', () => {
    const { t, events, last } = harness();
    t.connect();
    last().drop();
    vi.runOnlyPendingTimers();
    last().open();
    vi.advanceTimersByTime(HEALTHY_AFTER_MS + 10);
    last().onmessage?.({ data: '{"type":"pong","t0":1,"serverTime":2}' });
    last().drop();
    expect(events.closes.map((c) => c.retry?.attempt)).toEqual([1, 1]);
    t.destroy();
  });

  it('gives up after maxAttempts failed reconnects', () => {
    const { events, last, t } = harness(2);
    t.connect();
    for (let i = 0; i < 3; i++) {
      last().drop();
      vi.runOnlyPendingTimers();
    }
    expect(events.gaveUp).toBe(1);
    expect(FakeSocket.all).toHaveLength(3);
  });

  it('closes a silent socket itself, since a half-open connection never fires close', () => {
    const { t, events, last } = harness();
    t.connect();
    last().open();
    vi.advanceTimersByTime(IDLE_TIMEOUT_MS + 1500);
    expect(events.closes[0]?.reason).toBe('idle timeout');
    t.destroy();
  });

  it('stops reconnecting once destroyed, and destroy is idempotent', () => {
    const { t, last } = harness();
    t.connect();
    const ws = last();
    ws.open();
    t.destroy();
    t.destroy();
    expect(ws.readyState).toBe(3);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('fails over to the next URL of a list at once, and wraps around', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { t, events, last } = harness(Infinity, ['ws://edge-a/live/x', 'ws://edge-b/live/x']);
    t.connect();
    expect(last().url).toBe('ws://edge-a/live/x');
    last().open();
    last().onmessage?.({ data: new ArrayBuffer(8) });
    last().drop();
    expect(events.closes[0]?.retry?.delayMs).toBe(0);
    vi.advanceTimersByTime(0);
    expect(last().url).toBe('ws://edge-b/live/x');
    last().drop();
    // Not healthy: the next retry is a backed-off second attempt (not another instant one), and
    // goes back to the first edge.
    expect(events.closes[1]?.retry).toEqual({ attempt: 2, delayMs: 250 }); // half of base·2
    vi.advanceTimersByTime(249);
    expect(last().url).toBe('ws://edge-b/live/x');
    vi.advanceTimersByTime(1);
    expect(last().url).toBe('ws://edge-a/live/x');
    t.destroy();
    vi.restoreAllMocks();
  });

  describe('a socket the page opened before the player loaded', () => {
    /** What ops/pages.ts's script does: open the socket, and queue what it hears. */
    function earlySocket(url: string): EarlySocket & { fake: FakeSocket } {
      const fake = new FakeSocket(url);
      const events: EarlySocketEvent[] = [];
      fake.onopen = () => events.push(['open']);
      fake.onmessage = (e) => events.push(['message', e.data]);
      fake.onclose = (e) => events.push(['close', e.code, e.reason]);
      return { ws: fake as unknown as WebSocket, url, events, fake };
    }

    it('is taken over for the same URL: what it heard comes first, in order, once the current task is done, then what it hears next', async () => {
      const { t, events } = harness();
      const early = earlySocket('ws://relay/live/x');
      early.fake.open();
      early.fake.onmessage?.({ data: '{"type":"hello","v":1}' });
      early.fake.onmessage?.({ data: new ArrayBuffer(4) });
      t.connect(early);
      expect(FakeSocket.all).toEqual([early.fake]); // no second socket
      expect(early.fake.binaryType).toBe('arraybuffer');
      expect(events.order).toEqual([]); // not while the caller is still wiring the engine
      await Promise.resolve();
      early.fake.onmessage?.({ data: new ArrayBuffer(8) });
      expect(events.order).toEqual(['open', 'hello', 'binary 4', 'binary 8']);
      expect(early.events).toEqual([]);
      expect(t.connected).toBe(true);
      expect(t.send({ type: 'ping', t0: 1 })).toBe(true);
      expect(early.fake.sent).toEqual(['{"type":"ping","t0":1}']);
      t.destroy();
    });

    it('that closed before the player came is reconnected like any socket that closed', async () => {
      const { t, events, last } = harness();
      const early = earlySocket('ws://relay/live/x');
      early.fake.open();
      early.fake.drop(1011);
      t.connect(early);
      await Promise.resolve();
      expect(events.closes).toHaveLength(1);
      expect(events.closes[0]).toMatchObject({ code: 1011, retry: { attempt: 1 } });
      vi.runOnlyPendingTimers();
      expect(last()).not.toBe(early.fake);
      expect(last().url).toBe('ws://relay/live/x');
      t.destroy();
    });

    it('to another URL is closed, and the player opens its own', () => {
      const { t, last } = harness();
      const early = earlySocket('ws://relay/live/other');
      early.fake.open();
      t.connect(early);
      expect(early.fake.closes).toBe(1);
      expect(early.fake.onmessage).toBeNull();
      expect(last()).not.toBe(early.fake);
      expect(last().url).toBe('ws://relay/live/x');
      t.destroy();
    });

    it('is closed, not replayed, when the transport was destroyed first, and closing it twice is harmless', async () => {
      const { t, events } = harness();
      t.destroy();
      const early = earlySocket('ws://relay/live/x');
      early.fake.open();
      early.fake.onmessage?.({ data: new ArrayBuffer(4) });
      t.connect(early);
      await Promise.resolve();
      expect(events.order).toEqual([]);
      expect(early.fake.closes).toBe(1);
      closeEarlySocket(early);
      expect(early.fake.closes).toBe(1);
    });

    it('stops replaying once the transport is destroyed midway', async () => {
      const { t, events } = harness();
      const early = earlySocket('ws://relay/live/x');
      early.fake.open();
      t.connect(early);
      t.destroy();
      await Promise.resolve();
      expect(events.order).toEqual([]);
      expect(early.fake.closes).toBe(1);
    });
  });
});
