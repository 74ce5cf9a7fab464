// An SRT caller behind a network cut: a caller in a network namespace of its own (a veth pair,
// its own address) publishes, the link goes down, and its stream is freed after srt.idleTimeoutMs
// so that a new caller publishes the name. Needs root (ip netns); skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../../app/config.js';
import { Nowcast } from '../../../app/nowcast.js';
import { createRootLogger } from '../../../util/log.js';
import { freeTcpPort, freeUdpPort } from '../../helpers/ports.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';

const root = process.getuid?.() === 0;
const NS = `ncsrt${process.pid}`;
const HOST_IF = `ncs${process.pid % 100000}a`;
const NS_IF = `ncs${process.pid % 100000}b`;
const HOST_IP = '10.231.7.1';
const NS_IP = '10.231.7.2';
const KEY = 'netcut-key-0123456789';
const ip = (...args: string[]): void => { execFileSync('ip', args, { stdio: 'ignore' }); };

let app: Nowcast | undefined;
let srtPort = 0;
let httpPort = 0;
const pubs: Publisher[] = [];
const viewers: Viewer[] = [];

beforeAll(async () => {
  if (!root) return;
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
  ip('link', 'set', NS_IF, 'netns', NS);
  ip('addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF);
  ip('link', 'set', HOST_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_IP}/24`, 'dev', NS_IF);
  ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
  srtPort = await freeUdpPort();
  const cfg = loadConfig({
    host: '0.0.0.0', http: { port: 0 }, ops: { port: 0 }, rtmp: { port: await freeTcpPort() },
    srt: { listeners: [{ port: srtPort, stream: 'netcutdefault' }], latencyMs: 40, idleTimeoutMs: 2000 },
    security: { publishKeys: [{ stream: 'cut', key: KEY }] },
  }, {});
  app = await new Nowcast(cfg, createRootLogger(process.env.NOWCAST_TEST_LOG ?? 'silent')).start();
  httpPort = app.httpPort;
});

afterAll(async () => {
  for (const v of viewers) v.close();
  await Promise.all(pubs.map((p) => p.stop()));
  app?.close();
  if (!root) return;
  try { ip('link', 'del', HOST_IF); } catch { /* gone with the namespace */ }
  try { ip('netns', 'del', NS); } catch { /* never made */ }
});

describe.skipIf(!root)('an SRT caller behind a network cut', () => {
  it('frees its stream once the caller is silent, and a new caller publishes the name', async () => {
    const url = (host: string): string => `srt://${host}:${srtPort}?mode=caller&latency=40000&pkt_size=1316&streamid=${encodeURIComponent(`#!::r=cut,m=publish,s=${KEY}`)}`;
    const v = new Viewer(`ws://127.0.0.1:${httpPort}/live/cut`);
    viewers.push(v);
    await v.opened;
    pubs.push(new Publisher({ url: url(HOST_IP), format: 'mpegts', width: 256, height: 144, prefix: ['ip', 'netns', 'exec', NS] }));
    await v.until(() => v.chunks().length >= 15, 30_000, 'the caller in the namespace');
    expect(app!.ingest.publishers().filter((p) => p.stream === 'cut')).toHaveLength(1);
    // Anonymous from outside loopback: refused in the handshake.
    const anon = new Publisher({ url: `srt://${HOST_IP}:${srtPort}?mode=caller&streamid=publish:anon`, format: 'mpegts', prefix: ['ip', 'netns', 'exec', NS] });
    pubs.push(anon);
    expect(await anon.exited).not.toBe(0);
    expect(app!.ingest.errors.get('srt', 'PUBLISH_AUTH_REQUIRED')).toBe(1);

    ip('link', 'set', HOST_IF, 'down');
    const cutAt = Date.now();
    await v.until(() => !app!.ingest.publishers().some((p) => p.stream === 'cut'), 15_000, 'the cut caller to be dropped');
    const inits = v.inits().length;
    pubs.push(new Publisher({ url: url('127.0.0.1'), format: 'mpegts', width: 160, height: 96 }));
    await v.until(() => v.inits().length > inits && v.chunks().at(-1)!.at > cutAt, 30_000, 'a new caller on the name');
  });
});
