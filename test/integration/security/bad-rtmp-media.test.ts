// Unusable media inside an RTMP publish (a malformed H.264 tag, sent by a raw RTMP publisher
// among real tags) fails that one stream with a clear error; the in-process remux starts over
// from the next keyframe, and another stream keeps playing throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';
import { parse, value } from '../../helpers/prom.js';
import type { StateMessage } from '../../../protocol/messages.js';

import { ReplayPublisher } from '../../helpers/replay-publisher.js';
import { chunked } from '../../helpers/rtmp-client.js';

let n: Running;
const pubs: Publisher[] = [];
const raw: ReplayPublisher[] = [];
const viewers: Viewer[] = [];

beforeAll(async () => {
  n = await startNowcast({ remux: { restartDelayMs: 100, maxRestartDelayMs: 400 } });
});

afterAll(async () => {
  for (const v of viewers) v.close();
  await Promise.all(pubs.map((p) => p.stop()));
  for (const r of raw) r.stop();
  n?.app.close();
});

describe('an RTMP publish carrying a malformed H.264 tag', () => {
  it('is marked failed with FLV_BAD_TAG, resumes at a keyframe as a new generation, and another stream keeps playing', async () => {
    const bad = new Viewer(n.ws('badtag'));
    const good = new Viewer(n.ws('goodtag'));
    viewers.push(bad, good);
    await Promise.all([bad.opened, good.opened]);
    const badPub = new ReplayPublisher(Number(new URL(n.rtmp('x')).port), 'badtag');
    raw.push(badPub);
    pubs.push(new Publisher({ url: n.rtmp('goodtag') }));
    await bad.until(() => bad.chunks().length >= 20, 15_000, 'the stream to play');
    await good.until(() => good.chunks().length >= 20, 15_000, 'the other stream to play');

    // An inter-frame AVC tag of 2 bytes (its header alone is 5), between the publisher's real tags.
    badPub.rtmp.write(chunked(6, 9, 1, bad.chunks().at(-1)!.dts * 1000 + 1, Buffer.from([0x27, 0x01])));
    const marked = bad.received.length;
    await bad.until(() => bad.texts('state').some((m) => (m as StateMessage).state === 'error'), 5_000, 'an error state');
    const err = bad.texts('state').find((m) => (m as StateMessage).state === 'error') as StateMessage;
    expect(err.code).toBe('FLV_BAD_TAG');
    expect(err.message).toMatch(/AVC video tag of 2 bytes/);

    // The bad tag sits in the publish's restart cache until the next keyframe replaces it, so
    // the remux starts over, with backoff, until it gets past that keyframe.
    const inits = bad.inits().length;
    await bad.until(() => bad.inits().length > inits && bad.chunks().length >= 40, 10_000, 'a new init and chunks after the restart');
    // Chunks written before the bad tag may still arrive after it was sent: the new generation is
    // what starts at the first init after the error.
    const errAt = bad.received.findIndex((r, i) => i >= marked && r.kind === 'text' && r.msg.type === 'state' && (r.msg as StateMessage).state === 'error');
    const initAt = bad.received.findIndex((r, i) => i > errAt && r.kind === 'binary' && r.unit.kind === 'init');
    const after = bad.received.slice(initAt).find((r) => r.kind === 'binary' && r.unit.kind === 'chunk');
    expect(after?.kind === 'binary' && after.unit.kind === 'chunk' && after.unit.keyframe).toBe(true);
    expect(bad.closed).toBe(false);

    const seqs = good.chunks().map((c) => c.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    expect(good.closed).toBe(false);
    const m = parse(await (await fetch(`${n.ops}/metrics`)).text());
    expect(value(m, 'nowcast_rtmp_remux_restarts_total')).toBeGreaterThanOrEqual(1);
    expect(value(m, 'nowcast_publishers', { protocol: 'rtmp' })).toBe(2);
  });

  it('cuts off a second publisher to a live name before any of its tags reach the viewers', async () => {
    const v = new Viewer(n.ws('taken'));
    viewers.push(v);
    await v.opened;
    pubs.push(new Publisher({ url: n.rtmp('taken'), width: 320, height: 240 }));
    await v.until(() => v.chunks().length >= 20, 15_000, 'the stream to play');
    // Refused at its publish command (NetStream.Publish.BadName); FFmpeg gives up.
    const intruder = new Publisher({ url: n.rtmp('taken'), width: 192, height: 108, durationS: 5 });
    pubs.push(intruder);
    await intruder.exited;
    const from = v.chunks().length;
    await v.until(() => v.chunks().length >= from + 30, 10_000, '30 more chunks');
    expect(v.inits()).toHaveLength(1);
    expect(v.inits()[0]!.tracks.find((t) => t.kind === 'video')).toMatchObject({ width: 320, height: 240 });
    const seqs = v.chunks().map((c) => c.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
  });
});
