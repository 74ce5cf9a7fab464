// A viewer that stops reading, with the slow-viewer sweep effectively off, reaches the hard cap
// (relay.maxBackpressureBytes) and is closed: /metrics counts it as a backpressure close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';

let n: Running;
let pub: Publisher;

beforeAll(async () => {
  n = await startNowcast({
    relay: { sweepIntervalMs: 600_000, maxBackpressureBytes: 512 * 1024, slowViewerBytes: 256 * 1024, resumeBytes: 64 * 1024, maxGopCacheBytes: 384 * 1024 },
    // The largest chunk must fit the small cap (config-validate.ts).
    remux: { maxBoxBytes: 256 * 1024 },
    rtmp: { maxMessageBytes: 256 * 1024 },
  });
  pub = new Publisher({ url: n.rtmp('cap'), width: 320, height: 240, videoKbps: 6000, cbr: true });
});

afterAll(async () => {
  await pub?.stop();
  n?.app.close();
});

describe('a viewer at the backpressure cap', () => {
  it('is closed and counted as nowcast_backpressure_events_total{action="close"}', async () => {
    const healthy = new Viewer(n.ws('cap'));
    const stuck = new Viewer(n.ws('cap'));
    await stuck.until(() => stuck.chunks().length >= 10, 20_000, 'the viewers playing');
    (stuck.ws as unknown as { _socket: Socket })._socket.pause();
    await stuck.until(() => n.app.relay.closedAtCap > 0, 30_000, 'the relay to close the stuck viewer');
    await stuck.until(() => n.app.relay.stream('cap')!.viewerCount === 1, 5_000, 'the relay to drop the closed viewer');
    const text = await (await fetch(`${n.ops}/metrics`)).text();
    expect(text).toContain('nowcast_backpressure_events_total{action="close"} 1');
    expect(text).toContain('nowcast_viewers{stream="cap"} 1');
    expect(healthy.closed).toBe(false);
    healthy.close();
  });
});
