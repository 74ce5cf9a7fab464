// One machine, a real cluster: nats-server with JetStream, one ingest node (RTMP, real FFmpeg)
// and three edge nodes, with WebSocket viewers on each. Faults: NATS killed and restarted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '../../helpers/nats-server.js';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';

let nats: NatsServer;
let ingest: Running;
const edges: Running[] = [];
let pub: Publisher;
const viewers: Viewer[] = [];
const view = (url: string): Viewer => { const v = new Viewer(url); viewers.push(v); return v; };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  nats = await new NatsServer().start();
  const cluster = { natsServers: [nats.url], lingerMs: 500 };
  ingest = await startNowcast({ cluster: { ...cluster, role: 'ingest-only' } });
  for (let i = 0; i < 3; i++) edges.push(await startNowcast({ cluster: { ...cluster, role: 'edge-only' }, rtmp: { port: 0 } }));
  pub = new Publisher({ url: ingest.rtmp('cam'), durationS: 120 });
  const probe = view(ingest.ws('cam'));
  await probe.until(() => probe.chunks().length > 0, 15_000, 'the stream to be live on the ingest node');
}, 30_000);

afterAll(async () => {
  for (const v of viewers) v.close();
  await pub?.stop();
  for (const e of edges) await e.app.close();
  await ingest?.app.close();
  await nats?.close();
});

/** mfhd sequence numbers of a viewer's chunks, and whether they run without a hole. */
const seqs = (v: Viewer): number[] => v.chunks().map((c) => c.seq);
const contiguous = (s: number[]): boolean => s.every((x, i) => i === 0 || x === s[i - 1]! + 1);

describe('a cluster of one ingest node and three edges over NATS', () => {
  it('gives viewers on every edge the identical chunk sequence, starting at a keyframe at once', async () => {
    const vs = [view(ingest.ws('cam')), ...edges.flatMap((e) => [view(e.ws('cam')), view(e.ws('cam'))])];
    const opened = await Promise.all(vs.map((v) => v.openedAt));
    await Promise.all(vs.map((v) => v.until(() => v.chunks().length >= 90, 20_000, '90 chunks')));
    vs.forEach((v, i) => {
      const first = v.chunks()[0]!;
      expect(first.keyframe).toBe(true);
      // The cached GOP comes with the first viewer on an edge too (the origin's snapshot).
      const counters = i ? JSON.stringify(edges[Math.floor((i - 1) / 2)]!.app.edge!.counters) : 'ingest';
      expect(first.at - opened[i]!, `viewer ${i} first chunk (${counters})`).toBeLessThan(1000);
      expect(contiguous(seqs(v))).toBe(true);
    });
    // Over the range every viewer has, the same chunks, byte for byte.
    const from = Math.max(...vs.map((v) => seqs(v)[0]!));
    const to = Math.min(...vs.map((v) => seqs(v).at(-1)!));
    expect(to - from).toBeGreaterThan(30);
    const slice = (v: Viewer): string[] => v.chunks().filter((c) => c.seq >= from && c.seq <= to).map((c) => c.bytes.toString('base64'));
    const ref = slice(vs[0]!);
    expect(ref.length).toBe(to - from + 1);
    for (const v of vs.slice(1)) expect(slice(v)).toEqual(ref);
    for (const v of vs) v.close();
  });

  it('subscribes an edge to a stream on its first viewer and unsubscribes after the last leaves', async () => {
    const e = edges[2]!.app.edge!;
    await sleep(800); // the previous test's viewers are gone, plus the linger
    expect(e.subscribed).toEqual([]);
    const v = view(edges[2]!.ws('cam'));
    await v.until(() => v.chunks().length > 5, 10_000, 'chunks on the edge');
    expect(e.subscribed).toEqual(['cam']);
    v.close();
    await sleep(200);
    expect(e.subscribed).toEqual(['cam']); // lingering
    await v.until(() => e.subscribed.length === 0, 3_000, 'the edge to unsubscribe');
    expect(edges[2]!.app.relay.stream('cam')).toBeUndefined();
  });

  it('lists the cluster\'s live streams on an edge that has no viewer for them', async () => {
    const r = await fetch(`${edges[1]!.ops}/api/streams`);
    const body = await r.json() as { streams: Array<{ name: string; state: string; codecs: string | null }> };
    expect(body.streams.find((s) => s.name === 'cam')).toMatchObject({ state: 'live', codecs: expect.stringContaining('avc1') });
  });

  it('lets a viewer wait on an edge for a stream that starts later, then plays it', async () => {
    const e = edges[1]!;
    const v = view(e.ws('later'));
    await v.until(() => v.texts('state').length > 0, 5_000, 'a state message');
    expect(v.texts('state')[0]).toMatchObject({ state: 'offline' });
    // No ingest node has it: NATS says so at once, and the edge falls back to the KV.
    await v.until(() => e.app.edge!.counters.fallbacks >= 1, 3_000, 'the edge to fall back');
    const p = new Publisher({ url: ingest.rtmp('later'), durationS: 30 });
    try {
      await v.until(() => v.chunks().length > 10, 20_000, 'media on the edge');
      expect(v.chunks()[0]!.keyframe).toBe(true);
      expect(v.texts('state').at(-1)).toMatchObject({ state: 'live' });
    } finally {
      await p.stop();
    }
    // The publisher left: the edge's viewer hears it from the origin.
    await v.until(() => v.texts('state').at(-1)?.type === 'state' && (v.texts('state').at(-1) as { state: string }).state === 'offline', 10_000, 'offline');
    // ...and the stream leaves the cluster's listing.
    await v.until(() => !e.app.edge!.directory().some((s) => s.name === 'later'), 5_000, 'the KV listing to drop the stream');
    v.close();
  });

  it('keeps the ingest node\'s viewers playing while NATS is down; edges report it and recover', async () => {
    const local = view(ingest.ws('cam'));
    const remote = view(edges[0]!.ws('cam'));
    await Promise.all([local, remote].map((v) => v.until(() => v.chunks().length > 15, 10_000, 'chunks')));
    // Counted before the outage: the edge may re-sync before nats.start() even returns.
    const inits = remote.inits().length;
    await nats.kill();
    const [l0, r0] = [local.chunks().length, remote.chunks().length];
    await remote.until(() => remote.texts('state').some((m) => m.type === 'state' && m.code === 'ORIGIN_UNREACHABLE'), 5_000, 'the edge to report the loss');
    await sleep(2_000);
    // ~30 chunks/s kept flowing on the ingest node, without a hole; none on the edge.
    expect(local.chunks().length - l0).toBeGreaterThan(45);
    expect(contiguous(seqs(local))).toBe(true);
    expect(remote.chunks().length - r0).toBeLessThanOrEqual(2);
    await nats.start();
    await remote.until(() => remote.inits().length > inits && remote.chunks().length > r0 + 30, 15_000, 'the edge to resume').catch((err: Error) => {
      const e = edges[0]!.app;
      throw new Error(`${err.message}: ${JSON.stringify({ edge: e.edge!.counters, edgeUp: e.link!.connected, ingestUp: ingest.app.link!.connected,
        origin: ingest.app.origin!.counters, texts: remote.texts().slice(-4), inits: remote.inits().length, chunks: remote.chunks().length - r0 })}`);
    });
    // It resumes at a keyframe, in a new generation, and plays on without holes.
    const after = remote.chunks().slice(r0);
    const k = after.findIndex((c) => c.keyframe);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(contiguous(after.slice(k).map((c) => c.seq))).toBe(true);
    expect(remote.texts('state').at(-1)).toMatchObject({ state: 'live' });
    expect(remote.closed).toBe(false);
    // The edge reports it to operators too.
    const m = await (await fetch(`${edges[0]!.ops}/metrics`)).text();
    expect(m).toMatch(/^nowcast_cluster_nats_losses_total 1$/m);
    expect(m).toMatch(/^nowcast_cluster_nats_connected\{role="edge-only"\} 1$/m);
    expect(m).toMatch(/^nowcast_cluster_events_total\{event="sync"\} [2-9]/m);
  }, 40_000);
});
