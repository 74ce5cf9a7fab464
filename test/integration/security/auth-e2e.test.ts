// Auth and limits end to end, on real sockets: publish keys on RTMP, a passphrase on SRT,
// view tokens and the Origin allowlist on the WebSocket, per-address limits, and abusive
// viewer messages. Every refusal is clear, and nothing else is disturbed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';
import { signToken } from '../../../admission/auth.js';

const SECRET = 'e2e-secret';
let n: Running;
const pubs: Publisher[] = [];
const publish = (o: ConstructorParameters<typeof Publisher>[0]): Publisher => { const p = new Publisher(o); pubs.push(p); return p; };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const inFuture = (): number => Math.floor(Date.now() / 1000) + 600;

/** Opens a WebSocket and resolves with the HTTP status of a refusal, or 101 when it opened. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => { ws.terminate(); resolve(101); });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('error', () => { /* reported through unexpected-response */ });
  });
}

beforeAll(async () => {
  n = await startNowcast({
    srtStreams: ['locked'],
    srt: { listeners: [], passphrase: 'srt-passphrase-1' },
    security: {
      secret: SECRET,
      publishKeys: [{ stream: 'keyed', key: 'k-123' }],
      requirePublishAuth: true,
      requireViewerToken: false,
      allowedOrigins: ['https://shop.example'],
    },
  });
});

afterAll(async () => {
  await Promise.all(pubs.map((p) => p.stop()));
  n?.app.close();
});

const live = async (name: string): Promise<boolean> => {
  const { streams } = (await (await fetch(`${n.ops}/api/streams`)).json()) as { streams: Array<{ name: string; state: string }> };
  return streams.some((s) => s.name === name && s.state === 'live');
};

describe('publish auth', () => {
  it('refuses an RTMP publisher without its key or with a wrong one before any stream appears, and accepts the right key', async () => {
    const noKey = publish({ url: n.rtmp('keyed') });
    const wrong = publish({ url: `${n.rtmp('keyed')}?token=nope` });
    await Promise.race([Promise.all([noKey.exited, wrong.exited]), sleep(5_000)]);
    expect(await live('keyed')).toBe(false);
    publish({ url: `${n.rtmp('keyed')}?token=k-123` });
    const v = new Viewer(n.ws('keyed'));
    await v.until(() => v.chunks().length >= 10, 20_000, 'the keyed stream');
    v.close();
  });

  it('accepts a signed, unexpired publish token for any stream, and refuses one for another stream', async () => {
    publish({ url: `${n.rtmp('other')}?token=${signToken(SECRET, { s: 'tokened', a: 'publish', e: inFuture() })}` });
    await sleep(3_000);
    expect(await live('other')).toBe(false);
    publish({ url: `${n.rtmp('tokened')}?token=${signToken(SECRET, { s: 'tokened', a: 'publish', e: inFuture() })}` });
    const v = new Viewer(n.ws('tokened'));
    await v.until(() => v.chunks().length >= 10, 20_000, 'the tokened stream');
    v.close();
  });

  // The passphrase encrypts; publish auth is the key or token in the streamid, as for RTMP
  // (docs/srt.md). With publish auth required, a caller needs both.
  it('lets an SRT publisher in only with the passphrase and a publish token', async () => {
    const port = n.srtPorts[0]!;
    const token = signToken(SECRET, { s: 'locked', a: 'publish', e: inFuture() });
    const streamid = `&streamid=${encodeURIComponent(`#!::r=locked,m=publish,t=${token}`)}`;
    publish({ url: `${n.srt(port)}${streamid}`, format: 'mpegts' });
    publish({ url: `${n.srt(port)}&passphrase=srt-passphrase-1`, format: 'mpegts' });
    await sleep(3_000);
    expect(await live('locked')).toBe(false);
    publish({ url: `${n.srt(port)}&passphrase=srt-passphrase-1${streamid}`, format: 'mpegts' });
    const v = new Viewer(n.ws('locked'));
    await v.until(() => v.chunks().length >= 10, 20_000, 'the SRT stream with its passphrase');
    v.close();
  });
});

describe('viewer admission', () => {
  it('refuses a browser from another origin with 403 and admits the allowed one and non-browser clients', async () => {
    expect(await upgradeStatus(n.ws('keyed'), { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(n.ws('keyed'), { Origin: 'https://shop.example' })).toBe(101);
    expect(await upgradeStatus(n.ws('keyed'))).toBe(101);
  });

  it('survives floods, binary and oversized messages from a viewer without disturbing another', async () => {
    const healthy = new Viewer(n.ws('keyed'));
    await healthy.until(() => healthy.chunks().length >= 5, 10_000, 'a healthy viewer');
    const rude = new WebSocket(n.ws('keyed'));
    await new Promise((r) => rude.once('open', r));
    for (let i = 0; i < 5_000; i++) rude.send(i % 3 === 0 ? Buffer.from([1, 2, 3]) : i % 3 === 1 ? 'not json' : '{"type":"ping","t0":"x"}');
    rude.send('x'.repeat(n.cfg.relay.maxViewerMessageBytes + 1));
    const closed = await new Promise<number>((r) => rude.once('close', (code) => r(code)));
    expect(closed).toBe(1006); // uWS drops a socket that sends more than maxPayloadLength
    const before = healthy.chunks().length;
    await healthy.until(() => healthy.chunks().length >= before + 30, 10_000, 'the healthy viewer to continue');
    const seqs = healthy.chunks().map((c) => c.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    expect(n.app.relay.badMessages).toBeGreaterThanOrEqual(3_000);
    healthy.close();
  });
});

describe('view tokens and per-address limits', () => {
  it('requires a view token for the stream when configured, and limits viewers per address including loopback when told to', async () => {
    const m = await startNowcastStrict();
    try {
      const url = m.ws('cam');
      expect(await upgradeStatus(url)).toBe(401);
      expect(await upgradeStatus(`${url}?token=${signToken(SECRET, { s: 'other', a: 'view', e: inFuture() })}`)).toBe(401);
      const token = signToken(SECRET, { s: 'cam', a: 'view', e: inFuture() });
      const a = new WebSocket(`${url}?token=${token}`);
      const b = new WebSocket(`${url}?token=${token}`);
      await Promise.all([new Promise((r) => a.once('open', r)), new Promise((r) => b.once('open', r))]);
      expect(await upgradeStatus(`${url}?token=${token}`)).toBe(429);
      a.terminate();
      await sleep(200);
      expect(await upgradeStatus(`${url}?token=${token}`)).toBe(101);
      b.terminate();
    } finally {
      m.app.close();
    }
  });
});

/** A second relay with strict viewer rules. One RTMP ingest per process, so this one has none. */
function startNowcastStrict(): Promise<Running> {
  return startNowcast({
    rtmp: { port: 0 },
    security: { secret: SECRET, requireViewerToken: true },
    limits: { maxViewersPerIp: 2, limitLoopback: true, upgradesPerSecondPerIp: 100 },
  });
}
