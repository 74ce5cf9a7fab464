// /metrics against a real publish (FFmpeg test source over RTMP) and real WebSocket viewers:
// the values must match what the viewers saw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';
import { parse, value, type Sample } from '../../helpers/prom.js';

let n: Running;
const publishers: Publisher[] = [];
const viewers: Viewer[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function scrape(): Promise<Map<string, Sample[]>> {
  const res = await fetch(`${n.ops}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parse(await res.text());
}

function view(name: string): Viewer {
  const v = new Viewer(n.ws(name));
  viewers.push(v);
  return v;
}

beforeAll(async () => {
  // One labelled stream, so the second stream shows the cap at work.
  n = await startNowcast({ metrics: { maxStreamLabels: 1 } });
  publishers.push(new Publisher({ url: n.rtmp('ops'), width: 320, height: 240 }));
});

afterAll(async () => {
  for (const v of viewers) v.close();
  await Promise.all(publishers.map((p) => p.stop()));
  n?.app.close();
});

describe('/metrics', () => {
  it('counts the publisher, the live stream and each connected viewer', async () => {
    const a = view('ops');
    const b = view('ops');
    await a.until(() => a.chunks().length >= 30 && b.chunks().length >= 30, 20_000, 'both viewers playing');
    const m = await scrape();
    expect(value(m, 'nowcast_viewers', { stream: 'ops' })).toBe(2);
    expect(value(m, 'nowcast_streams', { state: 'live' })).toBe(1);
    expect(value(m, 'nowcast_publishers', { protocol: 'rtmp' })).toBe(1);
    expect(value(m, 'nowcast_publishes_total', { result: 'accepted' })).toBe(1);
    // Default process metrics are there too.
    expect(value(m, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value(m, 'nowcast_build_info')).toBe(1);

    b.close();
    await a.until(() => n.app.relay.stream('ops')!.viewerCount === 1, 5_000, 'the relay to see one viewer leave');
    expect(value(await scrape(), 'nowcast_viewers', { stream: 'ops' })).toBe(1);
  });

  it('counts chunks and bytes sent as the viewers received them', async () => {
    const a = view('ops');
    const b = view('ops');
    await a.until(() => a.chunks().length >= 30 && b.chunks().length >= 30, 20_000, 'both viewers live');
    const m0 = await scrape();
    const c0 = a.chunks().length + b.chunks().length;
    const bytes0 = a.concat().length + b.concat().length;
    await sleep(3_000);
    const m1 = await scrape();
    // The previous test left one viewer open, so three are live.
    const subs = n.app.relay.stream('ops')!.viewerCount;
    expect(subs).toBe(3);
    const sent = value(m1, 'nowcast_chunks_sent_total', { stream: 'ops' })! - value(m0, 'nowcast_chunks_sent_total', { stream: 'ops' })!;
    const published = value(m1, 'nowcast_chunks_total', { stream: 'ops' })! - value(m0, 'nowcast_chunks_total', { stream: 'ops' })!;
    expect(sent).toBe(published * subs);
    // Our two viewers get 2/3 of what was sent to the three. Chunks sent just before the scrape
    // are still on the wire (a fixed 100 ms wait fell 8 short on a loaded machine): wait until
    // they are in, then allow what arrived meanwhile and what was in flight at the first scrape.
    const want = (sent * 2) / 3;
    await a.until(() => a.chunks().length + b.chunks().length - c0 >= want, 5_000, 'viewers have what was sent');
    const got = a.chunks().length + b.chunks().length - c0;
    const gotBytes = a.concat().length + b.concat().length - bytes0;
    expect(got).toBeGreaterThan(120); // ~30 chunks/s each for 3 s
    expect(got - want).toBeLessThanOrEqual(12);
    const sentBytes = value(m1, 'nowcast_egress_bytes_total', { stream: 'ops' })! - value(m0, 'nowcast_egress_bytes_total', { stream: 'ops' })!;
    // Bytes within 10%: a keyframe chunk landing either side of a scrape weighs several frames.
    expect(Math.abs((sentBytes * 2) / 3 - gotBytes) / gotBytes).toBeLessThan(0.1);
    const inBytes = value(m1, 'nowcast_ingest_bytes_total', { stream: 'ops' })! - value(m0, 'nowcast_ingest_bytes_total', { stream: 'ops' })!;
    expect(sentBytes).toBe(inBytes * subs);
    expect(value(m1, 'nowcast_chunks_skipped_total', { stream: 'ops', reason: 'slow_viewer' })).toBe(0);
    expect(value(m1, 'nowcast_backpressure_events_total', { action: 'skip' })).toBe(0);
    expect(value(m1, 'nowcast_backpressure_events_total', { action: 'close' })).toBe(0);
  });

  it('reports the ingest bitrate, keyframe interval and time to first chunk per stream', async () => {
    const m = await scrape();
    // The test source: x264 at 1500 kb/s nominal, a keyframe every second (fps frames).
    const bps = value(m, 'nowcast_stream_ingest_bits_per_second', { stream: 'ops' })!;
    expect(bps).toBeGreaterThan(100_000);
    expect(bps).toBeLessThan(5_000_000);
    expect(value(m, 'nowcast_stream_keyframe_interval_seconds', { stream: 'ops' })).toBeCloseTo(1, 1);
    const ttfc = value(m, 'nowcast_stream_time_to_first_chunk_seconds', { stream: 'ops' })!;
    expect(ttfc).toBeGreaterThan(0);
    expect(ttfc).toBeLessThan(10);
    const api = (await (await fetch(`${n.ops}/api/streams`)).json()) as { streams: Array<Record<string, unknown>> };
    expect(api.streams.find((s) => s.name === 'ops')).toMatchObject({
      state: 'live', publisher: 'rtmp', keyframeIntervalS: expect.closeTo(1, 1), bitrate: expect.any(Number),
      codecs: expect.stringMatching(/^avc1\..+,mp4a\.40\.2$/),
    });
  });

  it('observes QoE reports into histograms, counting startup once and stalls as deltas per viewer', async () => {
    const metrics = n.app.metrics!;
    const report = { latencyP50Ms: 200, latencyP95Ms: 260, startupMs: 150, stalls: 1, stallMs: 120 };
    metrics.observeQoe('ops', report, 7);
    metrics.observeQoe('ops', { ...report, latencyP50Ms: 220, stalls: 3, stallMs: 400 }, 7);
    metrics.observeQoe('ops', { ...report, latencyP50Ms: null, latencyP95Ms: null }, 8);
    const m = await scrape();
    expect(value(m, 'nowcast_qoe_latency_seconds_count', { stream: 'ops', percentile: '50' })).toBe(2);
    expect(value(m, 'nowcast_qoe_latency_seconds_sum', { stream: 'ops', percentile: '50' })).toBeCloseTo(0.42, 6);
    expect(value(m, 'nowcast_qoe_latency_seconds_bucket', { stream: 'ops', percentile: '50', le: '0.2' })).toBe(1);
    expect(value(m, 'nowcast_qoe_latency_seconds_count', { stream: 'ops', percentile: '95' })).toBe(2);
    expect(value(m, 'nowcast_qoe_startup_seconds_count', { stream: 'ops' })).toBe(2); // viewers 7 and 8, once each
    expect(value(m, 'nowcast_qoe_stalls_total', { stream: 'ops' })).toBe(1 + 2 + 1);
    expect(value(m, 'nowcast_qoe_stall_seconds_sum', { stream: 'ops' })).toBeCloseTo(0.12 + 0.28 + 0.12, 6);
  });

  it('receives a real viewer\'s QoE report over the WebSocket into the histograms', async () => {
    const before = value(await scrape(), 'nowcast_qoe_latency_seconds_count', { stream: 'ops', percentile: '50' }) ?? 0;
    const v = view('ops');
    await v.opened;
    v.ws.send(JSON.stringify({
      type: 'qoe', intervalMs: 5000, startupMs: 180, latencyP50Ms: 210, latencyP95Ms: 230, latencyP99Ms: 240, latencyMs: 215,
      targetMs: 130, stalls: 0, stallMs: 0, rateChanges: 1, jumps: 0, droppedFrames: 0, rate: 1, policy: 'nowcast', pinned: false, clockOffsetMs: 0,
    }));
    v.ws.send('{"type":"qoe","latencyP50Ms":"not a number"}'); // rejected, counted, harmless
    await v.until(() => (n.app.relay.stream('ops')?.qoe.accepted ?? 0) >= 1, 5_000, 'the report to be accepted');
    const m = await scrape();
    expect(value(m, 'nowcast_qoe_latency_seconds_count', { stream: 'ops', percentile: '50' })).toBe(before + 1);
    expect(n.app.relay.summaries().find((s) => s.name === 'ops')?.qoe.viewers).toBeGreaterThanOrEqual(1);
  });

  it('caps stream labels: a stream past the cap is counted under _other', async () => {
    publishers.push(new Publisher({ url: n.rtmp('second'), width: 160, height: 120 }));
    const v = view('second');
    await v.until(() => v.chunks().length >= 10, 20_000, 'the second stream playing');
    const m = await scrape();
    expect(value(m, 'nowcast_viewers', { stream: 'second' })).toBeUndefined();
    expect(value(m, 'nowcast_viewers', { stream: '_other' })).toBe(1);
    expect(value(m, 'nowcast_chunks_total', { stream: '_other' })).toBeGreaterThanOrEqual(10);
    expect(value(m, 'nowcast_publishers', { protocol: 'rtmp' })).toBe(2);
    expect(new Set(m.get('nowcast_chunks_total')!.map((s) => s.labels.stream))).toEqual(new Set(['ops', '_other']));
  });

  it('keeps counters monotonic when a stream is forgotten', async () => {
    const before = value(await scrape(), 'nowcast_chunks_total', { stream: '_other' })!;
    for (const v of viewers) v.close();
    await publishers[1]!.stop();
    const end = Date.now() + 10_000;
    while (n.app.relay.stream('second') && Date.now() < end) await sleep(100);
    expect(n.app.relay.stream('second')).toBeUndefined();
    const m = await scrape();
    expect(value(m, 'nowcast_chunks_total', { stream: '_other' })).toBeGreaterThanOrEqual(before);
    expect(value(m, 'nowcast_viewers', { stream: '_other' })).toBeUndefined();
  });

  it('has a Grafana dashboard that queries only metrics /metrics exports', async () => {
    const text = await (await fetch(`${n.ops}/metrics`)).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!]));
    const dash = JSON.parse(readFileSync(new URL('../../../docs/grafana/nowcast.json', import.meta.url), 'utf8')) as {
      panels: Array<{ targets?: Array<{ expr: string }> }>;
    };
    const exprs = dash.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThan(15);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:nowcast|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!)));
    for (const name of used) expect(exported, name).toContain(name);
  });

  it('serves the dashboard page', async () => {
    const res = await fetch(`${n.ops}/dashboard`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<title>Nowcast — dashboard</title>');
    expect(html).toContain("fetch('/metrics')");
  });
});
