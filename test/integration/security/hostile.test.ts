// Hostile sessions against the real server, one case per finding of the security review (issue
// 20): each closes at most its own connection with a documented refusal, while a healthy
// publisher's viewers miss no chunk, see no foreign init segment, and memory stays bounded.
// More cases on real sockets: viewers.test.ts (waiting viewers, proxies, QoE, logs),
// ../ops/ops-listener.test.ts (the operations listener), rtmp-accept-errors.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';
import { RawRtmp, chunked, command, publishCommands, setChunkSize, avcSequenceHeader, hugeDeclarations } from '../../helpers/rtmp-client.js';
import { ReplayPublisher, sampleTags, tagMessage } from '../../helpers/replay-publisher.js';
import { encodeAmf0 } from '../../../ingest/rtmp/amf0.js';

let n: Running;
let healthy: Publisher;
const watchers: Viewer[] = [];
const cleanup: Array<() => void> = [];

/** The count behind nowcast_protocol_errors_total{protocol="rtmp",code} (read in process: /metrics may serve a collection up to 1 s old under a burst of scrapes). */
async function errors(code: string): Promise<number> {
  return n.app.ingest.errors.get('rtmp', code);
}

/** The healthy stream's viewers: every chunk in order, one init segment, still connected. */
function expectHealthy(): void {
  for (const v of watchers) {
    expect(v.closed).toBe(false);
    expect(v.inits()).toHaveLength(1);
    const seqs = v.chunks().map((c) => c.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
  }
}

/** Waits for the healthy viewers to receive `more` chunks each: the server is alive and serving. */
async function healthyAdvances(more = 10): Promise<void> {
  const base = watchers.map((v) => v.chunks().length);
  await Promise.all(watchers.map((v, i) => v.until(() => v.chunks().length >= base[i]! + more, 5_000, 'healthy chunks')));
}

async function session(bytes: Buffer[], opts: { handshake?: boolean } = {}): Promise<RawRtmp> {
  const c = new RawRtmp(Number(new URL(n.rtmp('x')).port));
  cleanup.push(() => c.destroy());
  if (opts.handshake !== false) await c.handshake();
  else await c.connected;
  for (const b of bytes) c.write(b);
  return c;
}

const port = (): number => Number(new URL(n.rtmp('x')).port);
const hello = (): Buffer => command(['connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }]);
const upToPublish = (): Buffer => Buffer.concat([hello(), command(['createStream', 2, null])]);

beforeAll(async () => {
  // A short handshake timeout keeps the idle-connection case quick; the rule is the same at 5 s.
  // maxStreams 20: the waiting-viewer case opens more names than that.
  n = await startNowcast({ rtmp: { handshakeTimeoutMs: 1_500, maxConnections: 64 }, limits: { maxStreams: 20 } });
  healthy = new Publisher({ url: n.rtmp('healthy'), durationS: 120 });
  for (let i = 0; i < 3; i++) watchers.push(new Viewer(n.ws('healthy')));
  await Promise.all(watchers.map((v) => v.opened));
  await Promise.all(watchers.map((v) => v.until(() => v.chunks().length >= 15, 20_000, 'the healthy stream')));
});

afterAll(async () => {
  for (const f of cleanup) f();
  for (const v of watchers) v.close();
  await healthy?.stop();
  n?.app.close();
});

describe('a hostile RTMP peer', () => {
  // Finding 1: each of these stopped the whole server under node-media-server.
  it.each([
    ['a zero-length control message', 'RTMP_BAD_MESSAGE', () => [chunked(2, 1, 0, 0, Buffer.alloc(0))]],
    ['a zero-length video message after publish', 'RTMP_BAD_MESSAGE', () => [upToPublish(), command(['publish', 3, null, 'zerovideo', 'live'], 1), chunked(6, 9, 1, 0, Buffer.alloc(0))]],
    ['a zero-length video message before connect', 'RTMP_UNEXPECTED', () => [chunked(6, 9, 1, 0, Buffer.alloc(0))]],
    ['a truncated AMF0 value', 'RTMP_BAD_COMMAND', () => [chunked(3, 20, 0, 0, encodeAmf0(['connect', 1]).subarray(0, 12))]],
    ['an unknown AMF0 marker', 'RTMP_BAD_COMMAND', () => [chunked(3, 20, 0, 0, Buffer.concat([encodeAmf0(['connect', 1]), Buffer.from([0x0d, 0, 0])]))]],
    ['a publish whose name is not a string', 'RTMP_BAD_COMMAND', () => [upToPublish(), command(['publish', 3, null, 42, 'live'], 1)]],
    ['a publish name over 64 KB', 'RTMP_MESSAGE_TOO_LARGE', () => [upToPublish(), command(['publish', 3, null, 'a'.repeat(70_000), 'live'], 1, 4096)]],
    ['a command before connect', 'RTMP_UNEXPECTED', () => [command(['createStream', 2, null])]],
  ])('closes only its own connection on %s, counted as %s', async (_what, code, bytes) => {
    const before = await errors(code);
    const c = await session(bytes());
    expect(await c.closedWithin(2_000)).toBe(true);
    expect(await errors(code)).toBe(before + 1);
    await healthyAdvances();
    expectHealthy();
  });

  it('accepts a connect without tcUrl, which we never need', async () => {
    const c = await session([command(['connect', 1, { app: 'live' }]), command(['createStream', 2, null]), command(['publish', 3, null, 'notcurl', 'live'], 1)]);
    await c.until(() => c.statusCodes().includes('NetStream.Publish.Start'), 2_000, 'publish start');
    c.destroy();
  });

  it('refuses a handshake of another version (RTMPE) at once', async () => {
    const before = await errors('RTMP_BAD_HANDSHAKE');
    const c = await session([Buffer.concat([Buffer.from([6]), Buffer.alloc(1536)])], { handshake: false });
    expect(await c.closedWithin(2_000)).toBe(true);
    expect(await errors('RTMP_BAD_HANDSHAKE')).toBe(before + 1);
  });

  // Finding 2: viewers received an intruder's init segment and frames.
  it('refuses a second publish of a live name at the publish command, before the tags in the same write are read', async () => {
    const tags = sampleTags().slice(0, 40).map((t) => tagMessage(t));
    const c = await session([setChunkSize(4096), publishCommands('live', 'healthy', 4096), ...tags]);
    expect(await c.closedWithin(3_000)).toBe(true);
    expect(c.statusCodes()).toEqual(['NetStream.Publish.BadName']);
    await healthyAdvances(20);
    expectHealthy();
  });

  it('refuses RTMP playback, and media sent on a play session never reaches a stream', async () => {
    const before = await errors('RTMP_PLAY_REFUSED');
    const tags = sampleTags().slice(0, 40).map((t) => tagMessage(t));
    const c = await session([setChunkSize(4096), hello(), command(['createStream', 2, null], 0, 4096), command(['play', 3, null, 'healthy'], 1, 4096), ...tags]);
    expect(await c.closedWithin(3_000)).toBe(true);
    expect(c.statusCodes()).toContain('NetStream.Play.Failed');
    expect(await errors('RTMP_PLAY_REFUSED')).toBe(before + 1);
    await healthyAdvances(20);
    expectHealthy();
  });

  // Finding 3: 16 chunk streams declaring 16 MB each took 256 MB from 2.2 KB sent.
  it('rejects a declared 16 MB message at its header, holding nothing for it', async () => {
    const before = await errors('RTMP_MESSAGE_TOO_LARGE');
    const rss = process.memoryUsage().rss;
    const held = (await n.app.ingest.rtmp!.stats()).heldBytes;
    const headers = hugeDeclarations();
    const c = await session(headers);
    expect(await c.closedWithin(2_000)).toBe(true);
    expect(await errors('RTMP_MESSAGE_TOO_LARGE')).toBe(before + 1);
    expect((await n.app.ingest.rtmp!.stats()).heldBytes - held).toBeLessThan(64 * 1024);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
  });

  it('closes connections that never finish the handshake, caps them in total, and still lets a publisher in', async () => {
    const before = await errors('RTMP_TIMEOUT');
    const limited = await errors('RTMP_CONN_LIMIT');
    const idle = Array.from({ length: 80 }, () => {
      const s = connect(port(), '127.0.0.1');
      s.on('error', () => {});
      cleanup.push(() => s.destroy());
      return s;
    });
    await new Promise((r) => setTimeout(r, 300));
    // 64 at most (rtmp.maxConnections here), whatever the address.
    expect((await n.app.ingest.rtmp!.stats()).connections).toBeLessThanOrEqual(64);
    expect(await errors('RTMP_CONN_LIMIT')).toBeGreaterThanOrEqual(limited + 16);
    // The cap is full of idle connections: a publisher evicts the oldest and gets in.
    const late = new ReplayPublisher(port(), 'late');
    cleanup.push(() => late.stop());
    await late.rtmp.until(() => late.admitted, 3_000, 'a publisher past the idle connections');
    late.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await n.app.ingest.rtmp!.stats()).connections).toBe(1); // the healthy publisher
    expect(await errors('RTMP_TIMEOUT')).toBeGreaterThanOrEqual(before + 60);
    for (const s of idle) s.destroy();
    await healthyAdvances();
    expectHealthy();
  });

  // Finding 4: a refused publisher kept the name.
  it('frees a name at once when its publisher is refused or leaves, and holds it through the reconnect grace only for the same key', async () => {
    const wrongApp = await session([command(['connect', 1, { app: 'other' }])]);
    expect(await wrongApp.closedWithin(2_000)).toBe(true);
    expect(wrongApp.statusCodes()).toEqual(['NetConnection.Connect.Rejected']);

    const first = new ReplayPublisher(port(), 'grace?token=k1');
    cleanup.push(() => first.stop());
    await first.rtmp.until(() => first.admitted, 3_000, 'the first publisher');
    first.stop();
    await new Promise((r) => setTimeout(r, 300));
    const other = new ReplayPublisher(port(), 'grace?token=k2');
    cleanup.push(() => other.stop());
    expect(await other.rtmp.closedWithin(3_000)).toBe(true);
    expect(other.rtmp.statusCodes()).toEqual(['NetStream.Publish.BadName']);
    const again = new ReplayPublisher(port(), 'grace?token=k1');
    cleanup.push(() => again.stop());
    await again.rtmp.until(() => again.admitted, 3_000, 'the same publisher reconnecting');
    again.stop();
  });

  // Finding 6: 30 header changes in one burst gave each viewer 30 init segments.
  it('ignores identical sequence headers and closes a publisher that storms changed ones', async () => {
    const before = await errors('RTMP_HEADER_STORM');
    const v = new Viewer(n.ws('storm'));
    cleanup.push(() => v.close());
    await v.opened;
    const p = new ReplayPublisher(port(), 'storm');
    cleanup.push(() => p.stop());
    await v.until(() => v.chunks().length >= 10, 10_000, 'the storm stream to play');
    const inits = v.inits().length;
    // 20 identical headers: nothing changes.
    p.rtmp.write(Buffer.concat(Array.from({ length: 20 }, () => tagMessage(sampleTags().find((t) => t.type === 9)!, 1_000_000))));
    await new Promise((r) => setTimeout(r, 300));
    expect(p.rtmp.closed).toBe(false);
    expect(v.inits().length).toBe(inits);
    // 30 different ones in one burst.
    p.rtmp.write(Buffer.concat(Array.from({ length: 30 }, (_, i) => chunked(6, 9, 1, 1_000_000, avcSequenceHeader(i + 1), 4096))));
    expect(await p.rtmp.closedWithin(2_000)).toBe(true);
    expect(await errors('RTMP_HEADER_STORM')).toBe(before + 1);
    expect(v.inits().length).toBeLessThanOrEqual(inits + 1);
    await healthyAdvances();
    expectHealthy();
  });

  // Finding 9: a 4 MiB app name was logged whole.
  it('refuses a 4 MiB connect at its header', async () => {
    const before = await errors('RTMP_MESSAGE_TOO_LARGE');
    const c = await session([command(['connect', 1, { app: 'a'.repeat(4 * 1024 * 1024) }], 0, 128)]);
    expect(await c.closedWithin(2_000)).toBe(true);
    expect(await errors('RTMP_MESSAGE_TOO_LARGE')).toBe(before + 1);
  });

  it('closes a connection that sets a chunk size over rtmp.maxChunkSize', async () => {
    const before = await errors('RTMP_BAD_CHUNK_SIZE');
    const c = await session([setChunkSize(0x7fffffff)]);
    expect(await c.closedWithin(2_000)).toBe(true);
    expect(await errors('RTMP_BAD_CHUNK_SIZE')).toBe(before + 1);
  });

  it('survives random bytes on the RTMP port from many connections at once', async () => {
    const conns = Array.from({ length: 30 }, (_, i) => {
      const s = connect(port(), '127.0.0.1');
      s.on('error', () => {});
      s.on('connect', () => {
        const junk = Buffer.alloc(4096);
        for (let j = 0; j < junk.length; j++) junk[j] = (j * 131 + i * 17) & 0xff;
        junk[0] = 3;
        s.write(junk);
      });
      cleanup.push(() => s.destroy());
      return s;
    });
    await new Promise((r) => setTimeout(r, 500));
    for (const s of conns) s.destroy();
    await healthyAdvances();
    expectHealthy();
  });
});

describe('a hostile viewer or client', () => {
  // Finding 5: 999 viewers of unpublished names filled limits.maxStreams and a publisher was refused.
  it('cannot lock publishers out by waiting on more names than limits.maxStreams', async () => {
    const waiters = await Promise.all(Array.from({ length: 25 }, (_, i) => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(n.ws(`nobody-${i}`));
      cleanup.push(() => ws.terminate());
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    })));
    expect(waiters).toHaveLength(25);
    const p = new ReplayPublisher(port(), 'after-waiters');
    cleanup.push(() => p.stop());
    await p.rtmp.until(() => p.admitted, 3_000, 'a publisher past 25 waited-on names');
    p.stop();
    for (const w of waiters) w.terminate();
    expectHealthy();
  });

  // Finding 7: /metrics and /api/streams listed every stream on the public port.
  it('finds no operations endpoint on the public port, and no waited-on name in its stream list', async () => {
    for (const path of ['/metrics', '/api/streams', '/dashboard']) expect((await fetch(`${n.http}${path}`)).status, path).toBe(404);
    const w = new WebSocket(n.ws('made-up'));
    cleanup.push(() => w.terminate());
    await new Promise((r) => w.once('open', r));
    await new Promise((r) => setTimeout(r, 1_100)); // past the list's 1 s cache
    const list = (await (await fetch(`${n.http}/streams.json`)).json()) as { streams: Array<{ name: string }> };
    expect(list.streams.map((s) => s.name)).toContain('healthy');
    expect(list.streams.map((s) => s.name)).not.toContain('made-up');
    w.terminate();
  });

  // Finding 8: one anonymous viewer added 2·10⁹ stalls to nowcast_qoe_* in 2 s.
  it('cannot add forged stalls to the healthy stream\'s QoE totals', async () => {
    const ws = new WebSocket(n.ws('healthy'));
    cleanup.push(() => ws.terminate());
    await new Promise((r) => ws.once('open', r));
    const report = (stalls: number): string => JSON.stringify({
      type: 'qoe', intervalMs: 1000, startupMs: 100, latencyP50Ms: 200, latencyP95Ms: 210, latencyP99Ms: 220, latencyMs: 200,
      targetMs: 200, stalls, stallMs: stalls, rateChanges: 0, jumps: 0, droppedFrames: 0, rate: 1, policy: 'nowcast', pinned: false, clockOffsetMs: 0,
    });
    const { implausible, rejected } = n.app.relay.qoeTotals;
    // A plausible start, a total that goes down (which restarted the delta before), 2·10⁹, down again.
    for (const stalls of [3, 0, 2e9, 1]) {
      ws.send(report(stalls));
      await new Promise((r) => setTimeout(r, 1_050));
    }
    expect(n.app.relay.qoeTotals.implausible).toBe(implausible + 2);
    expect(n.app.relay.qoeTotals.rejected).toBe(rejected + 1);
    const text = await n.app.metrics!.registry.getSingleMetricAsString('nowcast_qoe_stalls_total');
    const healthyStalls = Number(/nowcast_qoe_stalls_total\{stream="healthy"\} (\S+)/.exec(text)?.[1] ?? 0);
    expect(healthyStalls).toBeLessThanOrEqual(3);
    ws.terminate();
    expectHealthy();
  });
});
