// Stream alone, with fake sockets: what each viewer is sent when init segments come in bursts
// or repeat, how the cached GOP reaches a joiner, how viewers waiting for a name that is not
// live are released or given up on, how slow viewers skip to a keyframe, and closing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRootLogger } from '../../util/log.js';
import { CLOSE_STREAM_NOT_LIVE, RECENT_MEDIA_MS, Stream } from '../../relay/stream.js';
import { FakeSocket, data } from '../helpers/fake-viewer.js';
import { fakeChunk, fakeInit, seqOf } from '../helpers/fake-media.js';
import { MAX_JITTER_MS, type ServerMessage } from '../../protocol/messages.js';

const log = createRootLogger('silent');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const init = fakeInit;
const chunk = fakeChunk;

const newStream = (): Stream => new Stream('s', { slowBytes: 512 * 1024, resumeBytes: 64 * 1024, maxInFlightMs: 1000, ackIntervalMs: 500, maxGopCacheBytes: 1 << 20 }, {
  targetMs: 200, minMs: 100, maxMs: 2000, minRate: 0.95, maxRate: 1.15, pinned: false,
}, log);

/** A stream that is live with `viewers` viewers that got init A and chunks 1..3 (a keyframe first). */
function liveStream(viewers: number): { s: Stream; socks: FakeSocket[] } {
  const s = newStream();
  const socks = Array.from({ length: viewers }, () => new FakeSocket(data()));
  for (const v of socks) s.addViewer(v.viewer);
  s.onInit(init('A'));
  s.onChunk(chunk(1, true));
  s.onChunk(chunk(2, false));
  s.onChunk(chunk(3, false));
  return { s, socks };
}

describe('init segments in a stream', () => {
  it('sends a burst of 30 sequence-header changes to each viewer as one init, at the keyframe that starts its media', () => {
    const { s, socks } = liveStream(10);
    for (const v of socks) expect(v.inits()).toHaveLength(1);
    for (let i = 0; i < 30; i++) s.onInit(init(`B${i}`));
    s.onChunk(chunk(4, false)); // a delta frame of the new configuration: nobody can decode it
    s.onChunk(chunk(5, true));
    for (const v of socks) {
      expect(v.inits()).toHaveLength(2);
      expect(v.inits()[1]!.toString('latin1', 16)).toBe('B29');
      expect(v.texts('info').map((m) => (m as { generation: number }).generation)).toEqual([1, 2]);
      expect(v.chunks().map(seqOf)).toEqual([1, 2, 3, 5]);
    }
    expect(s.generation).toBe(2);
    expect(s.counters.initsCoalesced).toBe(29);
  });

  it('ignores an init byte-identical to the current one while the same session goes on: no re-send, no new generation, the GOP kept', async () => {
    const { s, socks } = liveStream(3);
    s.onInit(init('A'));
    s.onChunk(chunk(4, false));
    for (const v of socks) {
      expect(v.inits()).toHaveLength(1);
      expect(v.chunks().map(seqOf)).toEqual([1, 2, 3, 4]);
    }
    expect(s.generation).toBe(1);
    expect(s.counters.initsIgnored).toBe(1);
    // A joiner still starts at once from the cached GOP.
    const late = new FakeSocket(data());
    s.addViewer(late.viewer);
    await sleep(5);
    expect(late.inits()).toHaveLength(1);
    expect(late.chunks().map(seqOf)).toEqual([1, 2, 3, 4]);
  });

  it('makes an identical init a new generation when a new session starts its numbering over, or after the publisher left', () => {
    const { s, socks } = liveStream(1);
    s.onInit(init('A'));
    s.onChunk(chunk(1, true, 0)); // a republish: numbering and media time start over
    expect(s.generation).toBe(2);
    s.setState('offline', 'PUBLISHER_LEFT');
    s.onInit(init('A'));
    s.onChunk(chunk(2, true, 0.1));
    expect(s.generation).toBe(3);
    expect(socks[0]!.inits()).toHaveLength(3);
  });

  it('re-sends an identical init with a cluster generation: an edge resyncs its viewers after a gap', () => {
    const { s, socks } = liveStream(1);
    s.onInit(init('A'), 1);
    s.onChunk(chunk(9, true));
    expect(socks[0]!.inits()).toHaveLength(2);
    expect(s.generation).toBe(1);
  });

  it('gives a viewer who joins while an init is pending the current init and GOP, then the new init at its keyframe', async () => {
    const { s } = liveStream(0);
    s.onInit(init('B'));
    const v = new FakeSocket(data());
    s.addViewer(v.viewer);
    await sleep(5);
    expect(v.inits().map((b) => b.toString('latin1', 16))).toEqual(['A']);
    s.onChunk(chunk(4, true));
    expect(v.inits().map((b) => b.toString('latin1', 16))).toEqual(['A', 'B']);
    expect(v.chunks().map(seqOf)).toEqual([1, 2, 3, 4]);
    // info, init, then the keyframe (no state: it stayed live), the order docs/protocol.md gives.
    const order = v.sent.slice(-3).map((m) => ('text' in m ? m.text.type : m.bytes.toString('latin1', 4, 8)));
    expect(order).toEqual(['info', 'ftyp', 'moof']);
  });
});

describe('viewers waiting for a name that is not live', () => {
  it('counts as live only with a publisher or recent media', () => {
    const s = newStream();
    const t = Date.now();
    expect(s.isLive(t)).toBe(false);
    s.onInit(init('A'));
    expect(s.isLive(t)).toBe(true);
    s.onChunk(chunk(1, true));
    s.setState('offline', 'PUBLISHER_LEFT');
    expect(s.isLive(Date.now())).toBe(true);
    expect(s.isLive(Date.now() + RECENT_MEDIA_MS + 1)).toBe(false);
  });

  it('frees a waiting viewer\'s slot once, when a publisher arrives', () => {
    const s = newStream();
    let released = 0;
    const v = new FakeSocket(data({ releaseWait: () => { released++; }, waitUntil: Date.now() + 60_000 }));
    s.addViewer(v.viewer);
    s.onInit(init('A'));
    s.onInit(init('B'));
    expect(released).toBe(1);
    expect(v.data.releaseWait).toBeNull();
    expect(v.data.waitUntil).toBe(0);
  });

  it('closes a viewer that waited past its deadline with an error STREAM_NOT_LIVE, and leaves the others', () => {
    const s = newStream();
    const t = Date.now();
    const due = new FakeSocket(data({ releaseWait: () => {}, waitUntil: t + 1000 }));
    const later = new FakeSocket(data({ releaseWait: () => {}, waitUntil: t + 5000 }));
    const plain = new FakeSocket(data());
    for (const v of [due, later, plain]) s.addViewer(v.viewer);
    s.sweep(t + 999);
    expect(due.ended).toBeNull();
    s.sweep(t + 1000);
    expect(due.ended).toEqual({ code: CLOSE_STREAM_NOT_LIVE, reason: 'STREAM_NOT_LIVE' });
    expect(due.texts('error')).toEqual([expect.objectContaining({ type: 'error', code: 'STREAM_NOT_LIVE' })]);
    expect(later.ended).toBeNull();
    expect(plain.ended).toBeNull();
  });
});

describe('viewers of a stream', () => {
  it('sends a viewer who came before the publisher hello and state, then info, init and state live at the first keyframe, then media', () => {
    const s = newStream();
    const v = new FakeSocket(data());
    s.addViewer(v.viewer);
    s.onInit(init('A'));
    s.onChunk(chunk(1, true));
    const order = v.sent.map((m) => ('text' in m ? `${m.text.type}${m.text.type === 'state' ? `:${m.text.state}` : ''}` : m.bytes.toString('latin1', 4, 8)));
    expect(order).toEqual(['hello', 'state:offline', 'info', 'ftyp', 'state:live', 'moof']);
  });

  it('counts its viewers, and sends nothing more to one that was removed', () => {
    const { s, socks } = liveStream(2);
    expect(s.viewerCount).toBe(2);
    s.removeViewer(socks[0]!.viewer);
    expect(s.viewerCount).toBe(1);
    s.onChunk(chunk(4, false));
    expect(socks[0]!.chunks().map(seqOf)).toEqual([1, 2, 3]);
    expect(socks[1]!.chunks().map(seqOf)).toEqual([1, 2, 3, 4]);
  });

  it('tells every viewer when the publisher leaves, once, and a joiner then waits for the next keyframe', async () => {
    const { s, socks } = liveStream(1);
    s.setState('offline', 'PUBLISHER_LEFT');
    s.setState('offline', 'PUBLISHER_LEFT');
    expect(socks[0]!.texts('state').map((m) => (m as { state: string }).state)).toEqual(['offline', 'live', 'offline']); // joined, went live, left
    expect(socks[0]!.texts('state').at(-1)).toEqual({ type: 'state', stream: 's', state: 'offline', code: 'PUBLISHER_LEFT' });
    const late = new FakeSocket(data());
    s.addViewer(late.viewer);
    await sleep(5);
    expect(late.chunks()).toEqual([]);
  });
});

describe('slow viewers', () => {
  it('stops sending media to a viewer whose send buffer passed slowBytes at a sweep, and resumes it at the first keyframe after it drained, telling it what it missed', () => {
    const { s, socks } = liveStream(2);
    const [slow, fast] = socks as [FakeSocket, FakeSocket];
    slow.buffered = 600 * 1024; // over slowBytes (512 KiB)
    s.sweep();
    s.onChunk(chunk(4, false));
    s.onChunk(chunk(5, false));
    slow.buffered = 100 * 1024; // not yet under resumeBytes (64 KiB): still skipping, even at a keyframe
    s.sweep();
    s.onChunk(chunk(6, true));
    slow.buffered = 0;
    s.sweep();
    // Drained, but it does not ack, so nothing says its path carries the stream: a cached
    // GOP's burst could queue again. It waits for a keyframe.
    s.onChunk(chunk(7, false));
    s.onChunk(chunk(8, true));
    expect(slow.chunks().map(seqOf)).toEqual([1, 2, 3, 8]);
    expect(slow.texts('skip')).toEqual([{ type: 'skip', chunks: 4, bytes: 4 * 12 }]);
    expect(fast.chunks().map(seqOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(fast.texts('skip')).toEqual([]);
    expect(s.counters).toMatchObject({ skips: 1, skippedChunks: 4 });
  });

  it('stops an acknowledging viewer more than maxInFlightMs of media behind though its send buffer is empty, resumes it from the keyframe it missed once its acks caught up, and counts the ack rule', () => {
    const totals = { ack: 0, bytes: 0 };
    const s = new Stream('s', { slowBytes: 512 * 1024, resumeBytes: 64 * 1024, maxInFlightMs: 1000, ackIntervalMs: 500, maxGopCacheBytes: 1 << 20 }, {
      targetMs: 200, minMs: 100, maxMs: 2000, minRate: 0.95, maxRate: 1.15, pinned: false,
    }, log, undefined, undefined, undefined, totals);
    const [acker, silent] = [new FakeSocket(data()), new FakeSocket(data())];
    for (const v of [acker, silent]) s.addViewer(v.viewer);
    s.onInit(init('A'));
    for (let q = 1; q <= 3; q++) s.onChunk(chunk(q, q === 1));
    // Acks at explicit times 100 ms apart: the throughput they give must not hang on the clock's ms.
    const a0 = Date.now();
    expect(s.onAck(acker.viewer, 1, 3, a0)).toBe(true);
    for (let q = 4; q <= 33; q++) s.onChunk(chunk(q, false));
    // Sweeps run at t + 2 s and on: everything sent is past its ack grace (relay/flow.ts).
    const t = Date.now() + 2000;
    s.sweep(t); // 30 chunks (1.0 s) in flight: at the bound, not past it
    expect(acker.data.flow).toMatchObject({ acking: true });
    expect(acker.data.flow.lagMs).toBeCloseTo(1000, 6);
    s.onChunk(chunk(34, false));
    s.sweep(t + 50);
    expect(totals).toEqual({ ack: 1, bytes: 0 });
    for (let q = 35; q <= 60; q++) s.onChunk(chunk(q, false));
    s.onAck(acker.viewer, 1, 20, a0 + 100);
    s.sweep(t + 100); // 14 chunks still in flight of what it was sent (up to 34): over a quarter of the bound
    s.onChunk(chunk(61, true));
    expect(acker.chunks().map(seqOf).at(-1)).toBe(34);
    s.onAck(acker.viewer, 1, 30, a0 + 200);
    // 4 chunks (133 ms) left in flight, and its acks came faster than the stream (what a
    // frozen path's landed backlog looks like): resumed from the cached GOP, keyframe 61 on.
    expect(s.flow(acker.viewer).throughputBps).toBeGreaterThan(1000);
    s.sweep(t + 150);
    expect(acker.chunks().map(seqOf).slice(-2)).toEqual([34, 61]);
    expect(acker.texts('skip')).toEqual([{ type: 'skip', chunks: 26, bytes: 26 * 12 }]);
    // Fed again from the live edge: not judged by acks of what came before it.
    s.sweep(t + 200);
    expect(acker.data.flow.lagMs).toBe(0);
    s.onChunk(chunk(62, false));
    s.onChunk(chunk(91, true));
    expect(acker.chunks().map(seqOf).slice(-4)).toEqual([34, 61, 62, 91]);
    // A viewer that never acks, with the same empty send buffer, got everything: the kernel hides its lag.
    expect(silent.chunks()).toHaveLength(63);
    expect(acker.chunks()).toHaveLength(37);
    expect(s.flow(silent.viewer)).toMatchObject({ acking: false, lagMs: 0 });
    expect(s.counters.skips).toBe(1);
  });

  it('resumes an acknowledging viewer it stopped from the first chunk it missed when no keyframe came since, so nothing is skipped and its media goes on', () => {
    const totals = { ack: 0, bytes: 0 };
    const s = new Stream('s', { slowBytes: 512 * 1024, resumeBytes: 64 * 1024, maxInFlightMs: 1000, ackIntervalMs: 500, maxGopCacheBytes: 1 << 20 }, {
      targetMs: 200, minMs: 100, maxMs: 2000, minRate: 0.95, maxRate: 1.15, pinned: false,
    }, log, undefined, undefined, undefined, totals);
    const acker = new FakeSocket(data());
    s.addViewer(acker.viewer);
    s.onInit(init('A'));
    for (let q = 1; q <= 3; q++) s.onChunk(chunk(q, q === 1));
    const a0 = Date.now();
    s.onAck(acker.viewer, 1, 3, a0);
    for (let q = 4; q <= 34; q++) s.onChunk(chunk(q, false));
    const t = Date.now() + 2000;
    s.sweep(t + 50); // 31 chunks in flight: past the bound, stopped after 34
    expect(totals.ack).toBe(1);
    for (let q = 35; q <= 50; q++) s.onChunk(chunk(q, false));
    expect(acker.chunks().map(seqOf).at(-1)).toBe(34);
    // Its backlog lands at once (a frozen path released): acked up to 34, fast.
    s.onAck(acker.viewer, 1, 20, a0 + 100);
    s.onAck(acker.viewer, 1, 34, a0 + 200);
    s.sweep(t + 150);
    // 35–50 at once, right after 34: the GOP (keyframe 1 on) holds them; nothing skipped.
    expect(acker.chunks().map(seqOf)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(acker.texts('skip')).toEqual([]);
    expect(s.counters.skippedChunks).toBe(0);
    s.onChunk(chunk(51, false));
    expect(acker.chunks().map(seqOf).at(-1)).toBe(51);
  });

  it('skips a viewer from the chunk its socket dropped, and after it drained waits for the next keyframe when the cached GOP holds media it already had', () => {
    const { s, socks } = liveStream(1);
    const v = socks[0]!;
    v.dropBinary = true;
    s.onChunk(chunk(4, false));
    v.dropBinary = false;
    s.onChunk(chunk(5, false));
    s.sweep();
    s.onChunk(chunk(6, true));
    expect(v.chunks().map(seqOf)).toEqual([1, 2, 3, 6]);
    expect(s.counters.skips).toBe(1);
    // The dropped chunk is one of those it missed: 4 and 5.
    expect(v.texts('skip')).toEqual([{ type: 'skip', chunks: 2, bytes: 2 * 12 }]);
    expect(s.counters.skippedChunks).toBe(2);
  });
});

describe('closing a stream', () => {
  it('closes every viewer with 1001 once, is safe to call twice, and ignores media after', () => {
    const { s, socks } = liveStream(2);
    s.close();
    s.close();
    for (const v of socks) {
      expect(v.ended).toEqual({ code: 1001, reason: 'stream closed' });
      expect(v.ends).toBe(1);
    }
    s.onInit(init('B'));
    s.onChunk(chunk(4, true));
    for (const v of socks) {
      expect(v.inits()).toHaveLength(1);
      expect(v.chunks().map(seqOf)).toEqual([1, 2, 3]);
    }
    expect(s.viewerCount).toBe(0);
  });
});

describe('the arrival jitter a stream announces', () => {
  afterEach(() => { vi.useRealTimers(); });

  /** 6 s of chunks at 30/s whose prft says each was written `held(i)` ms before it reached the relay. */
  function feed(held: (i: number) => number, before?: (s: Stream) => void): Stream {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const s = newStream();
    before?.(s);
    s.onInit(init('A'));
    for (let i = 0; i < 180; i++) {
      vi.setSystemTime(t0 + Math.round(i * 1000 / 30));
      s.onChunk({ ...chunk(i + 1, i % 30 === 0), prftMs: Date.now() - held(i) });
    }
    return s;
  }
  const helloOf = (s: Stream): ServerMessage => {
    const v = new FakeSocket(data());
    s.addViewer(v.viewer);
    return v.texts('hello')[0]!;
  };

  it('tells a joining viewer the hold of a source whose chunks come in bursts (hello.jitterMs)', () => {
    // Frames leave in bursts of 7 (~0.23 s), as from an SRT caller with FFmpeg's MPEG-TS defaults:
    // the first of a burst was held longest.
    const hello = helloOf(feed((i) => (6 - (i % 7)) * 33));
    expect(hello).toMatchObject({ type: 'hello' });
    expect((hello as { jitterMs?: number }).jitterMs).toBeGreaterThanOrEqual(150);
    expect((hello as { jitterMs?: number }).jitterMs).toBeLessThanOrEqual(200);
  });

  it('announces next to nothing for a steady source', () => {
    expect((helloOf(feed(() => 5)) as { jitterMs?: number }).jitterMs).toBeLessThanOrEqual(1);
  });

  it('announces no jitterMs for hostile stamps (NaN, infinite, hours off), and keeps fanning their chunks out', () => {
    const watcher = new FakeSocket(data());
    const hostile = [NaN, Infinity, -Infinity, -3_600_000, 3_600_000, Number.MAX_VALUE];
    const s = feed((i) => hostile[i % hostile.length]!, (st) => st.addViewer(watcher.viewer));
    const hello = helloOf(s) as { jitterMs?: number };
    expect(hello.jitterMs === undefined || (hello.jitterMs >= 0 && hello.jitterMs <= MAX_JITTER_MS)).toBe(true);
    expect(hello).not.toHaveProperty('jitterMs'); // a spread of hours: nothing plausible to say
    expect(watcher.chunks()).toHaveLength(180);
  });

  it('announces nothing before it has measured, nor for a new generation it has not', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = newStream();
    s.onInit(init('A'));
    s.onChunk({ ...chunk(1, true), prftMs: Date.now() - 200 });
    expect(helloOf(s)).not.toHaveProperty('jitterMs');
    const measured = feed((i) => (i % 2) * 100);
    expect(helloOf(measured)).toHaveProperty('jitterMs');
    measured.onInit(init('B'));
    measured.onChunk({ ...chunk(1, true), prftMs: Date.now() });
    expect(helloOf(measured)).not.toHaveProperty('jitterMs');
  });
});

describe('the ack interval a stream asks for', () => {
  const limits = { slowBytes: 512 * 1024, resumeBytes: 64 * 1024, maxInFlightMs: 1000, maxGopCacheBytes: 1 << 20 };
  const service = { targetMs: 200, minMs: 100, maxMs: 2000, minRate: 0.95, maxRate: 1.15, pinned: false };

  it('says nothing at the default interval, and hello.ackMs otherwise, and counts media late that interval and a round trip after sending it', () => {
    const plain = new Stream('s', { ...limits, ackIntervalMs: 500 }, service, log);
    const quick = new Stream('s', { ...limits, ackIntervalMs: 200 }, service, log);
    const [a, b] = [new FakeSocket(data()), new FakeSocket(data())];
    plain.addViewer(a.viewer);
    quick.addViewer(b.viewer);
    expect(a.texts('hello')[0]).not.toHaveProperty('ackMs');
    expect(b.texts('hello')[0]).toMatchObject({ ackMs: 200 });
    // 2 s of media sent at once, acked up to its first chunk: 400 ms later the quick stream
    // counts it as in flight (past its 350 ms grace), the plain one not yet (650 ms).
    const t = Date.now();
    for (const [s, v] of [[plain, a], [quick, b]] as const) {
      s.onInit(init('A'));
      for (let q = 1; q <= 60; q++) s.onChunk(chunk(q, q === 1));
      expect(s.onAck(v.viewer, 1, 1, t)).toBe(true);
    }
    expect(plain.flow(a.viewer).lagMs).toBe(0);
    plain.sweep(t + 400);
    quick.sweep(t + 400);
    expect(a.data.flow.lagMs).toBe(0);
    expect(b.data.flow.lagMs).toBeGreaterThan(1000);
  });
});
