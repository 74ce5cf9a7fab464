// Slow viewers: a viewer that stops reading skips to the next keyframe and resumes there,
// while a healthy viewer of the same stream gets every chunk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { Viewer } from '../helpers/viewer.js';
import type { SkipMessage } from '../../protocol/messages.js';
import type { Socket } from 'node:net';

let n: Running;
let pub: Publisher;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  n = await startNowcast({ relay: { slowViewerBytes: 256 * 1024, resumeBytes: 16 * 1024, maxBackpressureBytes: 16 * 1024 * 1024 } });
  // 8 Mb/s CBR: loopback TCP buffers hold megabytes, and this fills them in seconds.
  pub = new Publisher({ url: n.rtmp('slow'), width: 640, height: 360, videoKbps: 8000, cbr: true });
});

afterAll(async () => {
  await pub?.stop();
  n?.app.close();
});

describe('a slow viewer', () => {
  it('skips a slow viewer and resumes it at a keyframe with a skip message, while a healthy viewer misses nothing', async () => {
    const healthy = new Viewer(n.ws('slow'));
    const slow = new Viewer(n.ws('slow'));
    await slow.until(() => slow.chunks().length >= 30 && healthy.chunks().length >= 30, 20_000, 'both viewers playing');

    // Stop reading: the kernel buffers fill, then the relay's send buffer grows past its limit.
    const sock = (slow.ws as unknown as { _socket: Socket })._socket;
    sock.pause();
    const stream = n.app.relay.stream('slow')!;
    const end = Date.now() + 30_000;
    while (stream.counters.skips === 0 && Date.now() < end) await sleep(100);
    expect(stream.counters.skips).toBe(1);
    await sleep(1_500);
    sock.resume();

    await slow.until(() => slow.texts('skip').length >= 1, 15_000, 'a skip message');
    const skip = slow.texts('skip')[0] as SkipMessage;
    expect(skip.chunks).toBeGreaterThan(0);
    expect(skip.bytes).toBeGreaterThan(0);
    // The first chunk after the skip notice is a keyframe, and the viewer is live again.
    const at = slow.received.findIndex((r) => r.kind === 'text' && r.msg.type === 'skip');
    const next = slow.received.slice(at + 1).find((r) => r.kind === 'binary');
    expect(next?.kind === 'binary' && next.unit.kind === 'chunk' && next.unit.keyframe).toBe(true);
    const before = slow.chunks().length;
    await slow.until(() => slow.chunks().length >= before + 30, 10_000, 'chunks after resuming');
    const seqs = slow.chunks().map((c) => c.seq);
    expect(seqs.some((s, i) => i > 0 && s - seqs[i - 1]! > 1)).toBe(true); // it really skipped

    // The healthy viewer got every chunk, in order, with no gap.
    const h = healthy.chunks().map((c) => c.seq);
    for (let i = 1; i < h.length; i++) expect(h[i]).toBe(h[i - 1]! + 1);
    expect(healthy.texts('skip')).toHaveLength(0);
    // The drop policy acted long before the hard cap that would have disconnected it.
    expect(slow.closed).toBe(false);
    healthy.close();
    slow.close();
  });
});
