// Acknowledgements bound the media in flight to a viewer whatever the kernel buffers: two
// viewers of a real 2 Mbit/s stream behind the same slow link (1 Mbit/s, a user-space proxy
// that reads from the relay only as fast as it delivers), with Linux's default socket buffers.
// The one that acks is stopped by the relay within ~1 s of media and resumed at keyframes; the
// one that does not ack (today's byte rule) falls further behind every second, its backlog
// hidden in the kernel where getBufferedAmount() cannot see it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { Viewer } from '../helpers/viewer.js';
import { SlowLink } from '../helpers/slow-link.js';
import { ACK_INTERVAL_MS, type InfoMessage } from '../../protocol/messages.js';

let n: Running;
let pub: Publisher;
const links: SlowLink[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const STREAM_KBPS = 2000;
const LINK_BYTES_PER_S = (STREAM_KBPS * 1000) / 8 / 2;

beforeAll(async () => {
  n = await startNowcast({});
  pub = new Publisher({ url: n.rtmp('acks'), width: 640, height: 360, videoKbps: STREAM_KBPS, cbr: true, durationS: 120 });
});

afterAll(async () => {
  for (const l of links) l.close();
  await pub?.stop();
  n?.app.close();
});

/** A viewer behind its own slow link; `acks`: it acknowledges the newest chunk as often as the player does. */
async function slowViewer(acks: boolean): Promise<{ v: Viewer; lagMs: () => number; stop: () => void }> {
  const link = new SlowLink({ target: { host: '127.0.0.1', port: n.app.httpPort }, bytesPerSecond: LINK_BYTES_PER_S });
  links.push(link);
  await link.listen();
  const v = new Viewer(`ws://127.0.0.1:${link.port}/live/acks`);
  const timer = setInterval(() => {
    const info = v.texts('info').at(-1) as InfoMessage | undefined;
    const last = v.chunks().at(-1);
    if (acks && info && last && v.ws.readyState === 1) v.ws.send(JSON.stringify({ type: 'ack', g: info.generation, seq: last.seq }));
  }, ACK_INTERVAL_MS);
  // How far behind the publisher the newest chunk received is (prft: when the relay's muxer wrote it).
  const lagMs = (): number => {
    const last = v.chunks().at(-1);
    return last?.prftMs ? Date.now() - last.prftMs : Infinity;
  };
  return { v, lagMs, stop: () => { clearInterval(timer); v.close(); } };
}

describe('acknowledgements with Linux default kernel buffers', () => {
  it('bound the media in flight to a viewer on a link at half the stream\'s rate, while a viewer that does not ack falls ever further behind', async () => {
    const wmem = readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/).map(Number);
    expect(wmem[2]).toBeGreaterThanOrEqual(4 * 1024 * 1024); // Linux's default: the kernel may hold megabytes
    const acking = await slowViewer(true);
    const silent = await slowViewer(false);
    await acking.v.until(() => acking.v.chunks().length > 0 && silent.v.chunks().length > 0, 30_000, 'both viewers receiving');
    const lags: number[] = [];
    let worstSilent = 0;
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      await sleep(250);
      lags.push(acking.lagMs());
      worstSilent = Math.max(worstSilent, silent.lagMs());
    }
    const skips = n.app.relay.skipsByRule;
    const tail = lags.slice(lags.length / 2);
    acking.stop();
    silent.stop();
    // The relay stopped the acking viewer by its acks, and resumed it at keyframes (skip messages).
    expect(skips.ack).toBeGreaterThanOrEqual(1);
    expect(acking.v.texts('skip').length).toBeGreaterThanOrEqual(1);
    // What it receives stays near live: 1 s of media in flight takes ~2 s to cross this link,
    // plus the proxy's queue and a keyframe interval; without the bound it would be ~10 s by now.
    expect(Math.max(...tail)).toBeLessThan(4_500);
    // The viewer that does not ack: its backlog sits in kernel buffers the byte rule cannot see.
    expect(silent.v.texts('skip')).toHaveLength(0);
    expect(worstSilent).toBeGreaterThan(7_000);
  }, 90_000);
});
