// Hostile and broken input on every port: random bytes, truncated handshakes and many
// half-open connections. The process keeps serving, a healthy viewer misses nothing, memory
// stays bounded, and each port still works for a real client afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';
import type { InfoMessage } from '../../../protocol/messages.js';

let n: Running;
const pubs: Publisher[] = [];
const sockets: Socket[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => { /* the server may reset us: that's its right */ });
    s.once('error', reject);
    sockets.push(s);
  });
}

beforeAll(async () => {
  n = await startNowcast({ srtStreams: ['srtgood', 'srtbad'] });
  pubs.push(new Publisher({ url: n.rtmp('good') }));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(pubs.map((p) => p.stop()));
  n?.app.close();
});

describe('hostile input on the ports', () => {
  it('keeps serving a healthy viewer through garbage on the RTMP, SRT and HTTP ports and a thousand half-open connections', async () => {
    const viewer = new Viewer(n.ws('good'));
    await viewer.until(() => viewer.chunks().length >= 30, 20_000, 'the healthy stream');
    const rss0 = process.memoryUsage().rss;
    const rtmpPort = n.app.rtmpPort;
    const httpPort = n.app.httpPort;

    // RTMP: random bytes, a C0 with a bad version, a handshake cut short and held open.
    for (let i = 0; i < 10; i++) (await tcp(rtmpPort)).write(randomBytes(64 * 1024));
    (await tcp(rtmpPort)).write(Buffer.from([0x09, ...randomBytes(1536)]));
    (await tcp(rtmpPort)).write(Buffer.from([0x03, ...randomBytes(700)]));
    // SRT: random datagrams at the listener.
    const udp = createSocket('udp4');
    for (let i = 0; i < 500; i++) udp.send(randomBytes(1316), n.srtPorts[0]!, '127.0.0.1');
    // HTTP: random bytes, a request line that never ends, and half-open WebSocket upgrades.
    for (let i = 0; i < 10; i++) (await tcp(httpPort)).write(randomBytes(16 * 1024));
    const half: Socket[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = await tcp(httpPort);
      s.write(i % 2 ? 'GET /live/good HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n' : 'GET /live/go');
      half.push(s);
    }
    await sleep(3_000);
    udp.close();

    // The healthy viewer missed nothing while all that was going on.
    const seqs = viewer.chunks().map((c) => c.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    expect(viewer.closed).toBe(false);
    expect((await fetch(`${n.http}/livez`)).status).toBe(200);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(150 * 1024 * 1024);
    for (const s of half) s.destroy();

    // Each port still works for a real client.
    const late = new Viewer(n.ws('good'));
    await late.until(() => late.chunks().length >= 5, 5_000, 'a new viewer');
    const srtViewer = new Viewer(n.ws('srtgood'));
    pubs.push(new Publisher({ url: n.srt(n.srtPorts[0]!), format: 'mpegts' }));
    await srtViewer.until(() => srtViewer.chunks().length >= 10, 20_000, 'an SRT publisher after the garbage');
    expect((srtViewer.texts('info')[0] as InfoMessage).codecs).toMatch(/^avc1/);
    pubs.push(new Publisher({ url: n.rtmp('after') }));
    const after = new Viewer(n.ws('after'));
    await after.until(() => after.chunks().length >= 10, 20_000, 'an RTMP publisher after the garbage');
    for (const v of [viewer, late, srtViewer, after]) v.close();
  });

  it('survives a publisher sending malformed MPEG-TS over SRT: its caller ends with no media out, and the next publisher goes live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nowcast-badts-'));
    const file = join(dir, 'garbage.ts');
    const junk = randomBytes(188 * 2000);
    for (let i = 0; i < junk.length; i += 188) junk[i] = 0x47; // TS sync bytes, garbage inside
    writeFileSync(file, junk);
    const publishes = n.app.ingest.counters.publishes;
    const bad = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'quiet', '-re', '-f', 'data', '-i', file, '-map', '0', '-c', 'copy', '-f', 'data', n.srt(n.srtPorts[1]!)], { stdio: 'ignore' });
    await new Promise((r) => bad.once('exit', r));
    const v = new Viewer(n.ws('srtbad'));
    await v.until(() => n.app.ingest.counters.publishes > publishes && !n.app.ingest.publishers().some((p) => p.stream === 'srtbad'), 10_000, 'the malformed caller to be gone');
    expect(v.chunks()).toHaveLength(0);
    pubs.push(new Publisher({ url: n.srt(n.srtPorts[1]!), format: 'mpegts' }));
    await v.until(() => v.chunks().length >= 10, 20_000, 'a real publisher after the malformed one');
    v.close();
  });
});
