// The RTMP attackers of the abuse bench, one loop per finding of issue 20: crash packets,
// hijack attempts, memory before connect, refused publishers, header storms, a 4 MiB app name,
// garbage bytes. Each connection's ending is tallied: the server's reply (onStatus / _error
// code), whether the server closed it, or that it was refused before the handshake.
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { RawRtmp, chunked, command, publishCommands, setChunkSize, avcSequenceHeader, hugeDeclarations } from '../../test/helpers/rtmp-client.js';
import { ReplayPublisher, sampleTags, tagMessage } from '../../test/helpers/replay-publisher.js';
import { encodeAmf0 } from '../../ingest/rtmp/amf0.js';
import { attackLoop, frameKind, sleep, tally, type Tallies } from './lib.js';

export interface AttackContext {
  rtmpPort: number;
  httpPort: number;
  opsPort: number;
  endAt: number;
  t: Tallies;
}

const hello = (o: Record<string, string> = { app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }): Buffer => command(['connect', 1, o]);
const upToPublish = (): Buffer => Buffer.concat([hello(), command(['createStream', 2, null])]);
const tags = (n: number): Buffer[] => sampleTags().slice(0, n).map((t) => tagMessage(t));

/**
 * One raw session: handshake (unless `raw`), send `bytes`, wait up to `waitMs` for the server
 * to close. Returns how it ended.
 */
async function session(port: number, bytes: Buffer[], o: { raw?: boolean; waitMs?: number } = {}): Promise<string> {
  const c = new RawRtmp(port);
  try {
    if (o.raw) {
      const ok = await Promise.race([c.connected.then(() => true), c.done.then(() => false), sleep(3_000).then(() => false)]);
      if (!ok) return 'no TCP connection';
    } else {
      const hs = c.handshake().then(() => 'ok', () => 'timeout');
      const r = await Promise.race([hs, c.done.then(() => 'closed')]);
      if (r !== 'ok') return r === 'closed' ? 'closed before handshake (connection cap)' : 'handshake timed out';
    }
    for (const b of bytes) c.write(b);
    const closed = await c.closedWithin(o.waitMs ?? 3_000);
    const codes = c.statusCodes();
    const reply = codes.length ? codes.join('+') : 'no status';
    return closed ? `${reply}, closed by server` : `${reply}, still open (closed by us)`;
  } finally {
    c.destroy();
  }
}

/** (1) The packets that stopped node-media-server, round-robin. */
export function crashPackets(x: AttackContext): Promise<void> {
  const variants: Array<[string, () => Buffer[]]> = [
    ['connect without tcUrl', () => [hello({ app: 'live' }), command(['createStream', 2, null]), command(['publish', 3, null, 'abuse-notcurl', 'live'], 1)]],
    ['zero-length control', () => [chunked(2, 1, 0, 0, Buffer.alloc(0))]],
    ['zero-length video', () => [upToPublish(), command(['publish', 3, null, 'abuse-zerovideo', 'live'], 1), chunked(6, 9, 1, 0, Buffer.alloc(0))]],
    ['truncated AMF0', () => [chunked(3, 20, 0, 0, encodeAmf0(['connect', 1]).subarray(0, 12))]],
    ['unknown AMF0 marker', () => [chunked(3, 20, 0, 0, Buffer.concat([encodeAmf0(['connect', 1]), Buffer.from([0x0d, 0, 0])]))]],
    ['publish name not a string', () => [upToPublish(), command(['publish', 3, null, 42, 'live'], 1)]],
    ['publish name > 64 KB', () => [upToPublish(), command(['publish', 3, null, 'a'.repeat(70_000), 'live'], 1, 4096)]],
  ];
  return attackLoop(x.t, 'crash packets', { endAt: x.endAt, maxIterations: 5_000, concurrency: 2, pauseMs: 20 }, async (i) => {
    const [name, bytes] = variants[i % variants.length]!;
    // An admitted publish (connect without tcUrl is legal) stays open until we close it.
    return `${name}: ${await session(x.rtmpPort, bytes(), { waitMs: i % variants.length === 0 ? 500 : 3_000 })}`;
  });
}

/** (2) A second publish of `healthy` with tags in the same write; a play session that sends media. */
export function hijacks(x: AttackContext): Promise<void> {
  return attackLoop(x.t, 'hijack', { endAt: x.endAt, maxIterations: 2_000, concurrency: 1, pauseMs: 50 }, async (i) => {
    if (i % 2 === 0) return `publish healthy + tags: ${await session(x.rtmpPort, [setChunkSize(4096), publishCommands('live', 'healthy', 4096), ...tags(40)])}`;
    return `play healthy + media: ${await session(x.rtmpPort, [setChunkSize(4096), hello(), command(['createStream', 2, null], 0, 4096), command(['play', 3, null, 'healthy'], 1, 4096), ...tags(40)])}`;
  });
}

/** (3a) 16 chunk streams declaring 16 MB messages each, 2 KB sent. */
export function declaredHuge(x: AttackContext): Promise<void> {
  const headers = hugeDeclarations();
  return attackLoop(x.t, '16 × 16 MB declared', { endAt: x.endAt, maxIterations: 5_000, concurrency: 2, pauseMs: 20 }, () => session(x.rtmpPort, headers));
}

/**
 * (3b) 300 idle half-open connections held until the server closes them, then again after a
 * pause. Rounds are bounded; each socket's ending is tallied.
 */
export async function idleHolders(x: AttackContext, n = 300): Promise<void> {
  for (let round = 0; round < 100 && Date.now() < x.endAt; round++) {
    const t0 = Date.now();
    const ends = await Promise.all(Array.from({ length: n }, () => new Promise<string>((resolve) => {
      const s: Socket = connect(x.rtmpPort, '127.0.0.1');
      let connected = false;
      // Half-open: a few handshake bytes, then nothing.
      s.on('connect', () => { connected = true; s.write(Buffer.from([3, 0, 0, 0])); });
      s.on('error', () => { /* the close handler says how it ended */ });
      const cap = setTimeout(() => { s.destroy(); resolve('still open after 15 s (closed by us)'); }, Math.min(15_000, Math.max(1_000, x.endAt - Date.now() + 1_000)));
      s.on('close', () => {
        clearTimeout(cap);
        const held = Date.now() - t0;
        resolve(!connected ? 'no TCP connection' : held < 1_000 ? 'closed by server at once (connection cap)' : `closed by server after ${Math.round(held / 1000)} s (handshake timeout)`);
      });
    })));
    for (const e of ends) tally(x.t, '300 idle half-open', e);
    await sleep(2_000);
  }
}

/** (3c) A handshake, then 4 KiB of random bytes. */
export function garbageAfterHandshake(x: AttackContext): Promise<void> {
  return attackLoop(x.t, 'garbage after handshake', { endAt: x.endAt, maxIterations: 5_000, concurrency: 2, pauseMs: 20 }, () => session(x.rtmpPort, [randomBytes(4096)]));
}

/** (4) A refused publisher (wrong app, then an invalid name) that sends media anyway and reconnects at once. */
export function refusedReconnecting(x: AttackContext): Promise<void> {
  return attackLoop(x.t, 'refused publisher reconnecting', { endAt: x.endAt, maxIterations: 5_000, concurrency: 2, pauseMs: 0 }, async (i) => {
    if (i % 2 === 0) return `wrong app: ${await session(x.rtmpPort, [setChunkSize(4096), publishCommands('other', 'healthy', 4096), ...tags(20)])}`;
    return `bad name: ${await session(x.rtmpPort, [setChunkSize(4096), publishCommands('live', '../healthy', 4096), ...tags(20)])}`;
  });
}

/**
 * (6) A publisher of `storm` that, once live, sends 30 changed AVC sequence headers in one
 * burst; repeated. A viewer of `storm` counts the init segments it gets.
 */
export async function headerStorm(x: AttackContext): Promise<{ stormViewerInits: number; bursts: number }> {
  const seen = { inits: 0 };
  const v = new WebSocket(`ws://127.0.0.1:${x.httpPort}/live/storm`);
  v.on('error', () => { /* the viewer is a witness only */ });
  v.on('message', (d: Buffer, bin: boolean) => { if (bin && frameKind(d).kind === 'init') seen.inits++; });
  let bursts = 0;
  await attackLoop(x.t, 'header storm', { endAt: x.endAt, maxIterations: 500, concurrency: 1, pauseMs: 300 }, async () => {
    const p = new ReplayPublisher(x.rtmpPort, 'storm');
    try {
      const until = Date.now() + 4_000;
      while (!p.admitted && !p.rtmp.closed && Date.now() < until) await sleep(20);
      if (!p.admitted) return `not admitted: ${p.rtmp.statusCodes().join('+') || (p.rtmp.closed ? 'closed (connection cap?)' : 'no answer')}`;
      await sleep(1_200);
      bursts++;
      p.rtmp.write(Buffer.concat(Array.from({ length: 30 }, (_, i) => chunked(6, 9, 1, 1_000_000, avcSequenceHeader(((bursts * 30 + i) % 126) + 1), 4096))));
      return (await p.rtmp.closedWithin(3_000)) ? '30 changed headers: closed by server' : '30 changed headers: still open (closed by us)';
    } finally {
      p.stop();
    }
  });
  v.terminate();
  return { stormViewerInits: seen.inits, bursts };
}

/** (9) A connect whose app name is 4 MiB. */
export function hugeApp(x: AttackContext): Promise<void> {
  const big = command(['connect', 1, { app: 'a'.repeat(4 * 1024 * 1024) }], 0, 128);
  return attackLoop(x.t, '4 MiB app name', { endAt: x.endAt, maxIterations: 1_000, concurrency: 1, pauseMs: 200 }, () => session(x.rtmpPort, [big]));
}

/** (10) Random bytes from the first byte on (no handshake). */
export function garbage(x: AttackContext): Promise<void> {
  return attackLoop(x.t, 'random bytes', { endAt: x.endAt, maxIterations: 5_000, concurrency: 2, pauseMs: 20 }, () => session(x.rtmpPort, [randomBytes(8192)], { raw: true }));
}
