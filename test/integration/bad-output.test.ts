// Unusable fMP4 from FFmpeg fails that one stream with a clear error; the process and the
// other streams keep going.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startNowcast, type Running } from '../helpers/nowcast.js';
import { Publisher } from '../helpers/publisher.js';
import { Viewer } from '../helpers/viewer.js';
import type { StateMessage } from '../../protocol/messages.js';

const fakeFfmpeg = fileURLToPath(new URL('../fixtures/ffmpeg-bad-output.sh', import.meta.url));
let n: Running;
const pubs: Publisher[] = [];

beforeAll(async () => {
  // remux.muxer ffmpeg: RTMP publishes go through the (fake) FFmpeg remux too.
  n = await startNowcast({ remux: { muxer: 'ffmpeg', ffmpegPath: fakeFfmpeg, restartDelayMs: 100, maxRestartDelayMs: 400 } });
});

afterAll(async () => {
  await Promise.all(pubs.map((p) => p.stop()));
  n?.app.close();
});

describe('a stream whose remuxer emits malformed fMP4', () => {
  it('is marked failed with the box error, its viewer stays connected, and another stream keeps playing', async () => {
    const bad = new Viewer(n.ws('bad'));
    const good = new Viewer(n.ws('good'));
    await Promise.all([bad.opened, good.opened]);
    pubs.push(new Publisher({ url: n.rtmp('good') }), new Publisher({ url: n.rtmp('bad') }));

    await bad.until(() => bad.texts('state').some((m) => (m as StateMessage).state === 'error'), 15_000, 'an error state');
    const err = bad.texts('state').find((m) => (m as StateMessage).state === 'error') as StateMessage;
    expect(err.code).toBe('FMP4_BOX_TOO_SMALL');
    expect(err.message).toMatch(/FMP4_BOX_TOO_SMALL/);
    expect(bad.chunks()).toHaveLength(0);

    // The supervisor keeps retrying the broken remux; the good stream is unaffected throughout.
    const from = good.chunks().length;
    await good.until(() => good.chunks().length >= from + 60, 15_000, '60 more chunks on the good stream');
    const seqs = good.chunks().map((c) => c.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    expect(bad.closed).toBe(false);
    expect(good.closed).toBe(false);
    bad.close();
    good.close();
  });
});
